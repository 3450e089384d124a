"""Where does the config handed to a main layer come from?

`pretrained`: `XConfig.from_pretrained(...)`/`AutoConfig.from_pretrained(...)`, directly or
through names bound earlier in the same unit, or once at module level. `scratch`: a config
built from hyperparameters (`BertConfig(...)`), meaning training from scratch. `unknown`:
anything else (a parameter, an attribute, `from_dict`, a conditional that mixes kinds).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import libcst as cst

from lint_mainlayer.rules.calls import args_of, config_arg
from lint_mainlayer.rules.facts import Construction
from lint_mainlayer.rules.scope import Unit, binding_at, dotted, param_default

_MAX_DEPTH = 8


@dataclass(frozen=True)
class Origin:
    kind: str  # "pretrained" | "scratch" | "unknown"
    why: str
    # For "pretrained": the from_pretrained call, its checkpoint argument, and where it is.
    call: cst.Call | None = None
    checkpoint: cst.BaseExpression | None = None
    unit: Unit | None = None
    index: int = 0
    # The config is a parameter whose default is this pretrained config: callers may pass another.
    via_default: bool = False


def config_origin(site: Construction) -> Origin | None:
    """The origin of the site's config; None when the call passes no config at all."""
    arg = config_arg(site.call)
    if arg is None:
        return None
    return _classify(arg.value, site.unit, site.index, 0)


def _classify(expr: cst.BaseExpression, unit: Unit, index: int, depth: int) -> Origin:
    if depth > _MAX_DEPTH:
        return Origin("unknown", "a config passed through many names")
    if isinstance(expr, cst.Call):
        return _classify_call(expr, unit, index)
    if isinstance(expr, cst.IfExp):
        body = _classify(expr.body, unit, index, depth + 1)
        orelse = _classify(expr.orelse, unit, index, depth + 1)
        if body.kind == orelse.kind == "scratch":
            return body
        return Origin("unknown", "a conditional config")
    name = dotted(expr)
    if name is None:
        return Origin("unknown", "a computed config")
    found = binding_at(name, unit, index)
    if found is None and name.endswith(".config"):
        # `model.config` of a model loaded with `from_pretrained` is that checkpoint's config.
        holder = _classify(cst.parse_expression(name[: -len(".config")]), unit, index, depth + 1)
        if holder.kind == "pretrained":
            return replace(holder, why=f"`{name}`")
    if found is None:
        if "." not in name and name in unit.params:
            default = param_default(unit, name)
            if default is not None:
                origin = _classify(default, unit, index, depth + 1)
                if origin.kind == "pretrained":
                    return replace(origin, why=f"the parameter `{name}`", via_default=True)
            return Origin("unknown", f"the parameter `{name}`")
        what = "attribute" if "." in name else "name"
        return Origin("unknown", f"the {what} `{name}`")
    bind, bind_unit = found
    if not bind.direct or bind.value is None or len(bind.targets) != 1:
        return Origin("unknown", f"`{name}`, bound indirectly")
    return _classify(bind.value, bind_unit, bind.index, depth + 1)


def _classify_call(call: cst.Call, unit: Unit, index: int) -> Origin:
    func = call.func
    callee = dotted(func) or ""
    last = callee.rpartition(".")[2]
    if isinstance(func, cst.Attribute) and last == "from_pretrained":
        positional, keywords = args_of(call)
        checkpoint = positional[0].value if positional else None
        if "pretrained_model_name_or_path" in keywords:
            checkpoint = keywords["pretrained_model_name_or_path"].value
        return Origin("pretrained", "a pretrained config", call, checkpoint, unit, index)
    if last.startswith("from_"):
        return Origin("unknown", f"`{callee}(...)`")
    if last.endswith("Config"):
        return Origin("scratch", "a config built from hyperparameters")
    return Origin("unknown", f"`{callee or 'a call'}(...)`")


def reusable_at(origin: Origin, site: Construction) -> bool:
    """Whether the checkpoint expression means the same value at the site (a safe fix)."""
    expr = origin.checkpoint
    if origin.via_default:
        return False
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        return isinstance(expr.evaluated_value, str)
    if not isinstance(expr, cst.Name) or origin.unit is None:
        return False
    name = expr.value
    if origin.unit is site.unit:
        return not any(
            name in b.targets and origin.index < b.index < site.index for b in site.unit.binds
        )
    # Built in an enclosing unit: the site must see that binding, unchanged.
    unit: Unit | None = site.unit
    while unit is not None and unit is not origin.unit:
        if unit.kind != "class" and name in unit.assigned_names():
            return False
        unit = unit.parent
    if unit is None:
        return False
    return sum(name in b.targets for b in origin.unit.binds) <= 1


def is_pure(expr: cst.BaseExpression | None) -> bool:
    """A name or attribute chain: evaluating it twice gives the same object."""
    return expr is not None and dotted(expr) is not None
