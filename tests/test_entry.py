"""The console script's entry and the lint run's garbage collection policy."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lint_mainlayer import cli, entry
from tests.safety_support import BUGGY

CLEAN = "import os\n"


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    paths = [tmp_path / "a.py", tmp_path / "b.py", tmp_path / "c.py"]
    for path, text in zip(paths, (BUGGY, CLEAN, BUGGY)):
        path.write_text(text)
    return paths


@pytest.fixture
def collections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Each collection the run asks for, with whether the collector was switched off then."""
    seen: list[bool] = []
    real = gc.collect

    def counted(generation: int = 2) -> int:
        seen.append(gc.isenabled())
        return real(generation)

    monkeypatch.setattr(cli.gc, "collect", counted)
    yield seen


def test_the_entry_runs_the_command_line_and_restores_the_collector(
    files: list[Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["lint-mainlayer", "--no-cache", *map(str, files)])
    assert gc.isenabled()
    assert entry.run() == 1
    assert gc.isenabled()
    out = capsys.readouterr().out
    assert out.count("MLL001") == 2
    assert "Found 2 findings." in out


def test_a_lint_run_collects_only_at_file_boundaries(
    files: list[Path], collections: list[bool], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "GC_BATCH", -1)  # every boundary is due
    assert cli.main(["--no-cache", "-j", "1", *map(str, files)]) == 1
    capsys.readouterr()
    # One collection after each file, each with the automatic collector off, and the
    # collector on again once the run is over.
    assert collections == [False, False, False]
    assert gc.isenabled()


def test_a_run_that_makes_little_garbage_never_collects(
    files: list[Path], collections: list[bool], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--no-cache", *map(str, files)]) == 1
    capsys.readouterr()
    assert collections == []
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off(files: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    gc.disable()
    try:
        assert cli.main(["--no-cache", str(files[1])]) == 0
        assert not gc.isenabled()
    finally:
        gc.enable()
    capsys.readouterr()


def test_the_collector_is_on_again_after_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.py"
    broken.write_bytes(b"from transformers import TFBertMainLayer\ndef f(:\n")
    assert cli.main(["--no-cache", str(broken)]) == 2
    assert gc.isenabled()
    assert "broken.py" in capsys.readouterr().err


def test_other_commands_keep_the_collector(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Only the lint run changes the policy: `rule` (like `verify`, which runs user code
    with TensorFlow) goes through click with the collector as the process has it."""
    states: list[bool] = []
    from lint_mainlayer import cli_click

    real_run = cli_click.run

    def run(args: list[str]) -> int:
        states.append(gc.isenabled())
        return real_run(args)

    monkeypatch.setattr(cli_click, "run", run)
    assert cli.main(["rule", "MLL001"]) == 0
    assert states == [True]
    assert "MLL001" in capsys.readouterr().out


def test_the_console_script_and_module_run_alike(files: list[Path]) -> None:
    """`python -m lint_mainlayer` goes through the same entry as the console script."""
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(Path(cli.__file__).parent.parent)}
    done = subprocess.run(
        [sys.executable, "-m", "lint_mainlayer", "--no-cache", *map(str, files)],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.count("MLL001") == 2


def _module_run(args: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(Path(cli.__file__).parent.parent)}
    return subprocess.run(
        [sys.executable, "-m", "lint_mainlayer", *args],
        capture_output=True, text=True, env=env, check=False, timeout=120, cwd=cwd, **kwargs,  # type: ignore[call-overload]
    )


def test_a_fast_exit_delivers_all_output_and_fixes(tmp_path: Path) -> None:
    """The lint run ends the process with os._exit: its output, larger than a pipe's
    buffer, arrives whole, and its fixes are on disk."""
    many = "from transformers import BertConfig, TFBertMainLayer\n" + 'config = BertConfig.from_pretrained("bert-base-uncased")\n'
    many += "".join(f"bert_{n} = TFBertMainLayer(config)\n" for n in range(400))
    (tmp_path / "many.py").write_text(many)
    done = _module_run(["--no-cache", "many.py"], tmp_path)
    assert done.returncode == 1, done.stderr
    assert len(done.stdout.encode()) > 65536
    assert done.stdout.count("MLL001") == 400
    assert done.stdout.rstrip().endswith("[*] 400 fixable with the --fix option.")
    (tmp_path / "one.py").write_text(BUGGY)
    fixed = _module_run(["--no-cache", "--fix", "one.py"], tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "from_pretrained" in (tmp_path / "one.py").read_text().splitlines()[-1]
    assert _module_run(["--no-cache", "one.py"], tmp_path).returncode == 0


def test_a_fast_exit_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    many = "from transformers import BertConfig, TFBertMainLayer\n" + 'config = BertConfig.from_pretrained("bert-base-uncased")\n'
    many += "".join(f"bert_{n} = TFBertMainLayer(config)\n" for n in range(400))
    (tmp_path / "many.py").write_text(many)
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(Path(cli.__file__).parent.parent)}
    lint = subprocess.Popen(
        [sys.executable, "-m", "lint_mainlayer", "--no-cache", "many.py"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env,
    )
    assert lint.stdout is not None and lint.stderr is not None
    lint.stdout.readline()
    lint.stdout.close()  # as `| head -1` does
    err = lint.stderr.read().decode()
    assert lint.wait(timeout=120) == 1
    assert "Traceback" not in err and "Exception ignored" not in err


def test_only_the_lint_run_exits_fast(capsys: pytest.CaptureFixture[str]) -> None:
    """Other commands (`verify` runs user code whose exit handlers must run) return."""
    assert cli.main(["rule", "MLL001"], exit_fast=True) == 0
    assert "MLL001" in capsys.readouterr().out
