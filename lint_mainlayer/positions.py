"""Source positions for the few nodes that need them: a finding's call, and the call,
statement line or class a fix rewrites.

Positions come from Python's `ast` (`lineno`, `col_offset`, `end_*`), with columns in code
points, not the UTF-8 byte offsets `ast` counts, so that they are what libcst's
`PositionProvider` gave (which, like `ast`, leaves an expression's parentheses out).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping

from lint_mainlayer.records import record
from lint_mainlayer.rules.tree import Line, SourceText


@record(frozen=True)
class CodePosition:
    line: int
    # 0-based, in code points.
    column: int


@record(frozen=True)
class CodeRange:
    start: CodePosition
    end: CodePosition


def locate(source: SourceText, nodes: Iterable[ast.AST | Line]) -> Mapping[ast.AST | Line, CodeRange]:
    """The range of each node: a statement line from its first statement to its last, any
    other node as `ast` places it."""
    ranges: dict[ast.AST | Line, CodeRange] = {}
    for node in nodes:
        if node in ranges:
            continue
        if isinstance(node, Line):
            start, end = source.start(node.body[0]), source.end(node.body[-1])
        else:
            start, end = source.start(node), source.end(node)
        ranges[node] = CodeRange(_position(source, start), _position(source, end))
    return ranges


def _position(source: SourceText, offset: int) -> CodePosition:
    line, column = source.position(offset)
    return CodePosition(line, column)
