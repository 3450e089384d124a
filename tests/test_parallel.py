"""Worker processes: results in input order, an exception or a dead worker fails one item
only, and `--jobs 2` prints exactly what `--jobs 1` prints."""

from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path

import pytest

from lint_mainlayer import api, engine
from lint_mainlayer.cli import main
from lint_mainlayer.parallel import Failed, map_ordered
from lint_mainlayer.types import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# Patched functions reach the workers only when they are forked from this process.
needs_fork = pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="patches reach workers only through fork"
)


def _square_or_fail(n: int) -> int:
    if n == 3:
        raise ValueError("three\nis bad")
    if n == 5:
        os._exit(7)  # a crash in native code looks like this to the pool
    return n * n


def test_results_in_order_and_failures_stay_with_their_item() -> None:
    results = map_ordered(_square_or_fail, list(range(10)), jobs=2)
    assert results[3] == Failed("ValueError: three")
    assert results[5] == Failed("the worker process checking it died")
    assert [r for i, r in enumerate(results) if i not in (3, 5)] == [i * i for i in range(10) if i not in (3, 5)]


def test_nothing_to_do() -> None:
    assert map_ordered(_square_or_fail, [], jobs=4) == []


def _copy_fixtures(target: Path) -> list[str]:
    names = []
    for case in sorted(p for p in FIXTURES.iterdir() if (p / "input.py").exists()):
        shutil.copy(case / "input.py", target / f"{case.name}.py")
        names.append(f"{case.name}.py")
    return names


@pytest.mark.parametrize("argv", [[], ["--format", "json"], ["--diff", "--unsafe-fixes"]], ids=["text", "json", "diff"])
def test_jobs_2_prints_what_jobs_1_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    names = _copy_fixtures(tmp_path)
    (tmp_path / "broken.py").write_text("from transformers import TFBertMainLayer\ndef f(:\n")
    assert len(names) >= api.MIN_FILES_FOR_WORKERS
    outputs = []
    for jobs in ("1", "2"):
        code = main(["--no-cache", "--jobs", jobs, *argv, "."])
        captured = capsys.readouterr()
        outputs.append((code, captured.out, captured.err))
    assert outputs[0] == outputs[1]
    assert outputs[0][2].startswith("broken.py: error: syntax error at 2:7")


def test_jobs_2_fixes_what_jobs_1_fixes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    trees = []
    for jobs in ("1", "2"):
        folder = tmp_path / jobs
        folder.mkdir()
        monkeypatch.chdir(folder)
        _copy_fixtures(folder)
        main(["--no-cache", "--jobs", jobs, "--fix", "."])
        trees.append({p.name: p.read_text() for p in sorted(folder.glob("*.py"))})
    capsys.readouterr()
    assert trees[0] == trees[1]


_real_analyse = engine.analyse


def _crash_on_marker(source: str, settings: Settings | None = None, *, screen: bool = True, project: object = None) -> engine.Analysis:
    if "CRASH" in source:
        os._exit(9)
    return _real_analyse(source, settings, screen=screen)


@needs_fork
def test_a_dead_worker_is_one_files_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    buggy = "from transformers import BertConfig, TFBertMainLayer\nc = BertConfig.from_pretrained('b')\nTFBertMainLayer(c)\n"
    for n in range(5):
        (tmp_path / f"m{n}.py").write_text(buggy + ("# CRASH\n" if n == 2 else ""))
    monkeypatch.setattr(engine, "analyse", _crash_on_marker)
    results = list(api.check_paths([tmp_path], api.Options(jobs=2)))
    assert [Path(r.path).name for r in results] == [f"m{n}.py" for n in range(5)]
    assert results[2].error == "internal error, please report: the worker process checking it died"
    assert all(r.error is None and [d.code for d in r.diagnostics] == ["MLL001"] for i, r in enumerate(results) if i != 2)


def _raise(source: str, settings: Settings | None = None, *, screen: bool = True, project: object = None) -> engine.Analysis:
    raise KeyError("a bug")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_bug_in_the_rules_is_one_files_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    if jobs > 1 and multiprocessing.get_start_method() != "fork":
        pytest.skip("patches reach workers only through fork")
    for n in range(3):
        (tmp_path / f"m{n}.py").write_text("from transformers import TFBertMainLayer\nTFBertMainLayer(c)\n")
    monkeypatch.setattr(engine, "analyse", _raise)
    results = list(api.check_paths([tmp_path], api.Options(jobs=jobs)))
    assert [r.error for r in results] == ["internal error, please report: KeyError: 'a bug'"] * 3
