"""Reading a call's arguments."""

from __future__ import annotations

import ast

from lint_mainlayer.rules.tree import Arg, call_args


def args_of(call: ast.Call) -> tuple[list[Arg], dict[str, Arg]]:
    """Positional and keyword arguments of a call (`*args`/`**kwargs` excluded)."""
    args = call_args(call)
    positional = [a for a in args if a.keyword is None and not a.star]
    keywords = {a.keyword: a for a in args if a.keyword is not None}
    return positional, keywords


def has_star_args(call: ast.Call) -> bool:
    return any(a.star for a in call_args(call))


def config_arg(call: ast.Call) -> Arg | None:
    """The argument that passes the config: first positional or `config=`."""
    positional, keywords = args_of(call)
    if "config" in keywords:
        return keywords["config"]
    return positional[0] if positional else None


def string_value(node: ast.AST | None) -> str | None:
    """The value of a plain string literal (no f-string), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None
