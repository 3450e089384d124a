"""Reading a call's arguments."""

from __future__ import annotations

import libcst as cst


def args_of(call: cst.Call) -> tuple[list[cst.Arg], dict[str, cst.Arg]]:
    """Positional and keyword arguments of a call (`*args`/`**kwargs` excluded)."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    keywords = {a.keyword.value: a for a in call.args if a.keyword is not None}
    return positional, keywords


def has_star_args(call: cst.Call) -> bool:
    return any(a.star for a in call.args)


def config_arg(call: cst.Call) -> cst.Arg | None:
    """The argument that passes the config: first positional or `config=`."""
    positional, keywords = args_of(call)
    if "config" in keywords:
        return keywords["config"]
    return positional[0] if positional else None


def string_value(node: cst.BaseExpression | None) -> str | None:
    """The value of a plain string literal (no f-string), else None."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None
