"""The console script `lint-mainlayer`, and `python -m lint_mainlayer`."""

from __future__ import annotations

import gc


def main() -> int:
    """Runs the command line on `sys.argv`. A lint run ends the process when it is done;
    the other commands return their exit status."""
    return run(exit_fast=True)


def run(exit_fast: bool = False) -> int:
    """Runs the command line on `sys.argv`; returns the exit status (`exit_fast`: see
    `cli.main`)."""
    # Importing the command line creates tens of thousands of objects (functions, classes,
    # constants) that live as long as the process: the collector's passes over them while
    # they are imported free nothing. The lint run manages collection itself (cli.py).
    gc.disable()
    try:
        from lint_mainlayer.cli import main as run_command_line
    finally:
        gc.enable()
    return run_command_line(exit_fast=exit_fast)
