"""Where a constructed layer's weights come from: does a load of pretrained weights reach it?

What it models
--------------
*Holders.* Starting from the constructing call, a value holds the layer when it is the layer,
or a value built from it: a name bound to an expression that uses a holder (`out =
bert(ids)[0]`, `model = tf.keras.Model(ids, out)`, `Sequential([bert])`,
`tf.train.Checkpoint(model=model)`), a container a holder was added to (`model.add(bert)`),
the object whose attribute was bound to a holder (`self.bert = ...` makes `self` a holder,
not `self.step`), an instance of a class of the module that stores it, the result of a local
function that returns it, and the variables of a holder (`bert.weights`, `model.variables`,
a loop over them). Names are exact: an attribute of a holder holds the layer only when it
was bound to it (`self.bert`, `wrapper.bert` of an instance) or is a variable view.
`model.get_layer("bert")` holds it when the literal or constant name is the layer's `name=`.

*Loads.* A call loads pretrained weights into the layer when its *target* holds it
(`load_weights`, `set_weights`, `assign`, a checkpoint `restore`/`read`,
`keras.backend.(batch_)set_value`) and its *source* is not the program's own weights:
- `set_weights`/`assign` of values derived from a holder's `get_weights()` or variables
  (averaging snapshots, restoring the best epoch) are the model's own weights, and those
  of another construction of the module that nothing loads (a teacher built from the
  same config) are random too;
- `load_weights`/`restore`/`read` of a path the program writes (`save_weights`, `save`,
  `ModelCheckpoint`, a `CheckpointManager` directory and its `latest_checkpoint`) are its
  own checkpoint, compared by path value (`rules.values`); a path that may be `None`
  (`os.environ.get(k)`) loads nothing on the run where it is;
- but a file written from a `from_pretrained` model holds pretrained weights;
- `load_weights(h5, by_name=True)` fills a main layer only when its `name=` is the prefix
  checkpoints store (`bert`).
For a target whose inside the module cannot see (a loader helper's parameter, a call of
another module's callable), `reached_when` and the loader table say when the loads found
fill a main layer (`Loader.when`): always, by layer name, or into one attribute of the
value (`model.bert = TFBertModel.from_pretrained(...).bert`, `model.bert.set_weights(...)`).
A local function that loads into one of its parameters (itself, or through a helper
defined before it) loads into what a caller passes, under its condition, and so does a class whose `__init__` stores a parameter that one of its methods loads
into (`Trainer(model).warm_start()`).
A holder attribute rebound to a `from_pretrained` result after the construction
(`model.bert = TFBertModel.from_pretrained(...).bert`) replaces the layer: it is dead, and
counts as reached.

*Order.* In the unit that builds the layer, only loads after the construction count; in
other units (other methods on `self`, callers, functions reading a module-level holder)
any load counts.

Copies (`clone_model`, `X.from_config(y.get_config())`) are constructions of their own
(`facts`): they do not hold the layer they copy, and a load into a copy is not a load into
the original.

Cost: each unit records the identifiers it mentions, so a unit that never mentions a
holder is skipped without looking at its statements, and expressions' identifiers are
computed once; `reached` is cached per construction (`Context` keeps one `Provenance`).

What it does not model
----------------------
Branches (a load under `if` counts as if it always ran, unless its path may be `None`),
aliasing through containers indexed by computed keys, values passed through other modules
(but for the project analysis' loader helpers, `Provenance(facts, imported_loaders)`),
partial loads (`bert.embeddings.set_weights(...)` is not a load of the layer), and paths
built by calls it cannot evaluate (those compare equal only to the same expression).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import field

from lint_mainlayer.records import record
from lint_mainlayer.rules.calls import args_of, string_value
from lint_mainlayer.rules.facts import Construction, ModuleFacts, Site
from lint_mainlayer.rules.scope import Bind, Unit, binding_at, dotted
from lint_mainlayer.rules.tree import Arg, call_args, children
from lint_mainlayer.rules.tree import named_children as _named_children
from lint_mainlayer.rules.values import path_value
from lint_mainlayer.types import Loader

# Methods by which a container or model takes in a layer.
_ADD_METHODS = frozenset({"add", "append", "extend", "insert", "setdefault", "update", "add_module"})
_SET_VALUE = frozenset({"batch_set_value", "set_value"})
_PATH_LOADS = frozenset({"load_weights", "restore", "read"})
_VALUE_LOADS = frozenset({"set_weights", "assign"})
_LOAD_NAMES = _PATH_LOADS | _VALUE_LOADS | _SET_VALUE
# Attributes of a holder that are (lists of) its variables or sub-layers.
_PARTS = frozenset(
    {
        "weights", "variables", "trainable_weights", "trainable_variables",
        "non_trainable_weights", "non_trainable_variables", "layers", "submodules",
    }
)
# Methods whose result is a copy or a description, not the layer.
_COPIES = frozenset(
    {"get_weights", "get_config", "count_params", "to_json", "summary", "save_weights", "save", "clone_model", "from_config"}
)
_SAVES = frozenset({"save_weights", "save", "save_pretrained", "write"})
# The callees whose arguments name a file the program writes (`_collect_files`).
_WRITES = _SAVES | {"ModelCheckpoint", "CheckpointManager"}


def _prefixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


@record
class _Files:
    """Paths the program writes: from its own weights, or from a pretrained model."""

    own: set[str] = field(default_factory=set)
    pretrained: set[str] = field(default_factory=set)
    own_dirs: set[str] = field(default_factory=set)


class Provenance:
    """Answers `reached(construction)` for the constructions of one module."""

    def __init__(self, facts: ModuleFacts, imported_loaders: Mapping[str, Loader] | None = None) -> None:
        self.facts = facts
        # PROJECT HOOK (issue 16): callables imported from other modules of the project that
        # load weights into a parameter (local dotted name -> parameters and when), as
        # `project.index` found them; they count as this module's own loader helpers.
        self._imported_loaders = dict(imported_loaders or {})
        self._files = self._collect_files()
        self._loaders: dict[str, Loader] | None = None
        self._held: dict[int, set[str]] = {}
        self._active: set[int] = set()
        self._key_cache: dict[int, frozenset[str]] = {}
        self._reached: dict[int, bool] = {}
        self._may_load_cache: dict[int, bool] = {}

    # -- the files the program writes --------------------------------------------------

    def _collect_files(self) -> _Files:
        files = _Files()
        for unit in self.facts.units:
            for event in unit.calls:
                call = event.node
                callee = dotted(call.func) or ""
                last = callee.rpartition(".")[2]
                if last not in _WRITES:
                    continue
                positional, keywords = args_of(call)
                if isinstance(call.func, ast.Attribute) and last in _SAVES:
                    path = keywords.get("filepath") or keywords.get("file_prefix") or (positional[0] if positional else None)
                    if path is None:
                        continue
                    value = path_value(path.value, unit, event.index)
                    if value.text is None:
                        continue
                    if self._from_pretrained(call.func.value, unit, event.index, 0):
                        files.pretrained.add(value.text)
                    else:
                        files.own.add(value.text)
                elif last == "ModelCheckpoint":
                    path = keywords.get("filepath") or (positional[0] if positional else None)
                    if path is not None:
                        value = path_value(path.value, unit, event.index)
                        if value.text is not None:
                            files.own.add(value.text)
                elif last == "CheckpointManager":
                    path = keywords.get("directory") or (positional[1] if len(positional) > 1 else None)
                    if path is not None:
                        value = path_value(path.value, unit, event.index)
                        if value.text is not None:
                            files.own_dirs.add(value.text)
        return files

    def _from_pretrained(self, expr: ast.expr, unit: Unit, index: int, depth: int) -> bool:
        """Whether `expr` is (built from) a `from_pretrained` result."""
        if depth > 6:
            return False
        stack: list[ast.AST] = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Call) and _loads_model(node):
                return True
            name = dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
            if name is not None:
                found = binding_at(name, unit, index)
                if found is not None and found[0].value is not None:
                    bind, bind_unit = found
                    if self._from_pretrained(bind.value, bind_unit, bind.index, depth + 1):  # type: ignore[arg-type]
                        return True
                if isinstance(node, ast.Name):
                    continue
            stack.extend(_named_children(node))
        return False

    def _path_loads_pretrained(self, expr: ast.expr, unit: Unit, index: int) -> bool:
        """Whether reading the checkpoint at `expr` may load pretrained weights."""
        name = dotted(expr) or ""
        if name.endswith(".latest_checkpoint"):
            # A CheckpointManager's: the program's own, and None on a first run.
            return False
        if isinstance(expr, ast.Call) and (dotted(expr.func) or "").endswith("latest_checkpoint"):
            return False
        written = expr
        if isinstance(expr, ast.Name):
            found = binding_at(expr.id, unit, index)
            if found is not None and found[0].direct and found[0].value is not None:
                written = found[0].value
        if isinstance(written, ast.Call) and isinstance(written.func, ast.Attribute) and written.func.attr in _SAVES:
            # `path = checkpoint.save(prefix)`: the file this program just wrote.
            return self._from_pretrained(written.func.value, unit, index, 0)
        value = path_value(expr, unit, index)
        if value.text is not None and value.text in self._files.pretrained:
            return True
        if value.may_be_none:
            return False
        if value.text is not None:
            if value.text in self._files.own:
                return False
            if any(value.text == d or value.text.startswith(d + "/") for d in self._files.own_dirs):
                return False
        return True

    # -- holders -----------------------------------------------------------------------

    def _chain_holds(self, name: str, held: set[str]) -> bool:
        if name in held:
            return True
        parts = name.split(".")
        for i in range(len(parts) - 1, 0, -1):
            if ".".join(parts[:i]) in held:
                return parts[i] in _PARTS
        return False

    def _keys(self, node: ast.AST) -> frozenset[str]:
        """The names, `site:` and `call:` markers anywhere in `node`: if none is a holder's
        root, nothing in `node` holds the layer (a cheap test, cached per node)."""
        cached = self._key_cache.get(id(node))
        if cached is not None:
            return cached
        keys: set[str] = set()
        stack: list[ast.AST] = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, ast.Name):
                keys.add(current.id)
            elif isinstance(current, ast.Call):
                keys.add(f"site:{id(current)}")
                callee = dotted(current.func)
                if callee is not None:
                    keys.add(f"call:{callee}")
            stack.extend(_named_children(current))
        result = frozenset(keys)
        self._key_cache[id(node)] = result
        return result

    def holds(self, expr: ast.AST, held: set[str], target: Construction | None) -> bool:
        """Whether the value of `expr` uses a holder of the layer."""
        keys = self._keys(expr)
        if not any((h if ":" in h else h.partition(".")[0]) in keys for h in held):
            return False
        stack: list[ast.AST] = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name):
                if node.id in held:
                    return True
                continue
            if isinstance(node, ast.Attribute):
                name = dotted(node)
                if name is not None:
                    if self._chain_holds(name, held):
                        return True
                    continue
                stack.append(node.value)
                continue
            if isinstance(node, ast.Call):
                if f"site:{id(node)}" in held:
                    return True
                callee = dotted(node.func)
                if callee is not None and f"call:{callee}" in held:
                    return True
                if isinstance(node.func, ast.Attribute):
                    method = node.func.attr
                    if method in _COPIES:
                        continue
                    if method == "get_layer":
                        if self.holds(node.func.value, held, target) and self._layer_named(node, target):
                            return True
                        continue
                stack.extend(a.value for a in call_args(node))
                stack.append(node.func)
                continue
            if isinstance(node, ast.Lambda):
                stack.append(node.body)
                continue
            stack.extend(_named_children(node))
        return False

    def _layer_named(self, get_layer: ast.Call, target: Construction | None) -> bool:
        """Whether `x.get_layer(NAME)` can be the constructed layer."""
        if target is None or not call_args(get_layer):
            return True
        wanted = _literal(call_args(get_layer)[0].value, target.unit, target.index)
        if wanted is None:
            return True
        return wanted == layer_name(target)

    def _holders(self, unit: Unit, seeds: set[str], target: Construction | None, attrs: dict[str, set[str]]) -> set[str]:
        held = set(seeds)
        roots = {h.rpartition(":")[2].partition(".")[0] for h in held}
        if not any(h.startswith("site:") for h in held) and not roots & unit.names:
            # The unit never mentions a holder: nothing in it can hold or load the layer.
            return held
        changed = True
        while changed:
            changed = False
            for bind in unit.binds:
                if bind.value is None:
                    continue
                targets = [t for t, value in _pairs(bind) if self.holds(value, held, target)]
                if not targets:
                    continue
                new = {p for t in targets for p in _prefixes(t)}
                # An instance of a class storing the layer holds it under that attribute.
                if isinstance(bind.value, ast.Call):
                    callee = dotted(bind.value.func)
                    for suffix in attrs.get(callee or "", ()):
                        new |= {t + suffix for t in targets}
                new -= held
                if new:
                    held |= new
                    changed = True
            for event in unit.calls:
                func = event.node.func
                if not (isinstance(func, ast.Attribute) and func.attr in _ADD_METHODS):
                    continue
                receiver = dotted(func.value)
                if receiver is None or receiver in held:
                    continue
                if any(self.holds(a.value, held, target) for a in call_args(event.node)):
                    held |= set(_prefixes(receiver))
                    changed = True
        return held

    def _own_names(self, unit: Unit, held: set[str]) -> set[str]:
        """Names whose values derive from the holders' own weights."""
        own: set[str] = set()
        changed = True
        while changed:
            changed = False
            for bind in unit.binds:
                if bind.value is None:
                    continue
                for name, expr in _pairs(bind):
                    if name not in own and self._own(expr, held, own):
                        own.add(name)
                        changed = True
            for event in unit.calls:
                func = event.node.func
                if isinstance(func, ast.Attribute) and func.attr in _ADD_METHODS:
                    receiver = dotted(func.value)
                    if receiver and receiver not in own and any(self._own(a.value, held, own) for a in call_args(event.node)):
                        own.add(receiver)
                        changed = True
        return own

    def _own(self, expr: ast.AST, held: set[str], own: set[str]) -> bool:
        stack: list[ast.AST] = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name):
                if node.id in own:
                    return True
                continue
            if isinstance(node, ast.Attribute):
                name = dotted(node)
                if name is not None:
                    if name in own or (name not in held and self._chain_holds(name, held)):
                        return True
                    continue
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get_weights"
                and self.holds(node.func.value, held, None)
            ):
                return True
            stack.extend(_named_children(node))
        return False

    # -- loads -------------------------------------------------------------------------

    def _loads(
        self,
        unit: Unit,
        held: set[str],
        after: int | None,
        target: Construction | None,
        sink: set[str] | None = None,
        aliases: frozenset[str] = frozenset(),
    ) -> bool:
        """Whether a call of `unit` (after `after`) loads pretrained weights into a holder.
        With `sink`, and a target whose inside this module cannot see (a loader's parameter,
        a call of another module's callable), the loads that fill a main layer only under a
        condition (`Loader.when`) are added to `sink` instead: by layer name, or into an
        attribute of one of `aliases` (names of the target's value itself)."""
        own: set[str] | None = None
        opaque = sink is not None and not isinstance(target, Site)
        for event in unit.calls:
            if after is not None and event.index <= after:
                continue
            call = event.node
            func = call.func
            if isinstance(func, ast.Attribute):
                method = func.attr
                # Only the loads below read the arguments: most calls are none.
                positional, keywords = args_of(call) if method in _LOAD_NAMES else ([], {})
                if method in _PATH_LOADS and self.holds(func.value, held, target):
                    path = keywords.get("filepath") or keywords.get("save_path") or (positional[0] if positional else None)
                    if path is not None and not self._path_loads_pretrained(path.value, unit, event.index):
                        continue
                    if method == "load_weights" and _is_true(keywords.get("by_name")):
                        if opaque:
                            assert sink is not None
                            sink.add(BY_NAME)
                            continue
                        if not self._by_name_fills(target):
                            continue
                    return True
                if method in _VALUE_LOADS and self.holds(func.value, held, target):
                    source = keywords.get("weights") or keywords.get("value") or (positional[0] if positional else None)
                    if source is not None:
                        own = self._own_names(unit, held) if own is None else own
                        if self._own(source.value, held, own) or self._random_source(source.value, unit, target):
                            continue
                    return True
                if method in _SET_VALUE and positional and self.holds(positional[0].value, held, target):
                    return True
                if opaque and method in _LOAD_NAMES - _SET_VALUE:
                    attribute = _attribute_of(dotted(func.value), aliases)
                    if attribute is not None and self._attribute_load(call, method, unit, event.index, held):
                        assert sink is not None
                        sink.add(ATTRIBUTE + attribute)
            callee = dotted(func)
            loaders = self._loader_params()
            if callee is not None and callee in loaders:
                loader = loaders[callee]
                for position, arg in enumerate(call_args(call)):
                    key: int | str = arg.keyword if arg.keyword else position
                    if key not in loader.params:
                        continue
                    if self.holds(arg.value, held, target):
                        if not loader.when or (sink is None and not isinstance(target, Site)):
                            return True
                        if opaque:
                            assert sink is not None
                            sink |= loader.when
                        elif any(self._fills_when(c, arg.value, held, target) for c in loader.when):
                            return True
                    elif opaque and not loader.when:
                        attribute = _attribute_of(dotted(arg.value), aliases)
                        if attribute is not None:
                            assert sink is not None
                            sink.add(ATTRIBUTE + attribute)
        # A holder attribute rebound to a pretrained layer: the constructed one is replaced.
        for bind in unit.binds:
            if after is not None and bind.index <= after:
                continue
            replaced = bind.value is not None and any("." in t and t in held for t in bind.targets)
            # A value that holds the layer itself does not replace it (nor makes what it
            # is bound to a holder that a load then replaces).
            replaced = replaced and not self.holds(bind.value, held, target)  # type: ignore[arg-type]
            if replaced and self._from_pretrained(bind.value, unit, bind.index, 0):  # type: ignore[arg-type]
                return True
            if opaque and bind.value is not None:
                paths = [p for p in (_attribute_of(t, aliases) for t in bind.targets) if p is not None]
                if paths and self._from_pretrained(bind.value, unit, bind.index, 0):
                    assert sink is not None
                    sink |= {ATTRIBUTE + p for p in paths}
        return False

    def _attribute_load(self, call: ast.Call, method: str, unit: Unit, index: int, held: set[str]) -> bool:
        """Whether a load call into an attribute of the target loads pretrained weights (as
        `_loads` tells for a holder: not the program's own checkpoint or weights)."""
        positional, keywords = args_of(call)
        if method in _PATH_LOADS:
            path = keywords.get("filepath") or keywords.get("save_path") or (positional[0] if positional else None)
            by_name = method == "load_weights" and _is_true(keywords.get("by_name"))
            return not by_name and (path is None or self._path_loads_pretrained(path.value, unit, index))
        source = keywords.get("weights") or keywords.get("value") or (positional[0] if positional else None)
        if source is None:
            return True
        return not self._own(source.value, held, self._own_names(unit, held)) and not self._random_source(source.value, unit, None)

    def _fills_when(self, condition: str, arg: ast.expr, held: set[str], target: Construction | None) -> bool:
        """Whether a loader's conditional load (`Loader.when`) into `arg` fills the target."""
        if condition == BY_NAME:
            return self._by_name_fills(target)
        name = dotted(arg)
        if not condition.startswith(ATTRIBUTE) or name is None:
            return False
        path = f"{name}.{condition[len(ATTRIBUTE):]}"
        return path in held or any(h.startswith(path + ".") for h in held)

    def fills(self, site: Construction, when: tuple[str, ...] | frozenset[str], result_paths: set[str]) -> bool:
        """Whether a load with these conditions (`Loader.when`) into a value holding the
        site's layer under `result_paths` (attribute paths; "" for the value itself) fills it."""
        if not when:
            return True
        for condition in when:
            if condition == BY_NAME and self._by_name_fills(site):
                return True
            if condition.startswith(ATTRIBUTE):
                path = condition[len(ATTRIBUTE):]
                if any(p == path or p.startswith(path + ".") for p in result_paths):
                    return True
        return False

    def _random_source(self, expr: ast.expr, unit: Unit, target: Construction | None) -> bool:
        """Whether `expr` reads the weights (`get_weights()`, `.weights`) of another
        construction of the module that no pretrained load reaches: copying them copies
        random weights (a "teacher" built from a config)."""
        for node in _walk(expr):
            holder: ast.expr | None = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get_weights":
                holder = node.func.value
            elif isinstance(node, ast.Attribute) and node.attr in _PARTS:
                holder = node.value
            name = dotted(holder) if holder is not None else None
            if name is None:
                continue
            for other in self.facts.sites:
                if other is target or (other.unit is not unit and other.unit is not self.facts.module_unit):
                    continue
                if name in self._site_holders(other) and not self._reached_guarded(other):
                    return True
        return False

    def _site_holders(self, site: Site) -> set[str]:
        key = id(site.call)
        if key not in self._held:
            self._held[key] = self._holders(site.unit, {f"site:{key}"}, site, {})
        return self._held[key]

    def _reached_guarded(self, site: Site) -> bool:
        key = id(site.call)
        if key in self._active:
            # A cycle (two layers copying each other): neither brings pretrained weights.
            return False
        self._active.add(key)
        try:
            return self.reached(site)
        finally:
            self._active.discard(key)

    def _by_name_fills(self, target: Construction | None) -> bool:
        """`load_weights(h5, by_name=True)` matches checkpoint prefixes to layer names."""
        if not isinstance(target, Site):
            return True
        name = layer_name(target)
        return name is not None and name in target.layer.fields

    def _loader_params(self) -> dict[str, Loader]:
        """Local functions that load weights into one of their parameters, and when."""
        if self._loaders is not None:
            return self._loaders
        # Filled as found: a helper defined earlier counts in the ones after it that call it.
        loaders: dict[str, Loader] = dict(self._imported_loaders)
        self._loaders = loaders
        for unit in self.facts.units:
            if unit.kind != "function" or not unit.params or unit.name is None:
                continue
            calls_loader = any(name.partition(".")[0] in unit.names for name in loaders)
            if not (
                self._may_load(unit)
                or calls_loader
                or (unit.name == "__init__" and unit.owner is not None and self._class_may_load(unit))
            ):
                continue
            params = unit.params[1:] if unit.owner is not None else unit.params
            found: set[int | str] = set()
            when: set[str] = set()
            always = False
            for position, param in enumerate(params):
                held = self._holders(unit, {param}, None, {})
                sink: set[str] = set()
                if self._loads(unit, held, None, None, sink, _aliases(unit, {param})) or self._method_loads(unit, held):
                    always = True
                elif not sink:
                    continue
                found |= {position, param}
                when |= sink
            if found:
                name = _callable_name(unit)
                if unit.owner is not None and unit.name == "__init__":
                    # `Trainer(model)`: the class stores the model and a method loads into it.
                    name = unit.owner.name
                loaders[name] = Loader(frozenset(found), frozenset() if always else frozenset(when))
        self._loaders = loaders
        return loaders

    def _may_load(self, unit: Unit) -> bool:
        """Whether `unit` has a call that could be a load, or rebinds an attribute (a cheap
        gate before computing holders)."""
        cached = self._may_load_cache.get(id(unit))
        if cached is None:
            # Method and attribute names are identifiers the unit mentions too.
            cached = bool(_LOAD_NAMES & unit.names) or (
                "from_pretrained" in unit.names and any("." in t for b in unit.binds for t in b.targets)
            )
            self._may_load_cache[id(unit)] = cached
        return cached

    def _class_may_load(self, init: Unit) -> bool:
        assert init.owner is not None
        return any(
            self._may_load(method)
            for info in self.facts.graph.ancestry(init.owner)
            for method in info.methods.values()
            if method is not init
        )

    def _method_loads(self, init: Unit, held: set[str]) -> bool:
        """Whether another method of the class of `__init__` loads into the attributes
        `held` says `__init__` stored a parameter in."""
        owner = init.owner
        if owner is None or init.name != "__init__":
            return False
        seeds = {t for t in held if t.startswith("self.")}
        if not seeds:
            return False
        seeds.add("self")
        for info in self.facts.graph.ancestry(owner):
            for method in info.methods.values():
                if method is not init and self._loads(method, self._holders(method, seeds, None, {}), None, None):
                    return True
        return False

    # -- across units ------------------------------------------------------------------

    def reached(self, target: Construction) -> bool:
        """Whether a load of pretrained weights reaches what `target` constructs."""
        key = id(target.call)
        if key not in self._reached:
            self._reached[key] = self._reach(target)
        return self._reached[key]

    def reached_when(self, target: Construction) -> frozenset[str] | None:
        """For a target whose inside this module cannot see (a call of another module's
        callable): None when no load reaches what it returns, else when the loads that do
        fill a main layer inside it (`Loader.when`; empty: always)."""
        sink: set[str] = set()
        if self._reach(target, sink):
            return frozenset()
        return frozenset(sink) if sink else None

    def _reach(self, target: Construction, sink: set[str] | None = None) -> bool:
        units = self.facts.units
        home = target.unit
        # callable name -> attribute suffixes under which its instances hold the layer.
        attrs: dict[str, set[str]] = {}
        held = self._holders(home, {f"site:{id(target.call)}"}, target, attrs)
        aliases = _aliases(home, set(), target.call) if sink is not None else frozenset()
        if self._loads(home, held, target.index, target, sink, aliases):
            return True
        callables: set[str] = set()
        self._spread(home, held, callables, attrs)
        inherited = {t for t in held if ":" not in t}
        seen: set[tuple[int, frozenset[str]]] = set()
        while True:
            before = (len(callables), sum(len(v) for v in attrs.values()))
            for unit in units:
                if unit is home:
                    continue
                seeds = {f"call:{c}" for c in callables}
                if home.kind == "module" or home.encloses(unit):
                    local = unit.assigned_names()
                    seeds |= {t for t in inherited if t.partition(".")[0] not in local}
                if unit.owner is not None and unit.owner.name in attrs:
                    seeds |= {"self"} | {"self" + s for s in attrs[unit.owner.name]}
                if not seeds:
                    continue
                key = (id(unit), frozenset(seeds))
                if key in seen:
                    continue
                seen.add(key)
                unit_held = self._holders(unit, seeds, target, attrs)
                if self._loads(unit, unit_held, None, target, sink):
                    return True
                self._spread(unit, unit_held, callables, attrs)
            if (len(callables), sum(len(v) for v in attrs.values())) == before:
                return False

    def _spread(self, unit: Unit, held: set[str], callables: set[str], attrs: dict[str, set[str]]) -> None:
        """Record how holders leave `unit`: through its return value or through `self`."""
        if unit.kind != "function":
            return
        if any(self.holds(value, held, None) for value in unit.returns):
            callables.add(_callable_name(unit))
        owner = unit.owner
        if owner is None or "self" not in held:
            return
        suffixes = {t[4:] for t in held if t.startswith("self.")}
        for name in self.facts.graph.subclasses_of(owner.name):
            known = attrs.setdefault(name, set())
            if not suffixes <= known:
                known |= suffixes
            callables.add(name)


# `Loader.when`'s conditions.
BY_NAME = "by_name"
ATTRIBUTE = "attr:"


def _aliases(unit: Unit, seeds: set[str], call: ast.Call | None = None) -> frozenset[str]:
    """Names of `unit` bound to the value itself: the `seeds`, names bound directly to
    `call`, and names bound to those (`m = model`)."""
    names = set(seeds)
    changed = True
    while changed:
        changed = False
        for bind in unit.binds:
            if not bind.direct or bind.value is None or len(bind.targets) != 1:
                continue
            name = bind.targets[0]
            if "." in name or name in names:
                continue
            value = bind.value
            if value is call or (isinstance(value, ast.Name) and value.id in names):
                names.add(name)
                changed = True
    return frozenset(names)


def _attribute_of(name: str | None, aliases: frozenset[str]) -> str | None:
    """The attribute path of `name` under one of `aliases` (`model.bert` -> `bert`), unless
    it is a view of the variables (`model.weights`: the whole value's)."""
    if name is None or "." not in name:
        return None
    head, _, path = name.partition(".")
    if head not in aliases or path.partition(".")[0] in _PARTS:
        return None
    return path


def _pairs(bind: Bind) -> list[tuple[str, ast.expr]]:
    """Each target with the part of the value it receives: `a, b = x, y` and
    `for a, b in zip(x, y)` pair element-wise; otherwise every target gets the whole value."""
    value = bind.value
    assert value is not None
    elements: list[ast.expr] | None = None
    if isinstance(value, ast.Tuple) and bind.direct:
        elements = [e.value if isinstance(e, ast.Starred) else e for e in value.elts]
    elif not bind.direct and isinstance(value, ast.Call) and dotted(value.func) == "zip":
        args = call_args(value)
        elements = [a.value for a in args if not a.star]
        if len(elements) != len(args):
            elements = None
    if elements is not None and len(elements) == len(bind.targets):
        return list(zip(bind.targets, elements))
    return [(t, value) for t in bind.targets]


def _walk(node: ast.AST) -> list[ast.AST]:
    out = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(children(current))
    return out


def _callable_name(unit: Unit) -> str:
    return f"self.{unit.name}" if unit.owner is not None else f"{unit.name}"


_NOT_MODELS = ("Config", "Tokenizer", "TokenizerFast", "Processor", "FeatureExtractor", "ImageProcessor")


def _loads_model(call: ast.Call) -> bool:
    """`X.from_pretrained(...)` of a model class (not a config or tokenizer)."""
    callee = dotted(call.func) or ""
    head, _, last = callee.rpartition(".")
    return last == "from_pretrained" and not head.endswith(_NOT_MODELS)


def _is_true(arg: Arg | None) -> bool:
    return arg is not None and isinstance(arg.value, ast.Constant) and arg.value.value is True


def _literal(expr: ast.expr, unit: Unit, index: int) -> str | None:
    """A string literal, or a name bound once to one."""
    value = string_value(expr)
    if value is not None:
        return value
    name = dotted(expr)
    if name is None:
        return None
    found = binding_at(name, unit, index)
    if found is None or found[0].value is None or not found[0].direct:
        return None
    return string_value(found[0].value)


def layer_name(target: Construction) -> str | None:
    """The literal `name=` a construction gives its layer (through a constant or a
    literal `**{...}`), else None."""
    _, keywords = args_of(target.call)
    if "name" in keywords:
        return _literal(keywords["name"].value, target.unit, target.index)
    for arg in call_args(target.call):
        if arg.star == "**" and isinstance(arg.value, ast.Dict):
            for key, value in zip(arg.value.keys, arg.value.values):
                if key is not None and string_value(key) == "name":
                    return _literal(value, target.unit, target.index)
    return None
