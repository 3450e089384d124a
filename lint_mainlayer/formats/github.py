"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

    ::error file=src/model.py,line=3,col=8,endLine=3,endColumn=40,title=MLL001::message

Values are escaped as the Actions runner unescapes them: `%`, CR and LF in the message,
and also `:` and `,` in the properties. GitHub takes `col`/`endColumn` only for a span on
one line, so a finding spanning lines gives `line` and `endLine` alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import PurePath

from lint_mainlayer.formats import in_cell
from lint_mainlayer.types import Diagnostic, FileResult


def escape_data(text: str) -> str:
    """Escape a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property's value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(kind: str, properties: dict[str, str | int], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{kind} {props}::{escape_data(message)}"


def annotation(path: str, diagnostic: Diagnostic) -> str:
    """One finding as an `::error` command."""
    properties: dict[str, str | int] = {"file": PurePath(path).as_posix(), "line": diagnostic.line}
    if diagnostic.line == diagnostic.end_line:
        properties.update(col=diagnostic.column, endLine=diagnostic.end_line, endColumn=diagnostic.end_column)
    else:
        properties["endLine"] = diagnostic.end_line
    properties["title"] = diagnostic.code
    return _command("error", properties, diagnostic.message)


def _annotation(result: FileResult, found: Diagnostic) -> str:
    cell, d = in_cell(result, found)
    if cell is None:
        return annotation(result.path, d)
    # GitHub places annotations on the file's own lines, which in a notebook are JSON: the
    # cell and its line go into the message, as ruff writes them (`cell N:line:col`).
    return annotation(result.path, replace(d, message=f"cell {cell}:{d.line}:{d.column}: {d.message}"))


def render(results: Sequence[FileResult]) -> str:
    """All findings, then files that could not be checked, one command per line."""
    lines = [_annotation(r, d) for r in results for d in r.diagnostics]
    lines += [
        _command("error", {"file": PurePath(r.path).as_posix(), "title": "lint-mainlayer"}, f"cannot check: {r.error}")
        for r in results
        if r.error is not None
    ]
    return "\n".join(lines)
