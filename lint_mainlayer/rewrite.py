"""Applying fix records to a source: splice their text in, then let libcst's import
visitors add the imports the new code needs and drop those it left unused.

This is the only place fixes are applied, for `--fix`, `--diff` and the editor's quick
fixes alike, and it applies exactly the `Fix` records that JSON output shows.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from lint_mainlayer.parsing import parse
from lint_mainlayer.records import record
from lint_mainlayer.rules.tree import LINE_BREAK
from lint_mainlayer.types import Fix


@record(frozen=True)
class Rewritten:
    """The new source and the fixes it applied; or why the result is not valid Python.
    `module` is the new source's parse, when fixing the imports needed one."""

    source: str
    applied: frozenset[Fix]
    error: str | None = None
    module: cst.Module | None = None


class _AddImports(AddImportsVisitor):
    """libcst's AddImportsVisitor, but new names go after the user's, in their layout."""

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        result = super().leave_ImportFrom(original_node, updated_node)
        if isinstance(result.names, cst.ImportStar) or isinstance(updated_node.names, cst.ImportStar):
            return result
        added = len(result.names) - len(updated_node.names)
        if added <= 0:
            return result
        new, old = list(result.names[:added]), list(updated_node.names)
        separator = old[0].comma if len(old) > 1 else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        trailing = old[-1].comma
        names = [*old[:-1], old[-1].with_changes(comma=separator)]
        names += [alias.with_changes(comma=separator) for alias in new[:-1]]
        names.append(new[-1].with_changes(comma=trailing))
        return result.with_changes(names=names)


def apply_fixes(source: str, fixes: Sequence[Fix]) -> Rewritten:
    """`source` with `fixes` applied. Identical records (one `build()` for several
    findings) apply once; a fix whose span overlaps one already taken is left out, as in
    ruff: the next pass of the fix loop applies it to the new source."""
    starts = [0, *(match.end() for match in LINE_BREAK.finditer(source))]

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    chosen: list[tuple[int, int, Fix]] = []
    end_of_last = -1
    for fix in sorted(dict.fromkeys(fixes), key=lambda f: (f.line, f.column, f.end_line, f.end_column)):
        begin, end = offset(fix.line, fix.column), offset(fix.end_line, fix.end_column)
        if begin < end_of_last:
            continue
        chosen.append((begin, end, fix))
        end_of_last = end
    new = source
    for begin, end, fix in reversed(chosen):
        new = new[:begin] + fix.replacement + new[end:]
    applied = frozenset(fix for _, _, fix in chosen)
    if any(fix.add_imports or fix.remove_imports for fix in applied):
        module = parse(new)
        if isinstance(module, str):
            return Rewritten(source, frozenset(), f"the fixed source does not parse ({module})")
        module = _fix_imports(module, applied)
        return Rewritten(module.code, applied, module=module)
    return Rewritten(new, applied)


def _fix_imports(module: cst.Module, fixes: frozenset[Fix]) -> cst.Module:
    additions = [change for fix in fixes for change in fix.add_imports]
    if additions:
        context = CodemodContext()
        for change in additions:
            AddImportsVisitor.add_needed_import(context, change.module, change.name, change.alias)
        module = _AddImports(context).transform_module(module)
    removals = [change for fix in fixes for change in fix.remove_imports]
    if removals:
        context = CodemodContext()
        for change in removals:
            assert change.name is not None
            RemoveImportsVisitor.remove_unused_import(context, change.module, change.name, change.alias)
        module = RemoveImportsVisitor(context).transform_module(module)
    return module
