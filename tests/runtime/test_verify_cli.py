"""`verify` as a separate process, the way users run it (a handful: each imports TF, ~3 s).

Runs `lint-mainlayer verify` (through `python -m lint_mainlayer verify`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runtime_support import FIXTURES, REPO, subprocess_env, verify_subprocess

pytestmark = pytest.mark.runtime


def test_help_says_it_executes_the_script_and_imports_no_tensorflow() -> None:
    code = (
        "import sys\n"
        "from lint_mainlayer.runtime.command import verify\n"
        "try:\n"
        "    verify(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "assert 'tensorflow' not in sys.modules and 'transformers' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=subprocess_env(),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "This EXECUTES SCRIPT" in done.stdout
    assert "--stop-at-first-use" in done.stdout


def test_buggy_script_exits_1_and_fixed_script_exits_0(checkpoints: dict[str, Path]) -> None:
    done = verify_subprocess(str(FIXTURES / "bert" / "input.py"), checkpoint=checkpoints["bert"])
    assert done.returncode == 1, done.stderr
    assert "random" in done.stdout and "TFBertMainLayer" in done.stdout

    done = verify_subprocess("--format", "json", str(FIXTURES / "bert" / "expected.py"), checkpoint=checkpoints["bert"])
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # the script's own prints went to stderr
    assert [layer["status"] for layer in report["layers"]] == ["pretrained"]
    assert report["exit_code"] == 0


def test_stop_at_first_use_with_script_options(checkpoints: dict[str, Path]) -> None:
    started = time.monotonic()
    done = verify_subprocess(
        "--stop-at-first-use", str(FIXTURES / "scripts" / "train.py"), "--steps", "1000000", "--lr", "1e-4",
        checkpoint=checkpoints["bert"],
    )
    assert time.monotonic() - started < 90
    assert done.returncode == 0, done.stderr
    assert "stopped the script at its first use: fit at" in done.stderr
    assert "pretrained" in done.stdout
    assert "training finished" not in done.stdout


def test_failing_script_exits_2_with_traceback(checkpoints: dict[str, Path]) -> None:
    done = verify_subprocess(str(FIXTURES / "scripts" / "failing.py"), checkpoint=checkpoints["bert"])
    assert done.returncode == 2
    assert "Traceback (most recent call last)" in done.stderr
    assert "RuntimeError: data file missing" in done.stderr
