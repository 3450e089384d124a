"""The README stays in step with the code: rule docs, the two set-up commands, --help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_rule_docs_in_readme_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "render_rule_docs.py"), "--check"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second() -> None:
    lines = (REPO / "README.md").read_text("utf-8").splitlines()
    head = "\n".join(lines[:20])
    assert "pip install . && .venv/bin/lint-mainlayer" in head
    assert "bash .ci/run" in head
    ci = (REPO / ".ci" / "run").read_text("utf-8")
    assert "pip install" in ci and "-m pytest" in ci
