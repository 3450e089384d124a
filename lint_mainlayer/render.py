"""The one renderer of fixes: a rule's plan, placed in its source, as the `Fix` record that
`--fix`, JSON output, the result cache and the editor all use.

Each plan becomes one text edit: a call's span and its new code; a statement's whole line
(its trailing comment, a `# noqa` among them, stays on it) and the statements added below
it; or a method inserted after the last statement of a class body. Code is generated with
the module's own newline and indentation, so the record is exactly what `--fix` writes.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from lint_mainlayer.positions import CodeRange
from lint_mainlayer.rules.fixes import AppendAfter, FixPlan, ReplaceCall, dedent
from lint_mainlayer.rules.tree import LINE_BREAK, Line, SourceText, split_lines
from lint_mainlayer.types import Fix

__all__ = ["plan_nodes", "render"]


def plan_nodes(plan: FixPlan) -> tuple[ast.AST | Line, ...]:
    """The nodes whose positions rendering `plan` needs."""
    edit = plan.edit
    if isinstance(edit, ReplaceCall):
        return (edit.call,)
    if isinstance(edit, AppendAfter):
        return (edit.statement,)
    return (edit.klass, edit.klass.body[-1])


def render(
    plan: FixPlan, source: SourceText, ranges: Mapping[ast.AST | Line, CodeRange], default_indent: str
) -> Fix:
    """The record of `plan` in `source`; `ranges` covering `plan_nodes`, and the module's
    `default_indent` (libcst's inference: its first indented block's)."""
    edit = plan.edit
    lines = source.lines
    newline = source.newline
    if isinstance(edit, ReplaceCall):
        span = ranges[edit.call]
        start, end = (span.start.line, span.start.column), (span.end.line, span.end.column)
        first = lines[span.start.line - 1]
        replacement = _code(edit.new_expr, first[: len(first) - len(first.lstrip(" \t"))])
    elif isinstance(edit, AppendAfter):
        span = ranges[edit.statement]
        # Through the end of the statement's last line, so its comment stays where it is.
        start, end = (span.start.line, span.start.column), (span.end.line, len(lines[span.end.line - 1]))
        indent = lines[span.start.line - 1][: span.start.column]
        statement = edit.replacement if edit.replacement is not None else _statement(edit, source)
        parts = [_code(statement, indent)] + [_code(s, indent) for s in edit.after]
        replacement = (newline + indent).join(_strip_newline(p) for p in parts)
    else:
        klass = ranges[edit.klass]
        last = ranges[edit.klass.body[-1]]
        # After the last statement of the body: before the block's own trailing comments.
        start = end = (last.end.line, len(lines[last.end.line - 1]))
        outer = lines[klass.start.line - 1][: klass.start.column]
        body = source.line_indent(edit.klass.body[0].lineno)
        relative = body[len(outer) :] if body.startswith(outer) and len(body) > len(outer) else default_indent
        indent = outer + relative
        method = _strip_newline(edit.method)
        indented = [indent + line if line else line for line in split_lines(method)]
        replacement = newline + newline + newline.join(indented)
    return Fix(
        applicability=plan.applicability,
        description=plan.description,
        replacement=replacement,
        # Our columns are 1-based.
        line=start[0],
        column=start[1] + 1,
        end_line=end[0],
        end_column=end[1] + 1,
        unsafe_reason=plan.unsafe_reason,
        add_imports=plan.add_imports,
        remove_imports=plan.remove_imports,
    )


def _statement(edit: AppendAfter, source: SourceText) -> str:
    """The statement line's code as libcst printed it (the block's indentation off its
    continuation lines), with the call replaced when the edit says so."""
    first, last = edit.statement.body[0], edit.statement.body[-1]
    block = source.line_indent(first.lineno)
    begin = source.start(first)
    end_line = last.end_lineno or last.lineno
    end = source.starts[end_line - 1] + len(source.lines[end_line - 1])
    text = source.text
    if edit.call is None or edit.new_expr is None:
        return dedent(text[begin:end], block)
    call_start, call_end = source.span(edit.call)
    return dedent(text[begin:call_start], block) + edit.new_expr + dedent(text[call_end:end], block)


def _code(code: str, indent: str) -> str:
    """`code` (as libcst printed a node on its own) as it reads at `indent`, the
    indentation of its block.

    Printed on its own, a node's continuation lines lose the block's indentation (libcst
    adds it from the enclosing blocks); it is put back on each non-empty one, unless the
    node holds a multi-line string, whose lines must stay as they are."""
    if not indent or '"""' in code or "'''" in code:
        return code
    pieces = LINE_BREAK.split(code)
    breaks = LINE_BREAK.findall(code)
    out = [pieces[0]]
    for line_break, piece in zip(breaks, pieces[1:]):
        out.append(line_break + (indent + piece if piece.strip() else piece))
    return "".join(out)


def _strip_newline(code: str) -> str:
    return code[:-2] if code.endswith("\r\n") else code.rstrip("\r\n")
