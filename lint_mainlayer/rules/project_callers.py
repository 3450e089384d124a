"""What the project's other modules say about a construction: the hooks through which the
rules consult the project (`rules.base.Context`; `project/` builds the `ProjectView`).

- `from_callers`: a config parameter that no caller in its module passes takes its origin
  from the callers in the project's other modules (`ProjectView.callers`): one caller that
  passes a pretrained config and does not load the result makes it that pretrained config
  (`via_caller`, as a caller in the module would); every caller passing a scratch config
  (or loading the result) makes it scratch; otherwise it stays unknown, and says which
  callers were seen.
- `loaded_by_callers`: what a function returns (or a class's instance holds) is loaded when
  every caller in the project loads it.

- `parameter_origin`: the same for a parameter that reaches the construction through
  another function of the module (`rules.origin`'s `outer` hook).

The callables followed: a module-level function, a top-level class through its `__init__`,
and a method of a top-level class called on an instance (`Trainer.build`). A caller's load
with a condition (`Loader.when`: by layer name, into one attribute) counts only when the
site's layer meets it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import ast

from lint_mainlayer.records import record
from lint_mainlayer.types import ArgOrigin, Caller, ProjectView
from lint_mainlayer.rules.calls import config_arg
from lint_mainlayer.rules.facts import Construction, ModuleFacts, Site
from lint_mainlayer.rules.origin import Origin, _Classifier
from lint_mainlayer.rules.provenance import Provenance
from lint_mainlayer.rules.scope import Unit, binding_at, dotted

_SHOWN_CALLERS = 3


@record(frozen=True)
class _Callable:
    """The module-level callable a construction belongs to, as other modules call it."""

    name: str
    unit: Unit
    # The parameter list other modules pass arguments to (a method's without `self`).
    params: tuple[str, ...]
    # A method called on an instance (`Trainer.build` for `trainer.build(config)`): what
    # the call returns is the method's return value, not the instance.
    method: bool = False


def project_callable(unit: Unit, facts: ModuleFacts) -> tuple[str, tuple[str, ...]] | None:
    """The name other modules call the function `unit` by (a module-level function, or a
    top-level class through its `__init__`) and the parameters they pass; None otherwise."""
    found = _callable_of(unit, facts)
    return (found.name, found.params) if found is not None else None


def _callable(site: Construction, facts: ModuleFacts) -> _Callable | None:
    return _callable_of(site.unit, facts)


def _callable_of(unit: Unit, facts: ModuleFacts) -> _Callable | None:
    if unit.kind != "function" or unit.name is None:
        return None
    if unit.owner is None and unit.parent is facts.module_unit:
        return _Callable(unit.name, unit, tuple(unit.params))
    owner = unit.owner
    if owner is None or owner.outer is not None or unit.parent is None or unit.parent.parent is not facts.module_unit:
        return None
    if unit.name == "__init__":
        return _Callable(owner.name, unit, tuple(unit.params[1:]))
    decorators = {dotted(d) for d in getattr(unit.node, "decorator_list", ())}
    if decorators & {"staticmethod", "classmethod", "property"} or unit.name.startswith("__"):
        return None
    return _Callable(f"{owner.name}.{unit.name}", unit, tuple(unit.params[1:]), method=True)


def _describe(caller: Caller, passed: ArgOrigin | None, loads: bool) -> str:
    if loads:
        return f"{caller.where} (loads the result)"
    if passed is None:
        return f"{caller.where} (config not visible)"
    if passed.kind == "pretrained":
        return f"{caller.where} (pretrained config)"
    if passed.kind == "scratch":
        return f"{caller.where} (scratch config)"
    return f"{caller.where} (unknown config: {passed.why})"


def from_callers(
    site: Construction, facts: ModuleFacts, view: ProjectView, origin: Origin | None, provenance: Provenance
) -> Origin | None:
    """The site's config origin once the project's callers are counted (see the module)."""
    if origin is None or origin.kind != "unknown" or (isinstance(site, Site) and site.copy_of is not None):
        return origin
    found = _callable(site, facts)
    arg = config_arg(site.call)
    name = dotted(arg.value) if arg is not None else None
    if found is None or name is None or name not in found.params:
        return origin
    if binding_at(name, site.unit, site.index) is not None or _Classifier(facts)._callers(site.unit):
        # Rebound before the call, or callers in the module decide (as today).
        return origin
    position = found.params.index(name)
    callers = view.callers.get(found.name, ())
    if not callers:
        return replace(origin, why=f"the parameter `{name}` (no caller in the project)")
    passed = [(c, None if c.star and c.argument(position, name) is None else c.argument(position, name)) for c in callers]
    fills = _filler(site, found, provenance)
    loading = {id(c) for c in callers if fills(c)}
    pending = [(c, p) for c, p in passed if id(c) not in loading]
    decided = _decided(f"the parameter `{name}`", pending)
    if decided is not None:
        return decided
    if not pending:
        # Every caller loads the result: `loaded_by_callers` says so.
        return origin
    shown = ", ".join(_describe(c, p, id(c) in loading) for c, p in passed[:_SHOWN_CALLERS])
    more = f" and {len(passed) - _SHOWN_CALLERS} more" if len(passed) > _SHOWN_CALLERS else ""
    return replace(origin, why=f"the parameter `{name}` (callers seen: {shown}{more})")


def parameter_origin(unit: Unit, name: str, facts: ModuleFacts, view: ProjectView) -> Origin | None:
    """The origin of the parameter `name` of the function `unit` from its callers in the
    project's other modules (as `from_callers` decides, a caller that loads the result
    counting as neither): None when they do not decide."""
    found = _callable_of(unit, facts)
    if found is None or name not in found.params:
        return None
    position = found.params.index(name)
    pending = [(c, c.argument(position, name)) for c in view.callers.get(found.name, ()) if not c.loaded]
    return _decided(f"the parameter `{name}` of `{found.name}`", pending)


def _decided(parameter: str, pending: list[tuple[Caller, ArgOrigin | None]]) -> Origin | None:
    """What the callers that do not load the result make of `parameter`: the first one's
    pretrained config, scratch when every one passes a scratch config, else None."""
    for caller, value in pending:
        if value is not None and value.kind == "pretrained":
            return Origin(
                "pretrained",
                f"{parameter}, to which `{caller.where}` passes {value.why}",
                checkpoint=_expression(value.checkpoint),
                via_caller=True,
                caller=caller.where,
                checkpoint_text=value.checkpoint,
            )
    if pending and all(p is not None and p.kind == "scratch" for _, p in pending):
        return Origin("scratch", f"{parameter}: every caller in the project passes a config built from hyperparameters")
    return None


def loaded_by_callers(site: Construction, facts: ModuleFacts, view: ProjectView, provenance: Provenance) -> bool:
    """Whether every caller of the site's function or class, in the project's other
    modules, loads pretrained weights into what it returns (a class: the instance)."""
    found = _callable(site, facts)
    if found is None:
        return False
    callers = list(view.callers.get(found.name, ()))
    # Callables of the module that return (a class: whose instance holds) what the site's
    # callable returns, a config handed on inside the module: their callers run it too.
    for unit in facts.units:
        wrapper = _callable_of(unit, facts)
        if wrapper is None or unit is found.unit or found.name not in unit.names:
            continue
        held = provenance._holders(unit, {f"call:{found.name}"}, None, {})
        if ("self" in held) if not wrapper.method and unit.owner is not None else any(provenance.holds(v, held, None) for v in unit.returns):
            callers.extend(view.callers.get(wrapper.name, ()))
    if not callers:
        return False
    fills = _filler(site, found, provenance)
    return all(fills(c) for c in callers)


def _filler(site: Construction, found: _Callable, provenance: Provenance) -> Callable[[Caller], bool]:
    """Whether a caller's load fills the site's layer: it loads what the site's function
    returns (a class: the instance) and, for a conditional load (`Loader.when`), the layer
    has the checkpoint's name or sits at the attribute loaded."""
    held = provenance._holders(site.unit, {f"site:{id(site.call)}"}, site, {})
    paths: set[str] | None = None
    if found.unit.owner is not None and not found.method:
        # A class: its instance holds what `__init__` stores on `self`.
        if "self" in held:
            paths = {t[len("self."):] for t in held if t.startswith("self.")}
    else:
        for value in found.unit.returns:
            if provenance.holds(value, held, None):
                paths = paths or set()
                if isinstance(value, ast.Name):
                    paths |= {t[len(value.id) + 1:] for t in held if t.startswith(value.id + ".")}
    if paths is None:
        return lambda caller: False
    result = paths
    return lambda caller: caller.loaded and provenance.fills(site, caller.when, result)


def _expression(text: str | None) -> ast.expr | None:
    """The parse of a caller's checkpoint code (parenthesised: it may span lines)."""
    if text is None:
        return None
    try:
        return ast.parse(f"({text})", mode="eval").body
    except SyntaxError:
        return None
