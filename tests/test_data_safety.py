"""`--fix` never loses a user's file: failing writes, kills, symlinks, modes, concurrent
runs and encodings.

What `--fix` guarantees (README, "Safety"): the file holds either its old bytes or its new
ones, never a mix; a write that fails leaves the old bytes and no temporary file; a file that
changed since it was read, that is read-only, or whose coding cannot be honoured is left
alone with an error; only the files it fixes are written.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lint_mainlayer import api, writer
from lint_mainlayer.cli import main
from lint_mainlayer.config import for_directory
from lint_mainlayer.source import EncodeError, decode, encode
from lint_mainlayer.types import Settings
from lint_mainlayer.writer import ChangedOnDisk, remove_stale_temporaries, write_atomic
from tests.safety_support import BUGGY, FIXED, fixed, no_traceback, run_cli

if TYPE_CHECKING:
    from typing_extensions import Self

# Subclass of a pretrained model: MLL003 renames the layer, MLL004 adds a build().
SUBCLASS = """\
from transformers import TFBertMainLayer, TFBertPreTrainedModel


class Classifier(TFBertPreTrainedModel):
    def __init__(self, config, *inputs, **kwargs):
        super().__init__(config, *inputs, **kwargs)
        self.encoder = TFBertMainLayer(config, name="encoder")
"""
T5_UNFIXABLE = (
    "from transformers import T5Config, TFT5MainLayer\n"
    'c = T5Config.from_pretrained("t5-small")\n'
    "e = TFT5MainLayer(c, embed_tokens=None)\n"
)
UNSAFE_ONLY = "from transformers import TFBertMainLayer\ndef f(config):\n    return TFBertMainLayer(config)\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    (tmp_path / "buggy.py").write_text(BUGGY)
    return tmp_path


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if ".lint_mainlayer_cache" not in p.parts)


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


# ---------------------------------------------------------------------------------------
# A write that fails half way


class _HalfWriter:
    """A file object that takes half of what it is given, then reports a full disk."""

    def __init__(self, handle: object) -> None:
        self._handle = handle

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()  # type: ignore[attr-defined]

    def write(self, data: bytes) -> int:
        self._handle.write(data[: len(data) // 2])  # type: ignore[attr-defined]
        self._handle.flush()  # type: ignore[attr-defined]
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> object:
        return getattr(self._handle, name)


def _enospc(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _erofs(*args: object, **kwargs: object) -> None:
    raise OSError(errno.EROFS, os.strerror(errno.EROFS))


FAILURES = {
    # name: (what to patch in writer's `os`/`tempfile`, replacement, expected reason)
    "half-write-disk-full": ("os.fdopen", lambda real: lambda fd, mode: _HalfWriter(real(fd, mode)), "No space left on device"),
    "fsync-disk-full": ("os.fsync", lambda real: _enospc, "No space left on device"),
    "read-only-filesystem": ("tempfile.mkstemp", lambda real: _erofs, "Read-only file system"),
    "chmod-refused": ("os.chmod", lambda real: lambda *a, **k: _raise(errno.EPERM), "Operation not permitted"),
    "replace-refused": ("os.replace", lambda real: lambda *a, **k: _raise(errno.EXDEV), "Invalid cross-device link"),
}


def _raise(code: int) -> None:
    raise OSError(code, os.strerror(code))


@pytest.mark.parametrize("failure", list(FAILURES))
def test_failing_write_leaves_the_original_and_no_temporary_file(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], failure: str
) -> None:
    (project / "other.py").write_text(BUGGY.replace("bert =", "other ="))
    target, make, reason = FAILURES[failure]
    module_name, attribute = target.split(".")
    # writer imports tempfile when it writes (start-up time): patch the module itself.
    module = tempfile if module_name == "tempfile" else getattr(writer, module_name)
    monkeypatch.setattr(module, attribute, make(getattr(module, attribute)))
    before = _listing(project)
    code = main(["--no-cache", "--fix", "buggy.py", "other.py"])
    monkeypatch.undo()
    captured = capsys.readouterr()
    assert code == 2
    assert f"buggy.py: error: cannot write: {reason}; file left unchanged" in captured.err
    assert "other.py: error: cannot write" in captured.err  # the run went on to the next file
    assert (project / "buggy.py").read_text() == BUGGY
    assert _listing(project) == before
    assert _temporaries(project) == []


def test_interrupt_during_write_leaves_the_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.py"
    path.write_text(BUGGY)

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(writer.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, FIXED.encode(), expected=BUGGY.encode())
    assert path.read_text() == BUGGY
    assert _listing(tmp_path) == ["m.py"]


@contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """Make `path` unwritable, even for root (the immutable attribute), or skip."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("root ignores permissions, and chattr is missing")
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode != 0:
        pytest.skip("root ignores permissions, and this filesystem has no immutable attribute")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_read_only_folder(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with _read_only(project):
        code = main(["--no-cache", "--fix", "buggy.py"])
    captured = capsys.readouterr()
    assert code == 2
    assert "buggy.py: error: cannot write: " in captured.err
    assert (project / "buggy.py").read_text() == BUGGY
    assert _temporaries(project) == []


def test_read_only_file_is_not_replaced(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The folder is writable, so os.replace could swap the file: it must not.
    with _read_only(project / "buggy.py"):
        code = main(["--no-cache", "--fix", "buggy.py"])
    captured = capsys.readouterr()
    assert code == 2
    assert "buggy.py: error: cannot write: " in captured.err
    assert (project / "buggy.py").read_text() == BUGGY
    assert _temporaries(project) == []


def test_file_changed_since_read_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("edited by the user\n")
    with pytest.raises(ChangedOnDisk):
        write_atomic(path, FIXED.encode(), expected=BUGGY.encode())
    assert path.read_text() == "edited by the user\n"
    assert _listing(tmp_path) == ["m.py"]


def test_file_changed_while_the_fix_is_written_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.py"
    path.write_text(BUGGY)
    real_fsync = os.fsync

    def editor_saves_meanwhile(fd: int) -> None:
        real_fsync(fd)
        path.write_text("saved by the editor meanwhile\n")

    monkeypatch.setattr(writer.os, "fsync", editor_saves_meanwhile)
    with pytest.raises(ChangedOnDisk):
        write_atomic(path, FIXED.encode(), expected=BUGGY.encode())
    assert path.read_text() == "saved by the editor meanwhile\n"
    assert _listing(tmp_path) == ["m.py"]


# ---------------------------------------------------------------------------------------
# A kill between the write and the replace

KILL_AT_REPLACE = """\
import os, signal, sys

real_replace = os.replace


def replace(src, dst, *args, **kwargs):
    # Only the fix's own temporary file: the kill lands after its bytes are on disk.
    if ".lint-mainlayer-" in os.fspath(src):
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)


os.replace = replace
from lint_mainlayer.cli import main

sys.exit(main(sys.argv[1:]))
"""


def test_kill_between_write_and_replace_keeps_the_original(project: Path) -> None:
    run = run_cli(["--no-cache", "--fix", "buggy.py"], project, python_args=("-c", KILL_AT_REPLACE))
    assert run.returncode == -signal.SIGKILL
    assert (project / "buggy.py").read_text() == BUGGY
    # The one thing a kill leaves: the new content under a name marked as ours, which the
    # walk never lints (it does not end in .py).
    (leftover,) = _temporaries(project)
    assert leftover.name.startswith(".buggy.py.lint-mainlayer-")
    assert leftover.read_text() == FIXED
    assert main(["--no-cache", "-q", "."]) == 1  # buggy.py only

    # The next fix of that file leaves a young leftover (it may be a running fix's)...
    (project / "unrelated.tmp").write_text("not ours")
    (project / ".buggy.py.keep.tmp").write_text("not ours either")
    assert main(["--no-cache", "--fix", "buggy.py"]) == 0
    assert (project / "buggy.py").read_text() == FIXED
    assert leftover.exists()
    # ...and removes it once it is stale; files that are not ours stay.
    old = time.time() - writer.STALE_SECONDS - 60
    os.utime(leftover, (old, old))
    (project / "buggy.py").write_text(BUGGY)
    assert main(["--no-cache", "--fix", "buggy.py"]) == 0
    assert not leftover.exists()
    assert (project / "unrelated.tmp").exists() and (project / ".buggy.py.keep.tmp").exists()


def test_stale_cleanup_touches_only_our_regular_files(tmp_path: Path) -> None:
    target = tmp_path / "m.py"
    target.write_text(BUGGY)
    ours = tmp_path / ".m.py.lint-mainlayer-abc_123.tmp"
    other_file = tmp_path / ".n.py.lint-mainlayer-abc_123.tmp"
    folder = tmp_path / ".m.py.lint-mainlayer-dir.tmp"
    link = tmp_path / ".m.py.lint-mainlayer-link.tmp"
    for path in (ours, other_file):
        path.write_text("x")
    folder.mkdir()
    link.symlink_to(target)
    old = time.time() - writer.STALE_SECONDS - 60
    for path in (ours, other_file, folder, link):
        os.utime(path, (old, old), follow_symlinks=False)
    assert remove_stale_temporaries(target) == [ours]
    assert other_file.exists() and folder.exists() and link.is_symlink() and target.read_text() == BUGGY


# ---------------------------------------------------------------------------------------
# Symlinks


def test_linked_file_is_fixed_once_in_its_target_and_stays_a_link(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pkg").mkdir()
    (project / "pkg" / "link.py").symlink_to("../buggy.py")
    (project / "chain.py").symlink_to("pkg/link.py")
    elsewhere = project.parent / f"{project.name}-elsewhere"
    elsewhere.mkdir()
    outside = elsewhere / "outside.py"
    outside.write_text(BUGGY)
    (project / "outside_link.py").symlink_to(outside)
    assert main(["--no-cache", "--fix", "."]) == 0
    assert "Found 2 findings (2 fixed, 0 remaining)." in capsys.readouterr().out
    for link, target in (("pkg/link.py", "../buggy.py"), ("chain.py", "pkg/link.py"), ("outside_link.py", str(outside))):
        assert (project / link).is_symlink()
        assert os.readlink(project / link) == target
    assert (project / "buggy.py").read_text() == FIXED
    assert outside.read_text() == FIXED
    assert _temporaries(project) == [] and _temporaries(elsewhere) == []


def test_links_to_special_files_and_dangling_links_are_errors_not_hangs(tmp_path: Path) -> None:
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "pipe.py").symlink_to("fifo")
    (tmp_path / "gone.py").symlink_to("missing.py")
    (tmp_path / "ok.py").write_text(BUGGY)
    run = run_cli(["--no-cache", "--fix", "."], tmp_path, timeout=60)
    assert no_traceback(run), run.stderr
    assert "zero.py: error: not a regular file" in run.stderr
    assert "pipe.py: error: not a regular file" in run.stderr
    assert (tmp_path / "ok.py").read_text() == FIXED


def test_folder_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to("..")
    (tmp_path / "sub" / "self").symlink_to(".")
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    (tmp_path / "sub" / "m.py").write_text(BUGGY)
    run = run_cli(["--no-cache", "--fix", "."], tmp_path, timeout=60)
    assert run.returncode == 0 and no_traceback(run), run.stderr
    assert (tmp_path / "sub" / "m.py").read_text() == FIXED


def test_file_symlink_loop_in_a_folder_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "a.py").symlink_to("b.py")
    (tmp_path / "b.py").symlink_to("a.py")
    (tmp_path / "ok.py").write_text(BUGGY)
    run = run_cli(["--no-cache", "--fix", "."], tmp_path, timeout=60)
    assert no_traceback(run), run.stderr[-1500:]
    assert (tmp_path / "ok.py").read_text() == FIXED


# ---------------------------------------------------------------------------------------
# Modes, owners, and files that are not fixed


def test_mode_and_owner_are_kept(project: Path) -> None:
    path = project / "buggy.py"
    path.chmod(0o640)
    if os.geteuid() == 0:
        os.chown(path, 12345, 54321)
    assert main(["--no-cache", "--fix", "buggy.py"]) == 0
    info = path.stat()
    assert path.read_text() == FIXED
    assert stat.S_IMODE(info.st_mode) == 0o640
    if os.geteuid() == 0:
        assert (info.st_uid, info.st_gid) == (12345, 54321)


def test_files_that_are_not_fixed_are_not_touched(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    untouched = {
        "clean.py": "import os\n",
        "mentions.py": "# TFBertMainLayer is documented here\nimport transformers\n",
        "t5.py": T5_UNFIXABLE,
        "unsafe_only.py": UNSAFE_ONLY,
        "noqa.py": BUGGY.replace("(config)\n", "(config)  # noqa\n"),
        "broken.py": BUGGY + "def f(:\n",
        "latin.py": "# -*- coding: latin-1 -*-\n# caf\xe9\n",
    }
    for name, text in untouched.items():
        (project / name).write_bytes(text.encode("latin-1"))
    old = time.time() - 3600
    for name in untouched:
        os.utime(project / name, (old, old))
    before = {name: (project / name).stat() for name in untouched}
    main(["--no-cache", "--fix", "."])
    capsys.readouterr()
    assert (project / "buggy.py").read_text() == FIXED
    for name, info in before.items():
        now = (project / name).stat()
        assert (now.st_ino, now.st_mtime_ns, now.st_size) == (info.st_ino, info.st_mtime_ns, info.st_size), name


def test_hard_link_keeps_the_old_content(project: Path) -> None:
    # Documented: the fix replaces the name it was given; other hard links keep the old bytes.
    os.link(project / "buggy.py", project / "twin.py.bak")
    assert main(["--no-cache", "--fix", "buggy.py"]) == 0
    assert (project / "buggy.py").read_text() == FIXED
    assert (project / "twin.py.bak").read_text() == BUGGY


def test_stdin_fix_writes_no_file(project: Path, monkeypatch: pytest.MonkeyPatch, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BUGGY.encode())))
    assert main(["--no-cache", "--fix", "--stdin-filename", "buggy.py", "-"]) == 0
    assert capfdbinary.readouterr().out == FIXED.encode()
    assert (project / "buggy.py").read_text() == BUGGY


# ---------------------------------------------------------------------------------------
# Two runs at once


def _variants() -> dict[str, bytes]:
    latin = ("# -*- coding: latin-1 -*-\n# d\xe9j\xe0 vu\n" + BUGGY).encode("latin-1")
    return {
        "plain": BUGGY.encode(),
        "crlf": BUGGY.replace("\n", "\r\n").encode(),
        "bom": b"\xef\xbb\xbf" + BUGGY.encode(),
        "latin": latin,
        "subclass": SUBCLASS.encode(),
        "t5": T5_UNFIXABLE.encode(),
        "clean": b"import os\n",
    }


@pytest.mark.slow
def test_two_fix_runs_at_once_corrupt_nothing(tmp_path: Path) -> None:
    variants = _variants()
    settings = Settings()
    expected = {}
    for name, data in variants.items():
        result, new_data = api.check_source(data, name, settings, api.Options(fix=True))
        assert result.error is None
        expected[name] = new_data if new_data is not None else data
    files = {}
    for i in range(56):
        name = list(variants)[i % len(variants)]
        folder = tmp_path / "src" / f"pkg{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"m{i}_{name}.py"
        path.write_bytes(variants[name])
        files[path] = expected[name]
    (tmp_path / "pyproject.toml").write_text("[tool.lint-mainlayer]\n")
    env = {**os.environ, "NO_COLOR": "1"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "lint_mainlayer", "--fix", *args, "src"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for args in (["-j", "2"], ["-j", "1"])
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode in (0, 1, 2), err
        assert "Traceback" not in err, err
    for path, data in files.items():
        assert path.read_bytes() == data, path
        decode(data)
    assert _temporaries(tmp_path / "src") == []


# ---------------------------------------------------------------------------------------
# Encodings


@pytest.mark.parametrize(
    ("coding", "sample"),
    [
        ("latin-1", "caf\xe9"),
        ("cp1252", "\u20ac uro"),
        ("koi8-r", "\u0416\u0443\u043a"),
        ("shift_jis", "\u65e5\u672c"),
        ("euc-kr", "\ud55c\uad6d"),
    ],
)
def test_declared_coding_is_kept(project: Path, coding: str, sample: str) -> None:
    head = f"# -*- coding: {coding} -*-\n# {sample}\n"
    tail = f'label = "{sample}"\n'
    path = project / "coded.py"
    path.write_bytes((head + BUGGY + tail).encode(coding))
    assert main(["--no-cache", "--fix", "coded.py"]) == 0
    assert path.read_bytes() == fixed(head + BUGGY + tail, coding).encode(coding)
    assert path.read_bytes().startswith(head.encode(coding))


def test_bom_and_crlf_are_kept(project: Path) -> None:
    path = project / "bom.py"
    path.write_bytes(b"\xef\xbb\xbf" + BUGGY.replace("\n", "\r\n").encode())
    assert main(["--no-cache", "--fix", "bom.py"]) == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + FIXED.replace("\n", "\r\n").encode()


@pytest.mark.parametrize(
    ("cookie", "reason"),
    [
        ("klingon", "unknown encoding: klingon"),
        ("rot13", "not a text encoding"),
        # Python runs it, but re-encoding the fixed text would turn each newline into `\n`.
        ("unicode_escape", "cannot be honoured"),
    ],
)
def test_coding_that_cannot_be_honoured_leaves_the_file_alone(
    project: Path, capsys: pytest.CaptureFixture[str], cookie: str, reason: str
) -> None:
    path = project / "odd.py"
    data = f"# -*- coding: {cookie} -*-\n{BUGGY}".encode()
    path.write_bytes(data)
    mtime = path.stat().st_mtime_ns
    assert main(["--no-cache", "--fix", "odd.py", "buggy.py"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("odd.py: error: ") and reason in captured.err
    assert path.read_bytes() == data and path.stat().st_mtime_ns == mtime
    assert (project / "buggy.py").read_text() == FIXED


def test_fixed_text_that_would_not_read_back_is_refused() -> None:
    # A fix that pushed the cookie below line 2 would make the file decode as UTF-8.
    text = "import a\nimport b\n# -*- coding: latin-1 -*-\nx = 'caf\xe9'\n"
    with pytest.raises(EncodeError, match="would not read back"):
        encode(text, "iso-8859-1")
    fine = "# -*- coding: latin-1 -*-\nx = 'caf\xe9'\n"
    assert decode(encode(fine, "iso-8859-1")).text == fine


def test_text_the_encoding_cannot_hold_is_refused_with_the_character_and_line() -> None:
    with pytest.raises(EncodeError, match=r"latin-1 cannot encode '🤗' \(line 2\)"):
        encode("# -*- coding: latin-1 -*-\nx = '🤗'\n", "latin-1")


def test_check_file_reports_write_errors_without_raising(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.py"
    path.write_text(BUGGY)
    monkeypatch.setattr(writer.os, "fsync", _enospc)
    result = api.check_file(path, for_directory(tmp_path), api.Options(fix=True))
    assert result.error == "cannot write: No space left on device; file left unchanged"
    assert path.read_text() == BUGGY


def test_file_without_write_permission_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As the owner of a 0o444 file sees it (root is never refused by permissions).
    path = tmp_path / "m.py"
    path.write_text(BUGGY)
    monkeypatch.setattr(writer.os, "access", lambda *args, **kwargs: False)
    result = api.check_file(path, for_directory(tmp_path), api.Options(fix=True))
    assert result.error == "cannot write: the file is read-only; file left unchanged"
    assert path.read_text() == BUGGY
    assert _listing(tmp_path) == ["m.py"]
