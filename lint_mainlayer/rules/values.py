"""Path values: which file a path expression names, as far as the module shows.

A checkpoint the program writes and later reads is its own, whatever the spelling:
`"weights/initial.h5"`, `OUT / "initial.h5"` with `OUT = Path("weights")`, and
`os.path.join("weights", "initial.h5")` are one file. `path_value` evaluates string
literals, f-strings, `+`, `os.path.join`, `pathlib` `/` and `joinpath`, `Path(...)`/`str(...)`,
and names bound in the unit or an enclosing one; what it cannot evaluate becomes an opaque
part (`{os.environ[...]}`, `{args.out}`, `{a call}`) that equals only the same expression.
It also says whether the value may be `None` (`os.environ.get(k)`, a `None` default): a
load of such a path loads nothing on a run where it is `None`.
"""

from __future__ import annotations

import ast

from lint_mainlayer.records import record
from lint_mainlayer.rules.calls import args_of, string_value
from lint_mainlayer.rules.scope import Unit, binding_at, dotted, param_default

_MAX_DEPTH = 10
_IDENTITY = frozenset({"Path", "PurePath", "PosixPath", "str", "fspath", "abspath", "normpath", "expanduser"})
_JOIN = frozenset({"join", "joinpath"})


@record(frozen=True)
class PathValue:
    # The normalised text, opaque parts in braces; None when nothing is known.
    text: str | None
    may_be_none: bool = False


def _normalise(text: str) -> str:
    while "//" in text:
        text = text.replace("//", "/")
    text = text.replace("/./", "/")
    while text.startswith("./"):
        text = text[2:]
    return text.rstrip("/") or text


def _join(parts: list[PathValue], sep: str) -> PathValue:
    texts = [p.text for p in parts]
    if any(t is None for t in texts):
        return PathValue(None, any(p.may_be_none for p in parts))
    return PathValue(_normalise(sep.join(t for t in texts if t is not None)), any(p.may_be_none for p in parts))


def path_value(expr: ast.expr, unit: Unit, index: int, depth: int = 0) -> PathValue:
    """The value of `expr` as seen at preorder `index` of `unit`."""
    if depth > _MAX_DEPTH:
        return PathValue(f"{{{unit.code(expr)}}}")
    literal = string_value(expr)
    if literal is not None:
        return PathValue(_normalise(literal))
    if _is_none(expr):
        return PathValue(None, True)
    if isinstance(expr, ast.JoinedStr):
        parts: list[PathValue] = []
        for part in expr.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.append(PathValue(part.value))
            elif isinstance(part, ast.FormattedValue):
                if part.format_spec is not None or part.conversion != -1:
                    parts.append(PathValue(f"{{{unit.code(part.value)}}}"))
                else:
                    parts.append(path_value(part.value, unit, index, depth + 1))
        return _join(parts, "")
    if isinstance(expr, ast.BinOp):
        sep = "/" if isinstance(expr.op, ast.Div) else "" if isinstance(expr.op, ast.Add) else None
        if sep is not None:
            left = path_value(expr.left, unit, index, depth + 1)
            right = path_value(expr.right, unit, index, depth + 1)
            return _join([left, right], sep)
    if isinstance(expr, ast.IfExp):
        body = path_value(expr.body, unit, index, depth + 1)
        orelse = path_value(expr.orelse, unit, index, depth + 1)
        if body.text is None and body.may_be_none:
            return PathValue(orelse.text, True)
        if orelse.text is None and orelse.may_be_none:
            return PathValue(body.text, True)
        return body if body == orelse else PathValue(None, body.may_be_none or orelse.may_be_none)
    if isinstance(expr, ast.Call):
        return _call_value(expr, unit, index, depth)
    name = dotted(expr)
    if name is not None:
        found = binding_at(name, unit, index)
        if found is not None:
            bind, bind_unit = found
            if bind.direct and bind.value is not None and len(bind.targets) == 1:
                return path_value(bind.value, bind_unit, bind.index, depth + 1)
        elif "." not in name and name in unit.params:
            default = param_default(unit, name)
            none = _is_none(default)
            return PathValue(f"{{{name}}}", none)
        return PathValue(f"{{{name}}}")
    return PathValue(f"{{{unit.code(expr)}}}")


def _call_value(call: ast.Call, unit: Unit, index: int, depth: int) -> PathValue:
    callee = dotted(call.func) or ""
    last = callee.rpartition(".")[2]
    positional, keywords = args_of(call)
    if last in _JOIN and positional:
        parts = [a.value for a in positional]
        if last == "joinpath" and isinstance(call.func, ast.Attribute):
            parts.insert(0, call.func.value)
        return _join([path_value(p, unit, index, depth + 1) for p in parts], "/")
    if last in _IDENTITY and len(positional) == 1 and not keywords:
        return path_value(positional[0].value, unit, index, depth + 1)
    if last in ("get", "getenv") and positional:
        key = unit.code(positional[0].value)
        default = positional[1].value if len(positional) > 1 else keywords["default"].value if "default" in keywords else None
        if default is None:
            return PathValue(f"{{{key}}}", True)
        return PathValue(f"{{{key}}}", _is_none(default))
    return PathValue(f"{{{unit.code(call)}}}")


def _is_none(expr: ast.AST | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None
