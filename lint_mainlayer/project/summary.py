"""Per-module summaries: plain data, computed from the rules' own in-module analysis.

Three products, each cached apart (`store`), because they depend on different inputs:

- `loaders_of(text)`: the module's top-level functions and classes that load weights into
  one of their parameters (what `Provenance._loader_params` computes in-module). It
  depends on the text alone. Each comes with when its load fills a main layer
  (`Loader.when`: always, by layer name, or into one attribute of the parameter).
- `factories_of(text)`: the module's top-level functions that return a config of a known
  origin (pretrained, with its checkpoint or the parameter that is, or scratch).
- `calls_of(text, ...)`: the module's calls of callables it imports from the project, each
  with the origin of every argument (`rules.origin`'s classification, in the caller's
  module: it follows the caller's own callers and the config factories it imports; an
  argument that is a parameter of the caller's own callable says so, for `index` to
  follow), and whether and when a load of pretrained weights reaches what the call
  returns (`rules.provenance`, counting the loader helpers the module imports from the
  project). It also counts methods called on an instance of an imported class. It
  depends on the text, the module's name and the loaders and factories it imports.

Cheap screens come first: a module that mentions no load method gets no loaders, and one
that imports nothing from the project has no calls, both without libcst.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from lint_mainlayer.project.imports import Import
from lint_mainlayer.records import record
from lint_mainlayer.types import ArgOrigin, Factory, Loader

# Words a load of weights cannot be written without (`provenance`'s load names, and the
# `from_pretrained` whose result rebinds a layer attribute).
_LOAD_WORDS = ("load_weights", "set_weights", ".restore(", ".read(", ".assign(", "set_value", "from_pretrained")


@record(frozen=True)
class CallSite:
    """A call of an imported project callable, as written (`callee`) at `line`."""

    callee: str
    line: int
    positional: tuple[ArgOrigin, ...] = ()
    keywords: tuple[tuple[str, ArgOrigin], ...] = ()
    star: bool = False
    loaded: bool = False
    # When the load fills a main layer inside what the callable returns (`Loader.when`).
    when: tuple[str, ...] = ()


def may_load(text: str) -> bool:
    """Whether the text could hold a load of weights at all."""
    return any(word in text for word in _LOAD_WORDS)


def _parse(text: str) -> Any:
    from lint_mainlayer.engine import parse

    parsed = parse(text)
    return None if isinstance(parsed, str) else parsed


def loaders_of(text: str) -> dict[str, Loader]:
    """Top-level functions and classes of the module that load weights into a parameter:
    name -> the parameters' positions and names (a class: its `__init__`'s, without `self`),
    and when the load fills a main layer (`Loader.when`)."""
    if not may_load(text):
        return {}
    module = _parse(text)
    if module is None:
        return {}
    from lint_mainlayer.rules.facts import collect
    from lint_mainlayer.rules.provenance import Provenance

    try:
        facts = collect(module, text)
        found = Provenance(facts)._loader_params()
    except RecursionError:
        return {}
    top = {u.name for u in facts.units if u.kind == "function" and u.parent is facts.module_unit}
    top |= {u.name for u in facts.units if u.kind == "class" and u.parent is facts.module_unit}
    return {name: loader for name, loader in found.items() if name in top}


def needs_callers(text: str) -> bool:
    """Whether a construction of the module may take its verdict from callers in other
    modules: one that no transformers model's `from_pretrained` loads (a main layer in a
    `TF*PreTrainedModel` subclass, or in a layer such a model builds, never does). A library
    of models (transformers itself) needs none, so its importers are never analysed."""
    module = _parse(text)
    if module is None:
        return False
    from lint_mainlayer.rules.base import Context
    from lint_mainlayer.rules.facts import collect
    from lint_mainlayer.rules.models import model_sites

    try:
        facts = collect(module, text)
        exempt = facts.graph.loaded_by_pretrained_models
        return any(not Context._in_classes(site, exempt) for site in [*facts.sites, *model_sites(facts)])
    except RecursionError:
        return True


def may_return_config(text: str) -> bool:
    """Whether the text could hold a function returning a config at all."""
    return "Config" in text or "from_pretrained" in text


def factories_of(text: str) -> dict[str, Factory]:
    """Top-level functions of the module that return a config whose origin their module
    shows (`rules.origin`: pretrained or scratch): name -> that origin, and the parameter
    that is its checkpoint, if one is."""
    if not may_return_config(text):
        return {}
    module = _parse(text)
    if module is None:
        return {}
    from lint_mainlayer.rules.facts import collect
    from lint_mainlayer.rules.origin import _Classifier
    from lint_mainlayer.rules.scope import binding_at

    found: dict[str, Factory] = {}
    try:
        facts = collect(module, text)
        classifier = _Classifier(facts)
        for unit in facts.units:
            if unit.kind != "function" or unit.parent is not facts.module_unit or unit.name is None or not unit.returns:
                continue
            origin = classifier._returned(unit.name, facts.module_unit, 0)
            if origin is None or origin.kind == "unknown":
                continue
            param = None
            checkpoint = origin.checkpoint
            if isinstance(checkpoint, ast.Name) and checkpoint.id in unit.params and origin.unit is unit:
                if binding_at(checkpoint.id, unit, origin.index) is None:
                    param = (unit.params.index(checkpoint.id), checkpoint.id)
            text_of = origin.checkpoint_code(facts.source.code) if checkpoint is not None else None
            found[unit.name] = Factory(ArgOrigin(origin.kind, origin.why, text_of), param)
    except RecursionError:
        return {}
    return found


def calls_of(
    text: str,
    imports: tuple[Import, ...],
    project_tops: frozenset[str],
    imported_loaders: Mapping[str, Loader],
    imported_factories: Mapping[str, Factory] | None = None,
) -> tuple[CallSite, ...]:
    """The module's calls of callables imported from the project (`project_tops`: the
    project's top-level modules and packages)."""
    locals_ = {i.local for i in imports if i.module.partition(".")[0] in project_tops}
    if not locals_ or not any(name in text for name in locals_):
        return ()
    module = _parse(text)
    if module is None:
        return ()
    from lint_mainlayer.rules.calls import args_of, has_star_args
    from lint_mainlayer.rules.project_callers import project_callable
    from lint_mainlayer.rules.scope import Unit, binding_at
    from lint_mainlayer.rules.facts import Construction, collect
    from lint_mainlayer.rules.origin import _Classifier
    from lint_mainlayer.rules.provenance import Provenance

    try:
        facts = collect(module, text)
        wanted = []
        for unit in facts.units:
            for event in unit.calls:
                callee = _callee(event.node, unit, event.index, locals_)
                if callee is not None:
                    wanted.append((event, unit, callee))
        if not wanted:
            return ()
        classifier = _Classifier(facts, imported_factories)
        provenance = Provenance(facts, imported_loaders)
        out = []
        for event, unit, callee in wanted:
            call = event.node

            def origin(expr: ast.expr) -> ArgOrigin:
                found = classifier.classify(expr, unit, event.index, 0)
                checkpoint = None
                if found.checkpoint is not None:
                    checkpoint = found.checkpoint_code(facts.source.code)
                parameter = _parameter(expr, unit, event.index) if found.kind == "unknown" else None
                return ArgOrigin(found.kind, found.why, checkpoint, parameter)

            def _parameter(expr: ast.expr, unit: Unit, index: int) -> tuple[str, int, str] | None:
                """The parameter of the unit's callable that `expr` is, when only other
                modules can tell what it holds."""
                if not isinstance(expr, ast.Name) or binding_at(expr.id, unit, index) is not None:
                    return None
                callable_ = project_callable(unit, facts)
                if callable_ is None or expr.id not in callable_[1] or classifier._callers(unit):
                    return None
                return callable_[0], callable_[1].index(expr.id), expr.id

            positional, keywords = args_of(call)
            target = Construction(call=call, unit=unit, index=event.index, klass=None, statement=None, assign_target=None)
            when = provenance.reached_when(target)
            out.append(
                CallSite(
                    callee=callee,
                    line=call.lineno,
                    positional=tuple(origin(a.value) for a in positional),
                    keywords=tuple((k, origin(a.value)) for k, a in keywords.items()),
                    star=has_star_args(call),
                    loaded=when is not None,
                    when=tuple(sorted(when or ())),
                )
            )
    except RecursionError:
        return ()
    return tuple(out)


def _callee(call: ast.Call, unit: Any, index: int, locals_: set[str]) -> str | None:
    """How a call of a project callable is written: its dotted name (`build_model`,
    `M.build_model`), or for a method called on an instance of an imported class
    (`Trainer(...).build(...)`, `trainer.build(...)` after `trainer = Trainer(...)`) the
    class's name, `().` and the method's; None for another call."""
    from lint_mainlayer.rules.scope import binding_at, dotted

    name = dotted(call.func)
    if name is not None and name.partition(".")[0] in locals_:
        return name
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    made: ast.expr | None = func.value
    if isinstance(made, ast.Name):
        found = binding_at(made.id, unit, index)
        made = found[0].value if found is not None and found[0].direct and len(found[0].targets) == 1 else None
    if not isinstance(made, ast.Call):
        return None
    klass = dotted(made.func)
    if klass is None or klass.partition(".")[0] not in locals_:
        return None
    return f"{klass}().{func.attr}"


# -- JSON, for the cache ---------------------------------------------------------------------


def origin_to_json(origin: ArgOrigin) -> list[Any]:
    return [origin.kind, origin.why, origin.checkpoint, list(origin.parameter) if origin.parameter is not None else None]


def origin_from_json(raw: Any) -> ArgOrigin:
    kind, why, checkpoint, parameter = raw
    if not isinstance(kind, str) or not isinstance(why, str) or not (checkpoint is None or isinstance(checkpoint, str)):
        raise TypeError("bad origin")
    found = (str(parameter[0]), int(parameter[1]), str(parameter[2])) if parameter is not None else None
    return ArgOrigin(kind, why, checkpoint, found)


def calls_to_json(calls: tuple[CallSite, ...]) -> list[Any]:
    return [
        {
            "callee": c.callee,
            "line": c.line,
            "positional": [origin_to_json(o) for o in c.positional],
            "keywords": [[k, origin_to_json(o)] for k, o in c.keywords],
            "star": c.star,
            "loaded": c.loaded,
            "when": list(c.when),
        }
        for c in calls
    ]


def factory_to_json(factory: Factory) -> list[Any]:
    return [origin_to_json(factory.origin), list(factory.param) if factory.param is not None else None]


def factory_from_json(raw: Any) -> Factory:
    origin, param = raw
    return Factory(origin_from_json(origin), (int(param[0]), str(param[1])) if param is not None else None)


def loader_to_json(loader: Loader) -> list[Any]:
    return [sorted(loader.params, key=str), sorted(loader.when)]


def loader_from_json(raw: Any) -> Loader:
    params, when = raw
    return Loader(frozenset(p if isinstance(p, int) else str(p) for p in params), frozenset(str(w) for w in when))


def calls_from_json(raw: Any) -> tuple[CallSite, ...]:
    if not isinstance(raw, list):
        raise TypeError("calls is not a list")
    return tuple(
        CallSite(
            str(c["callee"]),
            int(c["line"]),
            tuple(origin_from_json(o) for o in c["positional"]),
            tuple((str(k), origin_from_json(o)) for k, o in c["keywords"]),
            bool(c["star"]),
            bool(c["loaded"]),
            tuple(str(w) for w in c["when"]),
        )
        for c in raw
    )
