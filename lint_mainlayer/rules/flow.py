"""Does a weight load reach a main layer? A small, flow-insensitive taint analysis.

Starting from the constructing call, a value is *tainted* when it is the layer or was built
from it: a name bound to an expression that mentions a tainted value (`out = bert(ids)[0]`,
`model = tf.keras.Model(ids, out)`, `Sequential([bert])`), a container it was added to
(`model.add(bert)`), an attribute of `self` it was stored in, an instance of a class that
stores it, or the result of a local function that returns it. A load reaches the layer when a
tainted value receives `load_weights`, `set_weights`, `assign`, a checkpoint `restore`/`read`,
or `keras.backend.(batch_)set_value`, after the call in the same unit, or anywhere in another
unit that holds it (another method on `self`, an instance at module level, a caller), or is
passed to a local function that loads weights into that parameter.

`load_weights` of a path the module itself writes (`save_weights`, `ModelCheckpoint`, `save`)
restores the program's own checkpoint, not pretrained weights, and does not count.

Order is only checked inside the unit that builds the layer; elsewhere any load counts.
Flow-insensitivity over-approximates what is reached, so the rules err towards silence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from lint_mainlayer.rules.facts import Construction, ModuleFacts
from lint_mainlayer.rules.scope import Unit, dotted

_LOAD_METHODS = frozenset(
    {"load_weights", "set_weights", "assign", "restore", "read", "restore_or_initialize"}
)
# Methods by which a container or model takes in a layer.
_ADD_METHODS = frozenset({"add", "append", "extend", "insert", "setdefault", "update", "add_module"})
_SET_VALUE = frozenset({"batch_set_value", "set_value"})


@dataclass
class _Module:
    facts: ModuleFacts
    refs_cache: dict[int, frozenset[str]] = field(default_factory=dict)
    own_paths: set[str] = field(default_factory=set)
    loaders: dict[str, set[int | str]] = field(default_factory=dict)


def _prefixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


class Reachability:
    """Answers `reached(site)` for the sites of one module."""

    def __init__(self, facts: ModuleFacts) -> None:
        self._m = _Module(facts)
        self._site_ids = {id(s.call): s for s in facts.sites}
        for path in facts.save_paths:
            self._m.own_paths |= self._path_keys(path)
        self._m.loaders = self._find_loader_params()

    # -- expression references ---------------------------------------------------------

    def refs(self, node: cst.CSTNode) -> frozenset[str]:
        """Dotted names, `call:<callee>` and `site:<id>` markers mentioned by `node`."""
        cached = self._m.refs_cache.get(id(node))
        if cached is not None:
            return cached
        out: set[str] = set()
        stack: list[cst.CSTNode] = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, cst.Name):
                out.add(current.value)
                continue
            if isinstance(current, cst.Attribute):
                name = dotted(current)
                if name is not None:
                    out.update(_prefixes(name))
                else:
                    stack.append(current.value)
                continue
            if isinstance(current, cst.Call):
                # Every call gets its marker, so that `reached` can seed from any
                # construction (a main layer's or a whole model's), not only `facts.sites`.
                out.add(f"site:{id(current)}")
                callee = dotted(current.func)
                if callee is not None:
                    out.add(f"call:{callee}")
            if isinstance(current, cst.Arg):
                stack.append(current.value)
                continue
            if isinstance(current, cst.Lambda):
                stack.append(current.body)
                continue
            stack.extend(current.children)
        result = frozenset(out)
        self._m.refs_cache[id(node)] = result
        return result

    # -- taint within one unit ---------------------------------------------------------

    def _taint(self, unit: Unit, seeds: set[str]) -> set[str]:
        tainted = set(seeds)
        changed = True
        while changed:
            changed = False
            for bind in unit.binds:
                if bind.value is None or not (self.refs(bind.value) & tainted):
                    continue
                # An object whose attribute holds the layer holds it too (`self.bert = ...`).
                new = {p for t in bind.targets for p in _prefixes(t)} - tainted
                if new:
                    tainted |= new
                    changed = True
            for event in unit.calls:
                func = event.node.func
                if not (isinstance(func, cst.Attribute) and func.attr.value in _ADD_METHODS):
                    continue
                receiver = dotted(func.value)
                if receiver is None or receiver in tainted:
                    continue
                if any(self.refs(a.value) & tainted for a in event.node.args):
                    tainted.add(receiver)
                    changed = True
        return tainted

    def _loads(self, unit: Unit, tainted: set[str], after: int | None) -> bool:
        for event in unit.calls:
            if after is not None and event.index <= after:
                continue
            if self._is_load(event.node, tainted):
                return True
        return False

    def _is_load(self, call: cst.Call, tainted: set[str]) -> bool:
        func = call.func
        callee = dotted(func)
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in _LOAD_METHODS and self.refs(func.value) & tainted:
                if method == "load_weights" and call.args:
                    return not (self._path_keys(call.args[0].value) & self._m.own_paths)
                return True
            if method in _SET_VALUE and any(self.refs(a.value) & tainted for a in call.args):
                return True
        if callee is not None and callee in self._m.loaders:
            params = self._m.loaders[callee]
            for position, arg in enumerate(call.args):
                key: int | str = arg.keyword.value if arg.keyword else position
                if key in params and self.refs(arg.value) & tainted:
                    return True
        return False

    def _path_keys(self, node: cst.BaseExpression) -> set[str]:
        """What identifies a checkpoint path: its string literals and maximal dotted names."""
        keys: set[str] = set()
        stack: list[cst.CSTNode] = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, (cst.Name, cst.Attribute)) and dotted(current):
                keys.add(f"name:{dotted(current)}")
                continue
            if isinstance(current, cst.SimpleString):
                value = current.evaluated_value
                keys.add(f"str:{value!r}")
                continue
            if isinstance(current, cst.Call):
                # The callee (`os.path.join`) says nothing about which file it is.
                stack.extend(a.value for a in current.args)
                continue
            stack.extend(current.children)
        return keys

    def _find_loader_params(self) -> dict[str, set[int | str]]:
        """Local functions that load weights into one of their parameters."""
        loaders: dict[str, set[int | str]] = {}
        for unit in self._m.facts.units:
            if unit.kind != "function" or not unit.params or unit.name is None:
                continue
            params = unit.params[1:] if unit.owner is not None else unit.params
            found: set[int | str] = set()
            for position, param in enumerate(params):
                if self._loads(unit, self._taint(unit, {param}), None):
                    found |= {position, param}
            if found:
                loaders[self._callable_name(unit)] = found
        return loaders

    # -- across units ------------------------------------------------------------------

    def _callable_name(self, unit: Unit) -> str:
        return f"self.{unit.name}" if unit.owner is not None else f"{unit.name}"

    def reached(self, site: Construction) -> bool:
        """Whether a weight load reaches the layer `site` constructs."""
        facts = self._m.facts
        home = site.unit
        tainted = self._taint(home, {f"site:{id(site.call)}"})
        if self._loads(home, tainted, after=site.index):
            return True
        callables: set[str] = set()
        holders: set[str] = set()
        self._spread(home, tainted, callables, holders)
        # Free variables: nested units see the home unit's tainted plain names.
        inherited = {t for t in tainted if "." not in t and ":" not in t}
        seen: set[tuple[int, frozenset[str]]] = set()
        while True:
            before = (len(callables), len(holders))
            for unit in facts.units:
                if unit is home:
                    continue
                seeds = {f"call:{c}" for c in callables}
                if home.kind == "module" or home.encloses(unit):
                    seeds |= inherited - unit.assigned_names()
                if unit.owner is not None and unit.owner.name in holders:
                    seeds.add("self")
                if not seeds:
                    continue
                key = (id(unit), frozenset(seeds))
                if key in seen:
                    continue
                seen.add(key)
                unit_tainted = self._taint(unit, seeds)
                if self._loads(unit, unit_tainted, after=None):
                    return True
                self._spread(unit, unit_tainted, callables, holders)
            if (len(callables), len(holders)) == before:
                return False

    def _spread(self, unit: Unit, tainted: set[str], callables: set[str], holders: set[str]) -> None:
        """Record how taint leaves `unit`: through its return value or through `self`."""
        if unit.kind != "function":
            return
        if any(self.refs(value) & tainted for value in unit.returns):
            callables.add(self._callable_name(unit))
        owner = unit.owner
        if owner is not None and any(t.startswith("self.") for t in tainted):
            for name in self._m.facts.graph.subclasses_of(owner.name):
                if name not in holders:
                    holders.add(name)
                    callables.add(name)
