"""The result cache: entries round-trip, bad entries are ignored, keys separate what must
differ, cached runs print exactly what uncached runs print, fixes are never skipped, and
runs sharing the folder (and an unwritable folder) are safe."""

from __future__ import annotations

import json
import multiprocessing
import os
from dataclasses import asdict
from pathlib import Path

import pytest

from lint_mainlayer import cache, engine
from lint_mainlayer.cache import Entry, ResultCache
from lint_mainlayer.cli import main
from lint_mainlayer.types import Diagnostic, Fix, Settings

BUGGY = (
    "from transformers import BertConfig, TFBertMainLayer\n"
    'config = BertConfig.from_pretrained("bert-base-uncased")\n'
    "bert = TFBertMainLayer(config)\n"
)
FIXED = (
    "from transformers import BertConfig, TFBertModel\n"
    'config = BertConfig.from_pretrained("bert-base-uncased")\n'
    'bert = TFBertModel.from_pretrained("bert-base-uncased", config=config).bert\n'
)
UNSAFE_ONLY = "from transformers import TFBertMainLayer\ndef build(config):\n    return TFBertMainLayer(config)\n"
BROKEN = "from transformers import TFBertMainLayer\ndef f(:\n    TFBertMainLayer(c)\n"

DIAGNOSTIC = Diagnostic(
    "MLL001", "message with “quotes” and 🤗", 3, 8, 3, 31,
    Fix("unsafe", "Load the weights (unsafe: why)", "TFBertModel.from_pretrained(x).bert", 3, 8, 3, 31),
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    (tmp_path / "buggy.py").write_text(BUGGY)
    (tmp_path / "unsafe.py").write_text(UNSAFE_ONLY)
    (tmp_path / "broken.py").write_text(BROKEN)
    (tmp_path / "clean.py").write_text("import os\n")
    return tmp_path


def _no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine ran although the cache holds the result")

    monkeypatch.setattr(engine, "lint_source", fail)
    monkeypatch.setattr(engine, "fix_source", fail)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--jobs", "1", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- the store ---------------------------------------------------------------------------


def test_entries_round_trip(tmp_path: Path) -> None:
    store = ResultCache(tmp_path / "c")
    key = store.key(b"x", Settings())
    assert store.get(key) is None
    for entry in (Entry((DIAGNOSTIC, Diagnostic("MLL002", "m", 1, 1, 1, 2))), Entry(error="syntax error at 1:7"), Entry()):
        store.put(key, entry)
        assert store.get(key) == entry
    assert (tmp_path / "c" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (tmp_path / "c" / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert not [p for p in (tmp_path / "c").rglob("*.tmp")]


def _entry_json(**changes: object) -> bytes:
    return json.dumps({"diagnostics": [{**asdict(DIAGNOSTIC), **changes}], "error": None}).encode()


BAD_ENTRIES = {
    "empty": b"",
    "truncated": _entry_json()[:-5],
    "not an object": b"[]",
    "error not a string": b'{"diagnostics": [], "error": 3}',
    "missing fields": b'{"diagnostics": [{"code": "MLL001"}], "error": null}',
    "line not a number": _entry_json(line="3"),
    "line a boolean": _entry_json(line=True),
    "unknown applicability": _entry_json(fix={**asdict(DIAGNOSTIC.fix or Fix("safe", "", "", 0, 0, 0, 0)), "applicability": "maybe"}),
    "not utf-8": b"\xff\xfe",
}


@pytest.mark.parametrize("content", BAD_ENTRIES.values(), ids=BAD_ENTRIES.keys())
def test_a_bad_entry_is_a_miss(tmp_path: Path, content: bytes) -> None:
    store = ResultCache(tmp_path)
    key = store.key(b"x", Settings())
    store.put(key, Entry((DIAGNOSTIC,)))
    path = next(tmp_path.rglob(f"{key}.json"))
    path.write_bytes(content)
    assert store.get(key) is None


def test_keys_separate_content_settings_and_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    store = ResultCache(Path("unused"))
    base = store.key(b"x", Settings())
    assert store.key(b"x", Settings()) == base
    assert store.key(b"y", Settings()) != base
    assert store.key(b"x", Settings(ignore=frozenset({"MLL001"}))) != base
    assert store.key(b"x", Settings(select=frozenset({"MLL001"}))) != base
    assert store.key(b"x", Settings(target_transformers=(4, 36))) != base
    monkeypatch.setattr(cache, "fingerprint", lambda: "another version")
    assert store.key(b"x", Settings()) != base


def test_fingerprint_follows_the_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An editable install changes rules without changing the version.
    package = tmp_path / "pkg"
    (package / "data").mkdir(parents=True)
    (package / "data" / "main_layers.json").write_text("{}")
    (package / "data" / "models.json").write_text("{}")
    (package / "rules.py").write_text("A = 1\n")
    monkeypatch.setattr(cache, "_PACKAGE", package)
    cache.fingerprint.cache_clear()
    try:
        first = cache.fingerprint()
        (package / "rules.py").write_text("A = 22\n")
        cache.fingerprint.cache_clear()
        second = cache.fingerprint()
        assert second != first
        # The tables count by content, whatever their size and time stamp say.
        table = package / "data" / "models.json"
        before = table.stat()
        table.write_text("[]")
        os.utime(table, ns=(before.st_atime_ns, before.st_mtime_ns))
        cache.fingerprint.cache_clear()
        assert cache.fingerprint() != second
    finally:
        cache.fingerprint.cache_clear()


def test_an_unwritable_folder_costs_nothing_but_speed(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    store = ResultCache(tmp_path / "file" / "cache")
    key = store.key(b"x", Settings())
    store.put(key, Entry())
    store.put(key, Entry())
    assert store.get(key) is None


def _hammer(directory: str, seed: int) -> int:
    store = ResultCache(Path(directory))
    keys = [store.key(bytes([n]), Settings()) for n in range(8)]
    entries = [Entry((DIAGNOSTIC,) * n) for n in range(8)]
    bad = 0
    for step in range(300):
        n = (step * (seed + 3)) % 8
        store.put(keys[n], entries[n])
        got = store.get(keys[(n + 1) % 8])
        if got is not None and got != entries[(n + 1) % 8]:
            bad += 1
    return bad


def test_runs_sharing_the_folder_never_read_half_an_entry(tmp_path: Path) -> None:
    with multiprocessing.get_context().Pool(3) as pool:
        assert pool.starmap(_hammer, [(str(tmp_path), seed) for seed in range(3)]) == [0, 0, 0]


# -- through the command line ------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [[], ["--format", "json"], ["--show-source"], ["--select", "MLL002"], ["--diff", "--unsafe-fixes"]],
    ids=["text", "json", "show-source", "select", "diff"],
)
def test_a_cached_run_prints_what_an_uncached_run_prints(
    project: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = ["buggy.py", "unsafe.py", "broken.py", "clean.py"]
    uncached = _run(["--no-cache", *argv, *files], capsys)
    assert not (project / cache.DIRECTORY_NAME).exists()
    assert _run([*argv, *files], capsys) == uncached
    assert (project / cache.DIRECTORY_NAME / ".gitignore").exists()
    if "--diff" not in argv:
        _no_engine(monkeypatch)
    assert _run([*argv, *files], capsys) == uncached


def test_fix_is_never_skipped_for_a_cached_fixable_finding(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["buggy.py", "unsafe.py"], capsys)[0] == 1
    code, out, _ = _run(["--fix", "buggy.py", "unsafe.py"], capsys)
    assert (project / "buggy.py").read_text() == FIXED
    assert "Found 2 findings (1 fixed, 1 remaining)." in out
    # The fixed content and the unsafe-only file are cached: neither needs the engine now.
    _no_engine(monkeypatch)
    code, out, _ = _run(["--fix", "buggy.py", "unsafe.py"], capsys)
    assert "Found 1 finding.\nNo fixes available (1 hidden fix can be enabled" in out
    code, out, _ = _run(["buggy.py"], capsys)
    assert code == 0 and "No findings." in out


def test_cached_errors_are_reported_again(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    first = _run(["broken.py"], capsys)
    assert first[0] == 2 and "broken.py: error: syntax error at 2:7" in first[2]
    _no_engine(monkeypatch)
    assert _run(["broken.py"], capsys) == first


def test_cache_dir_option_and_default_in_the_project_root(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run(["--cache-dir", "elsewhere", "buggy.py"], capsys)
    assert list((project / "elsewhere").rglob("*.json"))
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (project / "sub").mkdir()
    os.chdir(project / "sub")
    _run(["../buggy.py"], capsys)
    assert (project / cache.DIRECTORY_NAME).is_dir() and not (project / "sub" / cache.DIRECTORY_NAME).exists()
    assert cache.default_directory(project / "sub") == project / cache.DIRECTORY_NAME


def test_help_documents_the_speed_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--jobs", "--no-cache", "--cache-dir"):
        assert option in out
