"""The default output: `path:line:col: CODE message [*]`, and ruff-like source excerpts."""

from __future__ import annotations

import unicodedata
from typing import Sequence

from lint_mainlayer.console import style
from lint_mainlayer.formats import in_cell
from lint_mainlayer.types import Diagnostic, FileResult


def _width(text: str) -> int:
    # Wide characters (CJK, most emoji) take two terminal cells.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fixable(diagnostic: Diagnostic, unsafe_fixes: bool) -> bool:
    """Whether `--fix` (with `unsafe_fixes` as given) would apply this finding's fix."""
    fix = diagnostic.fix
    return fix is not None and (fix.applicability == "safe" or unsafe_fixes)


def line(result: FileResult, d: Diagnostic, *, color: bool, unsafe_fixes: bool) -> str:
    """One finding as a single line (`path:cell N:line:col:` in a notebook, as in ruff)."""
    cell, d = in_cell(result, d)
    where = f"{result.path}:{'' if cell is None else f'cell {cell}:'}{d.line}:{d.column}:"
    mark = " [*]" if fixable(d, unsafe_fixes) else ""
    if color:
        where = style(where, bold=True)
        code = style(d.code, fg="red", bold=True)
        mark = style(mark, fg="cyan") if mark else ""
    else:
        code = d.code
    return f"{where} {code} {d.message}{mark}"


def excerpt(source: str, d: Diagnostic, *, color: bool) -> str:
    """The flagged lines with the span underlined."""
    lines = source.splitlines()
    gutter = len(str(d.end_line))
    out = [f"{'':>{gutter}} |"]
    for number in range(d.line, min(d.end_line, len(lines)) + 1):
        text = lines[number - 1].expandtabs(1)
        out.append(f"{number:>{gutter}} | {text}")
        start = d.column - 1 if number == d.line else len(text) - len(text.lstrip())
        end = d.end_column - 1 if number == d.end_line else len(text)
        pad = " " * _width(text[:start])
        marks = "^" * max(1, _width(text[start:end]))
        if color:
            marks = style(marks, fg="red", bold=True)
        label = f" {d.code}" if number == d.end_line else ""
        out.append(f"{'':>{gutter}} | {pad}{marks}{label}")
    return "\n".join(out)


def render(
    results: Sequence[FileResult], *, color: bool, show_source: bool, unsafe_fixes: bool
) -> str:
    """All findings, one per line (with excerpts when asked)."""
    out = []
    for result in results:
        for d in result.diagnostics:
            out.append(line(result, d, color=color, unsafe_fixes=unsafe_fixes))
            if show_source and result.source is not None:
                source, shown = result.source, d
                if result.cells is not None:
                    # Lines numbered in the cell, as the finding's own line is.
                    cell, shown = in_cell(result, d)
                    start = result.cells.starts[result.cells.numbers.index(cell)]
                    source = "".join(source.splitlines(keepends=True)[start - 1 :])
                out.append(excerpt(source, shown, color=color))
                out.append("")
    return "\n".join(out)
