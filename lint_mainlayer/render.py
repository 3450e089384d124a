"""The one renderer of fixes: a rule's plan, placed in its source, as the `Fix` record that
`--fix`, JSON output, the result cache and the editor all use.

Each plan becomes one text edit: a call's span and its new code; a statement's whole line
(its trailing comment, a `# noqa` among them, stays on it) and the statements added below
it; or a method inserted after the last statement of a class body. Code is generated with
the module's own newline and indentation, so the record is exactly what `--fix` writes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import cast

import libcst as cst
from libcst.metadata import CodeRange

from lint_mainlayer.rules.fixes import AppendAfter, FixPlan, ReplaceCall
from lint_mainlayer.types import Fix

LINE_BREAK = re.compile(r"\r\n|\r|\n")


def source_lines(source: str) -> list[str]:
    """The lines of `source` as Python counts them (only CR, LF and CRLF end a line)."""
    return LINE_BREAK.split(source)


def plan_nodes(plan: FixPlan) -> tuple[cst.CSTNode, ...]:
    """The nodes whose positions rendering `plan` needs."""
    edit = plan.edit
    if isinstance(edit, ReplaceCall):
        return (edit.call,)
    if isinstance(edit, AppendAfter):
        return (edit.statement,)
    return (edit.klass, _body(edit.klass)[-1])


def render(
    plan: FixPlan, module: cst.Module, lines: list[str], ranges: Mapping[cst.CSTNode, CodeRange]
) -> Fix:
    """The record of `plan`; `lines` from `source_lines`, `ranges` covering `plan_nodes`."""
    edit = plan.edit
    newline = module.default_newline
    if isinstance(edit, ReplaceCall):
        span = ranges[edit.call]
        start, end = (span.start.line, span.start.column), (span.end.line, span.end.column)
        replacement = module.code_for_node(edit.new_expr)
    elif isinstance(edit, AppendAfter):
        span = ranges[edit.statement]
        # Through the end of the statement's last line, so its comment stays where it is.
        start, end = (span.start.line, span.start.column), (span.end.line, len(lines[span.end.line - 1]))
        indent = lines[span.start.line - 1][: span.start.column]
        statement: cst.CSTNode = edit.statement.with_changes(leading_lines=())
        if edit.call is not None and edit.new_expr is not None:
            statement = _replace_call(statement, edit.call, edit.new_expr)
        parts = [module.code_for_node(statement)] + [module.code_for_node(s) for s in edit.after]
        replacement = (newline + indent).join(_strip_newline(p) for p in parts)
    else:
        klass = ranges[edit.klass]
        last = ranges[_body(edit.klass)[-1]]
        # After the last statement of the body: before the block's own trailing comments.
        start = end = (last.end.line, len(lines[last.end.line - 1]))
        body = cast(cst.IndentedBlock, edit.klass.body)
        indent = lines[klass.start.line - 1][: klass.start.column] + (
            body.indent if body.indent is not None else module.default_indent
        )
        method = _strip_newline(module.code_for_node(edit.method.with_changes(leading_lines=())))
        indented = [indent + line if line else line for line in source_lines(method)]
        replacement = newline + newline + newline.join(indented)
    return Fix(
        applicability=plan.applicability,
        description=plan.description,
        replacement=replacement,
        # libcst columns are 0-based code points; ours are 1-based.
        line=start[0],
        column=start[1] + 1,
        end_line=end[0],
        end_column=end[1] + 1,
        unsafe_reason=plan.unsafe_reason,
        add_imports=plan.add_imports,
        remove_imports=plan.remove_imports,
    )


def _body(klass: cst.ClassDef) -> tuple[cst.BaseStatement, ...]:
    # A class that holds methods has an indented block (`class A: pass` holds none).
    assert isinstance(klass.body, cst.IndentedBlock)
    return tuple(klass.body.body)


def _strip_newline(code: str) -> str:
    return code[:-2] if code.endswith("\r\n") else code.rstrip("\r\n")


def _replace_call(node: cst.CSTNode, call: cst.Call, new: cst.BaseExpression) -> cst.CSTNode:
    class _One(cst.CSTTransformer):
        def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
            return new if original_node is call else updated_node

    return cast(cst.CSTNode, node.visit(_One()))
