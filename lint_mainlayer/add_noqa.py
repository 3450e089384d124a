"""`--add-noqa`: write a `# noqa: CODE` comment on every line with a finding, as ruff does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from lint_mainlayer import api
from lint_mainlayer.config import ConfigError
from lint_mainlayer.noqa import add_noqa
from lint_mainlayer.source import DecodeError, decode, encode
from lint_mainlayer.writer import ChangedOnDisk, write_atomic

EXIT_CLEAN, EXIT_ERROR = 0, 2


def run(paths: list[Path], options: api.Options) -> int:
    """Add the directives to the files under `paths`; print `Added N noqa directives.`"""
    options = replace(options, fix=False, diff=False, keep_source=False)
    added = errors = 0
    try:
        results = list(api.check_paths(paths, options))
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_ERROR
    for result in results:
        if result.error is not None:
            click.echo(f"{result.path}: error: {result.error}", err=True)
            errors += 1
            continue
        if not result.diagnostics:
            continue
        path = Path(result.path)
        if path.suffix == ".ipynb":
            click.echo(f"{result.path}: warning: --add-noqa does not edit notebooks; skipped", err=True)
            continue
        try:
            data = path.read_bytes()
            decoded = decode(data)
            new_text, count = add_noqa(decoded.text, result.diagnostics)
            if count:
                write_atomic(path, encode(new_text, decoded.encoding), expected=data)
        except (OSError, DecodeError, UnicodeEncodeError, ChangedOnDisk) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            click.echo(f"{result.path}: error: cannot add noqa directives: {why}", err=True)
            errors += 1
            continue
        added += count
    click.echo(f"Added {added} noqa directive{'' if added == 1 else 's'}.", err=True)
    return EXIT_ERROR if errors else EXIT_CLEAN
