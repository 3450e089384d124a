"""The tree the analysis runs on: Python's own `ast` (the prefilter's one parse), with the
source text it came from.

Python's `ast` is several times cheaper to parse and walk than libcst, and the rules only
read it; libcst is loaded only where fixes are applied (`rewrite.py`). What libcst gave for
free, this module gives from the text: the code of a node as written (`SourceText.code`),
positions in code points (ast columns are UTF-8 byte offsets), the parentheses around an
expression, and the statements that share a line (`Line`, libcst's `SimpleStatementLine`).

Children are visited in source order (`children`), as libcst visits them, so that the
preorder index the analyses compare ("after the call") means what it meant on libcst.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator
from itertools import accumulate
from typing import Any, Callable

# The one line-break pattern (defined with the records, below every layer, so that the api
# and noqa can use it without importing the rules).
from lint_mainlayer.records import record
from lint_mainlayer.types import LINE_BREAK as LINE_BREAK
from lint_mainlayer.types import split_lines as split_lines

_SKIP = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
_WHITESPACE = " \t\f\r\n\\"

_CALLS_LOCK = threading.RLock()


class SourceText:
    """A source and its lines as Python counts them (only CR, LF and CRLF end a line)."""

    def __init__(self, text: str) -> None:
        self.text = text
        if "\r" not in text:
            # Only LF ends a line: a plain split, and each line's start from the lengths
            # (a regex's match per line costs ~1 ms on a 2,000-line module).
            self.lines = text.split("\n")
            self.starts = [0, *accumulate(len(line) + 1 for line in self.lines[:-1])]
            self.newline = "\n"
        else:
            self.lines = LINE_BREAK.split(text)
            self.starts = [0]
            for found in LINE_BREAK.finditer(text):
                self.starts.append(found.end())
            first = LINE_BREAK.search(text)
            self.newline = first.group(0) if first is not None else "\n"
        # Each node's parent, by id (the collector fills it; kept off the nodes, where it
        # would make the tree cyclic, for the garbage collector to walk).
        self.parents: dict[int, ast.AST] = {}

    def column(self, line: int, byte_column: int) -> int:
        """The code-point column of an ast (UTF-8 byte) column on `line` (1-based)."""
        text = self.lines[line - 1]
        if text.isascii():
            return byte_column
        return len(text.encode("utf-8")[:byte_column].decode("utf-8", "replace"))

    def offset(self, line: int, byte_column: int) -> int:
        return self.starts[line - 1] + self.column(line, byte_column)

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def position(self, offset: int) -> tuple[int, int]:
        """(line, 0-based code-point column) of a character offset."""
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self.starts[lo]

    def span(self, node: ast.AST) -> tuple[int, int]:
        """The node's offsets, with the parentheses that are its own (as libcst counts them)."""
        start, end = self.start(node), self.end(node)
        parent = self.parents.get(id(node))
        if isinstance(parent, ast.Call) and node is not parent.func:
            for arg in call_text(parent, self).args:
                if arg.value is node:
                    return arg.value_start, arg.value_end
        low, high = 0, len(self.text)
        if isinstance(parent, ast.Tuple):
            low, high = self.start(parent), self.end(parent)
            if self.text[low : low + 1] == "(":
                low, high = low + 1, high - 1
        return self.parens(start, end, low, high)

    def parens(self, start: int, end: int, low: int = 0, high: int | None = None) -> tuple[int, int]:
        """Widen `start:end` over pairs of parentheses around it, within `low:high`."""
        text = self.text
        high = len(text) if high is None else high
        while True:
            before = start
            while before > low and text[before - 1] in _WHITESPACE:
                before -= 1
            if before <= low or text[before - 1] != "(":
                return start, end
            after = skip_space(text, end, high)
            if after >= high or text[after] != ")":
                return start, end
            start, end = before - 1, after + 1

    def code(self, node: ast.AST) -> str:
        """The node's code as written, its own parentheses included."""
        start, end = self.span(node)
        return self.text[start:end]

    def line_indent(self, line: int) -> str:
        text = self.lines[line - 1]
        return text[: len(text) - len(text.lstrip(" \t\f"))]


def skip_space(text: str, index: int, high: int) -> int:
    """The first offset from `index` that is not whitespace, a line continuation or a comment."""
    while index < high:
        char = text[index]
        if char in _WHITESPACE:
            index += 1
        elif char == "#":
            while index < high and text[index] not in "\r\n":
                index += 1
        else:
            break
    return index


@record(eq=False)
class Line:
    """Simple statements on one logical line (`a = 1; b = 2`): libcst's `SimpleStatementLine`."""

    body: tuple[ast.stmt, ...]


@record(eq=False)
class Arg:
    """One argument of a call, in source order, with the text libcst kept around it:
    `star` ("", "*", "**"), the keyword, the value (its parentheses included), the comma
    after it (with the whitespace on both sides) and, for a last argument without a
    trailing comma, the whitespace before the closing parenthesis."""

    node: ast.expr
    value: ast.expr
    keyword: str | None
    star: str
    start: int
    value_start: int
    value_end: int
    comma: str | None
    whitespace_after: str
    prefix: str  # the code before the value: `*`, `**`, `name=` (as written)


@record(eq=False)
class CallText:
    func_end: int
    open_paren: int
    close_paren: int
    args: list[Arg]


def call_args(call: ast.Call) -> list[Arg]:
    """The call's arguments in source order (computed once per call)."""
    cached: list[Arg] | None = getattr(call, "lm_args", None)
    if cached is not None:
        return cached
    items: list[ast.AST] = [*call.args, *call.keywords]
    if call.keywords and call.args:
        items.sort(key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
    args = [_bare_arg(item) for item in items]
    # The tree is shared by analyses of the same text (the prefilter caches the parse), and
    # rules compare these records by identity: one list per call, whichever thread asks.
    with _CALLS_LOCK:
        raced: list[Arg] | None = getattr(call, "lm_args", None)
        if raced is not None:
            return raced
        call.lm_args = args  # type: ignore[attr-defined]
    return args


def call_text(call: ast.Call, source: SourceText) -> CallText:
    """Where the call's parentheses are, and the text around each argument (filled into
    the `call_args` records, once)."""
    with _CALLS_LOCK:
        return _call_text(call, source)


def _call_text(call: ast.Call, source: SourceText) -> CallText:
    found: CallText | None = getattr(call, "lm_text", None)
    if found is not None:
        return found
    args = call_args(call)
    text = source.text
    func_end = _close_own(source, call.func, source.end(call.func))
    open_paren = skip_space(text, func_end, len(text))
    close_paren = source.end(call) - 1
    cursor = open_paren + 1
    for arg in args:
        item = arg.node if arg.star != "**" and arg.keyword is None else None
        start = source.start(item) if item is not None else _keyword_start(call, arg, source)
        arg.start = start
        if arg.keyword is not None or arg.star:
            if arg.keyword is not None:
                equal = text.index("=", start + len(arg.keyword))
                value_start = skip_space(text, equal + 1, len(text))
            else:
                value_start = skip_space(text, start + len(arg.star), len(text))
            arg.prefix = text[start:value_start]
            arg.value_start = value_start
            arg.value_end = _keyword_end(call, arg, source)
        else:
            # Parentheses between the separator and the argument are the argument's own.
            opened = _open_parens(text, cursor, start)
            end = source.end(arg.value)
            for _ in range(opened):
                start = text.rindex("(", 0, start)
                end = skip_space(text, end, close_paren) + 1
            arg.start = arg.value_start = start
            arg.value_end = end
        cursor = arg.value_end
    for i, arg in enumerate(args):
        stop = args[i + 1].start if i + 1 < len(args) else close_paren
        between = text[arg.value_end : stop]
        if _comma_at(text, arg.value_end, stop) is None:
            arg.comma, arg.whitespace_after = None, between
        else:
            arg.comma, arg.whitespace_after = between, ""
    found = CallText(func_end, open_paren, close_paren, args)
    call.lm_text = found  # type: ignore[attr-defined]
    return found


def _keyword_node(call: ast.Call, arg: Arg) -> ast.AST:
    if arg.star == "*":
        return arg.node
    return next(k for k in call.keywords if k.value is arg.value)


def _keyword_start(call: ast.Call, arg: Arg, source: SourceText) -> int:
    return source.start(_keyword_node(call, arg))


def _keyword_end(call: ast.Call, arg: Arg, source: SourceText) -> int:
    return source.end(_keyword_node(call, arg))


def _close_own(source: SourceText, func: ast.expr, end: int) -> int:
    # `(f)(x)`: the callee's own parentheses end before the call's.
    text = source.text
    start = source.start(func)
    while True:
        before = start
        while before > 0 and text[before - 1] in _WHITESPACE:
            before -= 1
        if before == 0 or text[before - 1] != "(":
            return end
        after = skip_space(text, end, len(text))
        if after >= len(text) or text[after] != ")":
            return end
        # The next `(` after the closing one must be the call's.
        start, end = before - 1, after + 1


def _open_parens(text: str, index: int, high: int) -> int:
    """The opening parentheses between `index` and `high`, comments left out."""
    count = 0
    while index < high:
        index = skip_space(text, index, high)
        if index < high and text[index] == "(":
            count += 1
        index += 1
    return count


def _comma_at(text: str, index: int, high: int) -> int | None:
    while index < high:
        index = skip_space(text, index, high)
        if index < high and text[index] == ",":
            return index
        index += 1
    return None


def _bare_arg(item: ast.AST) -> Arg:
    if isinstance(item, ast.keyword):
        star = "**" if item.arg is None else ""
        return Arg(item.value, item.value, item.arg, star, 0, 0, 0, None, "", "")
    if isinstance(item, ast.Starred):
        return Arg(item, item.value, None, "*", 0, 0, 0, None, "", "")
    assert isinstance(item, ast.expr)
    return Arg(item, item, None, "", 0, 0, 0, None, "", "")


def children(node: ast.AST) -> list[ast.AST]:
    """The node's children in source order (operators and contexts left out)."""
    # A function per node type instead of a chain of isinstance tests: the collector asks
    # this of every node of the module.
    special = _CHILDREN.get(type(node))
    if special is not None:
        return special(node)
    return field_children(node)


def field_children(node: ast.AST) -> list[ast.AST]:
    """The node's children in the order of its fields (operators and contexts left out):
    source order for every node type but the ones `children` orders itself."""
    out: list[ast.AST] = []
    for name in node._fields:
        field_value = getattr(node, name, None)
        if isinstance(field_value, ast.AST):
            if not isinstance(field_value, _SKIP):
                out.append(field_value)
        elif isinstance(field_value, list):
            for item in field_value:
                if isinstance(item, ast.AST) and not isinstance(item, _SKIP):
                    out.append(item)
    return out


def _function_children(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    out: list[ast.AST] = [*node.decorator_list, node.args]
    if node.returns is not None:
        out.append(node.returns)
    out.extend(node.body)
    return out


def _class_children(node: ast.ClassDef) -> list[ast.AST]:
    bases: list[ast.AST] = [*node.bases, *node.keywords]
    if node.keywords and node.bases:
        bases.sort(key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
    return [*node.decorator_list, *bases, *node.body]


def _call_children(node: ast.Call) -> list[ast.AST]:
    if node.keywords and node.args:
        items: list[ast.AST] = [*node.args, *node.keywords]
        items.sort(key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
        return [node.func, *items]
    return [node.func, *node.args, *node.keywords]


def _dict_children(node: ast.Dict) -> list[ast.AST]:
    out: list[ast.AST] = []
    for key, value in zip(node.keys, node.values):
        if key is not None:
            out.append(key)
        out.append(value)
    return out


def _arguments_children(node: ast.arguments) -> list[ast.AST]:
    # The fields' order (what `ast.iter_child_nodes` gives), then sorted, stably.
    found: list[ast.AST] = [*node.posonlyargs, *node.args]
    if node.vararg is not None:
        found.append(node.vararg)
    found += node.kwonlyargs
    found += [default for default in node.kw_defaults if default is not None]
    if node.kwarg is not None:
        found.append(node.kwarg)
    found += node.defaults
    found.sort(key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
    return found


def _none(node: ast.AST) -> list[ast.AST]:
    return []


def _value(node: ast.Attribute | ast.keyword | ast.Starred | ast.Expr) -> list[ast.AST]:
    return [node.value]


def _optional_value(node: ast.Return | ast.Yield) -> list[ast.AST]:
    return [node.value] if node.value is not None else []


def _annotation(node: ast.arg) -> list[ast.AST]:
    return [node.annotation] if node.annotation is not None else []


def _subscript(node: ast.Subscript) -> list[ast.AST]:
    return [node.value, node.slice]


def _binop(node: ast.BinOp) -> list[ast.AST]:
    return [node.left, node.right]


def _compare(node: ast.Compare) -> list[ast.AST]:
    return [node.left, *node.comparators]


def _elements(node: ast.Tuple | ast.List | ast.Set) -> list[ast.AST]:
    return list(node.elts)


def _assign(node: ast.Assign) -> list[ast.AST]:
    return [*node.targets, node.value]


def _if_exp(node: ast.IfExp) -> list[ast.AST]:
    return [node.body, node.test, node.orelse]


# The children of the commonest nodes, each what `field_children` gives (a test checks on
# real code), or the source order where the fields' order differs from it.
_CHILDREN: dict[type[ast.AST], Callable[[Any], list[ast.AST]]] = {
    ast.FunctionDef: _function_children,
    ast.AsyncFunctionDef: _function_children,
    ast.ClassDef: _class_children,
    ast.Call: _call_children,
    ast.Dict: _dict_children,
    ast.IfExp: _if_exp,
    ast.arguments: _arguments_children,
    ast.Name: _none,
    ast.Constant: _none,
    ast.Pass: _none,
    ast.Break: _none,
    ast.Continue: _none,
    ast.Attribute: _value,
    ast.keyword: _value,
    ast.Starred: _value,
    ast.Expr: _value,
    ast.Return: _optional_value,
    ast.arg: _annotation,
    ast.Subscript: _subscript,
    ast.BinOp: _binop,
    ast.Compare: _compare,
    ast.Tuple: _elements,
    ast.List: _elements,
    ast.Set: _elements,
    ast.Assign: _assign,
}


def named_children(node: ast.AST) -> list[ast.AST]:
    """The children libcst gave a node, as far as names go: an attribute's name, an
    argument's keyword and a parameter are `Name` nodes there (a bare `ast.Name` stands
    for each), so that walks that follow names follow the same ones."""
    if isinstance(node, ast.Attribute):
        return [node.value, ast.Name(id=node.attr)]
    if isinstance(node, ast.keyword):
        return [ast.Name(id=node.arg), node.value] if node.arg else [node.value]
    if isinstance(node, ast.arg):
        return [ast.Name(id=node.arg), *children(node)]
    return children(node)


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """`node` and everything under it (order unspecified)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def identifiers(node: ast.AST) -> list[str]:
    """The identifiers a node itself spells (not its children's): what libcst's `Name`
    nodes were."""
    spelled = IDENTIFIERS.get(type(node))
    return spelled(node) if spelled is not None else []


def _alias_identifiers(node: ast.alias) -> list[str]:
    return [*node.name.split("."), *([node.asname] if node.asname else [])]


# The node types that spell identifiers, and how to read them (every other type spells none).
IDENTIFIERS: dict[type[ast.AST], Callable[[Any], list[str]]] = {
    ast.Name: lambda node: [node.id],
    ast.Attribute: lambda node: [node.attr],
    ast.FunctionDef: lambda node: [node.name],
    ast.AsyncFunctionDef: lambda node: [node.name],
    ast.ClassDef: lambda node: [node.name],
    ast.arg: lambda node: [node.arg],
    ast.keyword: lambda node: [node.arg] if node.arg else [],
    ast.alias: _alias_identifiers,
    ast.ImportFrom: lambda node: node.module.split(".") if node.module else [],
    ast.Global: lambda node: list(node.names),
    ast.Nonlocal: lambda node: list(node.names),
    ast.ExceptHandler: lambda node: [node.name] if node.name else [],
}


def inline_body(body: list[ast.stmt], source: SourceText) -> bool:
    """Whether a block is written on its header's line (`if x: y()`, libcst's
    `SimpleStatementSuite`) rather than indented below it."""
    if not body:
        return False
    first = body[0]
    line = source.lines[first.lineno - 1]
    prefix = line.encode("utf-8")[: first.col_offset] if not line.isascii() else line[: first.col_offset]
    return bool(prefix.strip())


def ends_line(statement: ast.stmt, nxt: ast.stmt | None) -> bool:
    return nxt is None or nxt.lineno != statement.end_lineno
