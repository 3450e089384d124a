"""`--format json`: one JSON array of findings."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Sequence

from lint_mainlayer.formats import in_cell
from lint_mainlayer.types import FileResult


def records(results: Sequence[FileResult]) -> list[dict[str, Any]]:
    """Each finding as a plain dict (the documented JSON shape). In a notebook, `cell` is the
    cell's number and lines count in that cell, as in ruff's JSON; else `cell` is null."""
    out = []
    for result in results:
        for found in result.diagnostics:
            cell, d = in_cell(result, found)
            out.append(
                {
                    "path": result.path,
                    "cell": cell,
                    "line": d.line,
                    "column": d.column,
                    "end_line": d.end_line,
                    "end_column": d.end_column,
                    "code": d.code,
                    "message": d.message,
                    "fix": asdict(d.fix) if d.fix is not None else None,
                }
            )
    return out


def render(results: Sequence[FileResult]) -> str:
    """The JSON array, indented."""
    return json.dumps(records(results), indent=2, ensure_ascii=False)
