"""The fix a finding shows in JSON is the fix `--fix` applies.

For every fixture finding with a fix, the JSON record is applied here the way a consumer of
the JSON would (splice `replacement` over its span, then hand `add_imports`/`remove_imports`
to libcst's own import visitors), and compared with what `--fix` makes of that one finding.
Import statements are compared as the names they bind, since lint-mainlayer lays new names
out after the user's, which libcst's plain visitor does not.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from lint_mainlayer import engine
from lint_mainlayer.cli import main
from lint_mainlayer.types import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# `project/` holds multi-module projects (tests/test_project.py).
CASES = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name not in ("runtime", "project"))


def _json_findings(path: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    # The fixtures sit in this project, whose own transformers range spans 4.37: name the version.
    main(["--format", "json", "--no-cache", "--unsafe-fixes", "--target-transformers", "4.57", str(path)])
    records: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return records


def _splice(source: str, fix: dict[str, Any]) -> str:
    lines = source.splitlines(keepends=True)

    def offset(line: int, column: int) -> int:
        return sum(len(text) for text in lines[: line - 1]) + column - 1

    start, end = offset(fix["line"], fix["column"]), offset(fix["end_line"], fix["end_column"])
    return source[:start] + fix["replacement"] + source[end:]


def _with_imports(source: str, fix: dict[str, Any]) -> str:
    module = cst.parse_module(source)
    context = CodemodContext()
    for change in fix["add_imports"]:
        AddImportsVisitor.add_needed_import(context, change["module"], change["name"], change["alias"])
    module = AddImportsVisitor(context).transform_module(module)
    context = CodemodContext()
    for change in fix["remove_imports"]:
        RemoveImportsVisitor.remove_unused_import(context, change["module"], change["name"], change["alias"])
    return RemoveImportsVisitor(context).transform_module(module).code


def _split_imports(source: str) -> tuple[str, set[tuple[str, str, str | None]]]:
    """The source without its module-level imports, and the names those imports bind."""
    tree = ast.parse(source)
    names: set[tuple[str, str, str | None]] = set()
    dropped: set[int] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module or "" if isinstance(node, ast.ImportFrom) else ""
            names |= {(module, alias.name, alias.asname) for alias in node.names}
            dropped |= set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    kept = [line for number, line in enumerate(source.splitlines(), 1) if number not in dropped]
    return "\n".join(kept).strip("\n"), names


FIXED = [
    pytest.param(case, id=case.name)
    for case in CASES
    if any(d.fix is not None for d in engine.lint_source((case / "input.py").read_text("utf-8")))
]


def test_fixtures_with_fixes_exist() -> None:
    assert len(FIXED) >= 12


@pytest.mark.parametrize("case", FIXED)
def test_json_fix_is_what_fix_applies(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = case / "input.py"
    source = path.read_text("utf-8")
    records = [r for r in _json_findings(path, capsys) if r["fix"] is not None]
    assert records
    for record in records:
        fix = record["fix"]
        by_json = _with_imports(_splice(source, fix), fix)
        key = (record["code"], record["line"], record["column"])
        by_fix = engine.fix_source(source, Settings(), unsafe=True, only={key})
        assert by_fix.error is None and len(by_fix.applied) >= 1
        json_body, json_imports = _split_imports(by_json)
        fix_body, fix_imports = _split_imports(by_fix.source)
        assert json_body == fix_body, f"{case.name}: {record['code']} at {record['line']}"
        assert json_imports == fix_imports


def test_a_statement_fix_keeps_the_lines_comment_in_the_json_replacement(capsys: pytest.CaptureFixture[str]) -> None:
    # The bug this record once had: the comment moved to the last appended line.
    [record] = _json_findings(FIXTURES / "noqa" / "input.py", capsys)
    replacement = record["fix"]["replacement"]
    first, *rest = replacement.splitlines()
    assert first.endswith("# noqa: MLL002  # error: MLL001:5")
    assert rest and not any("#" in line for line in rest)
