"""Output formats: pure functions from results to text."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

from lint_mainlayer.types import Diagnostic, FileResult, Fix

Renderer = Callable[[Sequence[FileResult]], str]


def in_cell(result: FileResult, diagnostic: Diagnostic) -> tuple[int | None, Diagnostic]:
    """For a notebook, the finding's cell (1-based, as ruff numbers cells) and the finding
    with lines counted in that cell, as ruff reports notebook positions; else (None, it)."""
    if result.cells is None:
        return None, diagnostic
    cell, line = result.cells.locate(diagnostic.line)
    shift = diagnostic.line - line
    fix: Fix | None = diagnostic.fix
    if fix is not None:
        fix = replace(fix, line=fix.line - shift, end_line=fix.end_line - shift)
    return cell, replace(diagnostic, line=line, end_line=diagnostic.end_line - shift, fix=fix)
