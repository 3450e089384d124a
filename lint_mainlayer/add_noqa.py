"""`--add-noqa`: write a `# noqa: CODE` comment on every line with a finding, as ruff does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from lint_mainlayer import api
from lint_mainlayer.api import ConfigError
from lint_mainlayer.console import echo

EXIT_CLEAN, EXIT_ERROR = 0, 2


def run(paths: list[Path], options: api.Options, warn: api.Warn = api.warn_on_stderr) -> int:
    """Add the directives to the files under `paths`; print `Added N noqa directives.`"""
    options = replace(options, fix=False, diff=False, keep_source=False)
    added = errors = 0
    try:
        results = list(api.check_paths(paths, options, warn))
    except ConfigError as exc:
        echo(f"error: {exc}", err=True)
        return EXIT_ERROR
    for result in results:
        if result.error is not None:
            echo(f"{result.path}: error: {result.error}", err=True)
            errors += 1
            continue
        if not result.diagnostics or result.context:
            continue
        count, error = api.add_noqa_to(result)
        if error is not None:
            echo(f"{result.path}: error: {error}", err=True)
            errors += 1
            continue
        added += count
    echo(f"Added {added} noqa directive{'' if added == 1 else 's'}.", err=True)
    return EXIT_ERROR if errors else EXIT_CLEAN
