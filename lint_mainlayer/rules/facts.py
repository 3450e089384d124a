"""One pass over a module that records what the rules reason about: its units and names
(`scope`), its classes (`classes`), the calls that construct main layers (`Site`), and the
calls that may build or load a whole model (`ModelCall`, resolved by `rules/models.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from lint_mainlayer import registry
from lint_mainlayer.registry import MainLayer, is_transformers_module
from lint_mainlayer.rules.calls import string_value
from lint_mainlayer.rules.classes import ClassGraph, ClassInfo
from lint_mainlayer.rules.scope import (
    Bind,
    CallEvent,
    Unit,
    binding_at,
    dotted,
    target_names,
)


@dataclass(kw_only=True)
class Construction:
    """A call that builds something whose weights the rules follow: where it is, and what
    holds its result. The analyses (`provenance`, `origin`, `intent`) ask only this of a
    construction."""

    call: cst.Call
    unit: Unit
    # Preorder index of the call within the module walk ("after the call" needs no positions).
    index: int
    # The class whose body or method holds the call.
    klass: ClassInfo | None
    # The statement holding the call, and its single target when the call is its whole value.
    statement: cst.SimpleStatementLine | None
    assign_target: cst.BaseAssignTargetExpression | None
    # The module-level statement that holds the call (positions are computed per statement).
    top: cst.CSTNode | None = None


@dataclass(kw_only=True)
class Site(Construction):
    """A call that constructs a transformers main layer."""

    layer: MainLayer
    # How the user named the class: "TFBertMainLayer", "BL", "hf.TFBertMainLayer".
    callee: str
    # Module the class was imported from, when imported by name (for adding the model import).
    import_module: str | None
    # How the class was reached when not by its imported name: "a variable", "a container",
    # "getattr", "a subclass"; the fix then cannot name the model class safely.
    via: str | None = None
    # Other main layers the callee may be (a dict of classes indexed by a computed key).
    alternatives: tuple[str, ...] = ()
    # Built in a loop or a comprehension: one call, several layers.
    in_loop: bool = False
    # A copy that re-creates the weights (`clone_model(model)`, `X.from_config(y.get_config())`):
    # the construction it copies (a main layer's call, or a `from_pretrained` call).
    copy_of: cst.Call | None = None


@dataclass(kw_only=True)
class ModelCall(Construction):
    """A call that builds or loads a whole model, as far as names tell: a transformers TF
    model class or `TFAutoModel*` class (called, or its `from_config`/`from_pretrained`), a
    class of the module, or any `x.from_pretrained(...)` that is a statement of its own.
    `rules/models.py` decides what it is."""

    # What the callee names in transformers (for `X.from_config`, what `X` names).
    qualified: frozenset[str]
    # The `if` statements around the call, innermost last, and whether it is in their body
    # (True) or their `else`/`elif` part (False).
    branches: tuple[tuple[cst.If, bool], ...] = ()


@dataclass
class ModuleFacts:
    module: cst.Module
    units: list[Unit]
    sites: list[Site]
    graph: ClassGraph
    # transformers modules star-imported at module level.
    star_modules: list[str]
    # local name -> qualified names, for names imported from transformers.
    imported: dict[str, set[str]]
    strings: list[str]
    # Local names of `import tensorflow [as tf]`.
    tf_names: list[str]
    model_calls: list[ModelCall] = field(default_factory=list)

    @property
    def module_unit(self) -> Unit:
        return self.units[0]

    @property
    def classes(self) -> dict[str, ClassInfo]:
        return self.graph.classes


_MODEL_METHODS = frozenset({"from_config", "from_pretrained"})


class _Collector(cst.CSTVisitor):
    def __init__(self, module: cst.Module) -> None:
        super().__init__()
        self.module = module
        self.index = 0
        self.units: list[Unit] = [Unit("module", module, None)]
        self.stack: list[Unit] = [self.units[0]]
        self.class_stack: list[ClassInfo] = []
        self.classes: dict[str, ClassInfo] = {}
        self.star_modules: list[str] = []
        self.imported: dict[str, set[str]] = {}
        self.strings: list[str] = []
        self.statements: list[cst.SimpleStatementLine] = []
        self.tf_names: list[str] = []
        self.top_level = {id(statement) for statement in module.body}
        self.top: cst.CSTNode | None = None
        # Calls that may construct a main layer, resolved once every binding is known.
        self.candidates: list[_Candidate] = []
        self.aliases: set[str] = set()
        # Loops and comprehensions open in each unit of the stack.
        self.loops: list[int] = [0]
        self.class_names: set[str] = set()
        # `clone_model(...)` and `X.from_config(...)` calls: copies, if they copy a main layer.
        self.copies: list[_Candidate] = []
        self.bases: list[tuple[ClassInfo, Unit, list[cst.BaseExpression]]] = []
        # Calls that may build a whole model, and the `if` branches around the walk.
        self.model_candidates: list[_Candidate] = []
        self.branches: list[tuple[cst.If, bool]] = []

    # -- bookkeeping -------------------------------------------------------------------

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.index += 1
        if id(node) in self.top_level:
            self.top = node
        if type(node) is cst.Name:
            self.stack[-1].names.add(node.value)
        return super().on_visit(node)

    # A call in a loop or a comprehension runs several times.
    def visit_While(self, node: cst.While) -> None:
        self.loops[-1] += 1

    def leave_While(self, original_node: cst.While) -> None:
        self.loops[-1] -= 1

    def leave_For(self, original_node: cst.For) -> None:
        self.loops[-1] -= 1

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self.loops[-1] += 1

    def leave_ListComp(self, original_node: cst.ListComp) -> None:
        self.loops[-1] -= 1

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self.loops[-1] += 1

    def leave_SetComp(self, original_node: cst.SetComp) -> None:
        self.loops[-1] -= 1

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self.loops[-1] += 1

    def leave_DictComp(self, original_node: cst.DictComp) -> None:
        self.loops[-1] -= 1

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self.loops[-1] += 1

    def leave_GeneratorExp(self, original_node: cst.GeneratorExp) -> None:
        self.loops[-1] -= 1

    @property
    def unit(self) -> Unit:
        return self.stack[-1]

    def qualified(self, node: cst.CSTNode, unit: Unit) -> set[str]:
        """What a Name/Attribute chain names in transformers, by Python's scoping rules."""
        name = dotted(node)
        if name is None:
            return set()
        root, _, rest = name.partition(".")
        suffix = f".{rest}" if rest else ""
        current: Unit | None = unit
        while current is not None:
            # A class body's names are not visible in the functions it holds.
            if current.kind != "class" or current is unit:
                if current.binds_name(root):
                    return {q + suffix for q in current.imports.get(root, ())}
            current = current.parent
        return {f"{m}.{name}" for m in self.star_modules}

    # -- imports -----------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            module = dotted(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local, target = alias.asname.name.value, module
            else:
                # `import a.b.c` binds `a`.
                local = target = module.partition(".")[0]
            self.unit.bound.add(local)
            if module == "tensorflow" and local:
                self.tf_names.append(local)
            if is_transformers_module(module):
                self.unit.imports.setdefault(local, set()).add(target)
                self.aliases.add(local)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = dotted(node.module) if node.module is not None else None
        ours = not node.relative and module is not None and is_transformers_module(module)
        if isinstance(node.names, cst.ImportStar):
            if ours and module is not None and self.unit.kind == "module":
                self.star_modules.append(module)
            return
        for alias in node.names:
            name = dotted(alias.name) or ""
            local = alias.asname.name if alias.asname else alias.name
            local_name = dotted(local) if isinstance(local, (cst.Name, cst.Attribute)) else None
            if not local_name:
                continue
            self.unit.bound.add(local_name)
            if ours:
                qualified = f"{module}.{name}"
                self.unit.imports.setdefault(local_name, set()).add(qualified)
                self.imported.setdefault(local_name, set()).add(qualified)
                self.aliases.add(local_name)

    def visit_Global(self, node: cst.Global) -> None:
        self.unit.declared_global.update(n.name.value for n in node.names)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.unit.bound.add(node.name.name.value)

    # -- units -------------------------------------------------------------------------

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.unit.bound.add(node.name.value)
        unit = Unit("class", node, self.unit, name=node.name.value)
        self.units.append(unit)
        bases = [b.value for b in node.bases if b.keyword is None]
        info = ClassInfo(
            name=node.name.value,
            node=node,
            unit=unit,
            base_names=[dotted(b) or "" for b in bases],
            base_qualified=[],
            outer=self.class_stack[-1] if self.class_stack else None,
        )
        self.bases.append((info, self.unit, bases))
        # Later definitions win, as at run time.
        self.classes[info.name] = info
        self.class_stack.append(info)
        self.stack.append(unit)
        self.loops.append(0)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.stack.pop()
        self.loops.pop()
        self.class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.unit.bound.add(node.name.value)
        owner = self.class_stack[-1] if self.unit.kind == "class" and self.class_stack else None
        unit = Unit("function", node, self.unit, name=node.name.value, owner=owner)
        params = node.params
        unit.params = [p.name.value for p in (*params.posonly_params, *params.params)]
        unit.params += [p.name.value for p in params.kwonly_params]
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                unit.params.append(star.name.value)
        if owner is not None:
            owner.methods[unit.name or ""] = unit
        self.units.append(unit)
        self.stack.append(unit)
        self.loops.append(0)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()
        self.loops.pop()

    def visit_If_body(self, node: cst.If) -> None:
        self.branches.append((node, True))

    def leave_If_body(self, node: cst.If) -> None:
        self.branches.pop()

    def visit_If_orelse(self, node: cst.If) -> None:
        self.branches.append((node, False))

    def leave_If_orelse(self, node: cst.If) -> None:
        self.branches.pop()

    # -- statements --------------------------------------------------------------------

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statements.append(node)

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self.statements.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        targets = tuple(t for tgt in node.targets for t in target_names(tgt.target))
        self.unit.binds.append(Bind(targets, node.value, self.index))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.unit.binds.append(Bind(tuple(target_names(node.target)), node.value, self.index))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        targets = tuple(target_names(node.target))
        self.unit.binds.append(Bind(targets, node.value, self.index, direct=False))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.unit.binds.append(Bind(tuple(target_names(node.target)), node.value, self.index))

    def visit_For(self, node: cst.For) -> None:
        targets = tuple(target_names(node.target))
        self.unit.binds.append(Bind(targets, node.iter, self.index, direct=False))
        self.loops[-1] += 1

    def visit_CompFor(self, node: cst.CompFor) -> None:
        targets = tuple(target_names(node.target))
        self.unit.binds.append(Bind(targets, node.iter, self.index, direct=False))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            targets = tuple(target_names(node.asname.name))
            self.unit.binds.append(Bind(targets, node.item, self.index, direct=False))

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.unit.returns.append(node.value)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        value = node.evaluated_value
        if isinstance(value, str):
            self.strings.append(value)

    # -- calls -------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        self.unit.calls.append(CallEvent(node, self.index))
        func = node.func
        name = dotted(func) or ""
        last = name.rpartition(".")[2]
        if (last == "clone_model" or last == "from_config") and node.args:
            self.copies.append(self._candidate(node))
        # Cheap gates; the callee is resolved after the walk, when every binding is known.
        # Names, subscripts and `getattr(...)` may hold a class (`Enc = TFBertMainLayer`).
        is_layer = (
            last in registry.load()
            or isinstance(func, (cst.Name, cst.Subscript))
            or (isinstance(func, cst.Call) and dotted(func.func) == "getattr")
        )
        # A model class, an auto class's or any `from_pretrained`, or a capitalised name (a
        # class of the module, maybe defined further down).
        is_model = last in _MODEL_METHODS or last in registry.load_models() or (
            isinstance(func, cst.Name) and func.value[:1].isupper()
        )
        if is_layer or is_model:
            candidate = self._candidate(node)
            if is_layer:
                self.candidates.append(candidate)
            if is_model:
                self.model_candidates.append(candidate)

    def _candidate(self, node: cst.Call) -> _Candidate:
        klass = None
        unit: Unit | None = self.unit
        while unit is not None and klass is None:
            if unit.kind == "function" and unit.owner is not None:
                klass = unit.owner
            elif unit.kind == "class":
                klass = self.classes.get(unit.name or "")
            unit = unit.parent
        statement = self.statements[-1] if self.statements else None
        return _Candidate(
            node, self.unit, self.index, klass, statement, self.top, self.loops[-1] > 0, tuple(self.branches)
        )

    def finish(self) -> list[Site]:
        """Resolve class bases and candidate calls now that all bindings are known."""
        for info, unit, bases in self.bases:
            info.base_qualified = [self.qualified(b, unit) for b in bases]
        self.class_names = self._class_valued_names()
        sites = [site for site in (self._site(c) for c in self.candidates) if site is not None]
        calls = {id(site.call): site for site in sites}
        for candidate in self.copies:
            if id(candidate.call) in calls:
                continue
            copy = self._copy(candidate, calls)
            if copy is not None:
                sites.append(copy)
        return sites

    def model_calls(self) -> list[ModelCall]:
        """The model candidates whose callee may name a model (after `finish`)."""
        found = []
        for candidate in self.model_candidates:
            func = candidate.call.func
            method = func.attr.value if isinstance(func, cst.Attribute) else None
            named = func.value if method in _MODEL_METHODS and isinstance(func, cst.Attribute) else func
            qualified = frozenset(self.qualified(named, candidate.unit))
            known = any(
                registry.lookup_model(q) is not None or registry.lookup_auto(q) is not None for q in qualified
            )
            local = isinstance(named, cst.Name) and named.value in self.classes and not qualified
            statement = candidate.statement
            alone = (
                method == "from_pretrained"
                and statement is not None
                and any(isinstance(small, cst.Expr) and small.value is candidate.call for small in statement.body)
            )
            if not (known or local or alone):
                continue
            found.append(
                ModelCall(
                    call=candidate.call,
                    unit=candidate.unit,
                    index=candidate.index,
                    klass=candidate.klass,
                    statement=statement,
                    assign_target=_assign_target(statement, candidate.call),
                    top=candidate.top,
                    qualified=qualified,
                    branches=candidate.branches,
                )
            )
        return found

    def _copy(self, candidate: _Candidate, sites: dict[int, Site]) -> Site | None:
        """`clone_model(x)` or `K.from_config(x.get_config())` of a value holding a main layer:
        a new layer with fresh weights."""
        call = candidate.call
        source: cst.BaseExpression = call.args[0].value
        if isinstance(source, cst.Call) and isinstance(source.func, cst.Attribute) and source.func.attr.value == "get_config":
            source = source.func.value
        elif not (dotted(call.func) or "").endswith("clone_model"):
            return None
        found = self._held_layer(source, candidate.unit, candidate.index, sites, 0)
        if found is None:
            return None
        layer, original = found
        site = self._site(candidate, layer)
        if site is None:
            return None
        site.via = "a copy"
        site.copy_of = original
        return site

    def _held_layer(
        self, expr: cst.CSTNode, unit: Unit, index: int, sites: dict[int, Site], depth: int
    ) -> tuple[MainLayer, cst.Call] | None:
        """The main layer a value holds, and the call that built it, following names."""
        if depth > 6:
            return None
        stack: list[cst.CSTNode] = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.Call):
                if id(node) in sites:
                    return sites[id(node)].layer, node
                func = node.func
                if isinstance(func, cst.Attribute) and func.attr.value == "from_pretrained":
                    for qualified in sorted(self.qualified(func.value, unit)):
                        model = registry.lookup_model(qualified)
                        held = model.base_main_layer if model is not None else None
                        layer = registry.load().get(held.cls) if held is not None else None
                        if layer is not None:
                            return layer, node
            if isinstance(node, cst.Name):
                found = binding_at(node.value, unit, index)
                if found is not None and found[0].value is not None:
                    inner = self._held_layer(found[0].value, found[1], found[0].index, sites, depth + 1)
                    if inner is not None:
                        return inner
                continue
            stack.extend(node.children)
        return None

    def _class_valued_names(self) -> set[str]:
        """Names that may hold a main-layer class: bound to an imported class, a container
        or item of classes, `getattr(...)`, or such a name; and classes of the module with
        bases. A cheap over-approximation that spares resolving every other call."""
        shapes = (cst.Name, cst.Attribute, cst.Tuple, cst.List, cst.Set, cst.Dict, cst.Subscript, cst.Call)
        binds: list[tuple[tuple[str, ...], cst.BaseExpression]] = [
            (b.targets, b.value)
            for unit in self.units
            for b in unit.binds
            if isinstance(b.value, shapes)
            and (not isinstance(b.value, cst.Call) or dotted(b.value.func) in ("getattr", *_ITERATING))
        ]
        known = set(self.aliases) | set(registry.load())
        found = {name for name, info in self.classes.items() if info.base_names}
        changed = True
        while changed:
            changed = False
            for targets, value in binds:
                if all(t in found for t in targets):
                    continue
                if isinstance(value, cst.Call) and dotted(value.func) in _ITERATING:
                    value = value.args[0].value if value.args else value
                if (isinstance(value, cst.Call) and dotted(value.func) == "getattr") or any(
                    isinstance(n, cst.Name) and (n.value in known or n.value in found)
                    or isinstance(n, cst.Attribute) and n.attr.value in known
                    for n in _shallow(value)
                ):
                    found.update(targets)
                    changed = True
        return found

    def _imported_layer(self, node: cst.CSTNode, unit: Unit) -> tuple[MainLayer, str] | None:
        """The main layer an imported name refers to, and the module it came from."""
        for qualified in sorted(self.qualified(node, unit)):
            layer = registry.lookup(qualified)
            if layer is not None:
                return layer, qualified.rpartition(".")[0]
        return None

    def _classes(self, expr: cst.CSTNode, unit: Unit, index: int, depth: int) -> tuple[list[MainLayer], str | None]:
        """The main-layer classes `expr` may evaluate to, and how it reaches them (None: by
        an imported name)."""
        if depth > 6:
            return [], None
        if isinstance(expr, (cst.Name, cst.Attribute)):
            imported = self._imported_layer(expr, unit)
            if imported is not None:
                return [imported[0]], None
            if not isinstance(expr, cst.Name):
                return [], None
            info = self.classes.get(expr.value)
            if info is not None and self.units[0].binds_name(expr.value):
                for base in self._main_layer_bases(info, 0):
                    return [base], "a subclass"
                return [], None
            found = binding_at(expr.value, unit, index)
            if found is None or found[0].value is None:
                return [], None
            bind, bind_unit = found
            layers, _ = self._classes(bind.value, bind_unit, bind.index, depth + 1)  # type: ignore[arg-type]
            if bind.direct or not layers:
                return layers, "a variable"
            return layers, "a loop over classes"
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            elements = [e.value for e in expr.elements]
            return self._union(elements, unit, index, depth), "a container"
        if isinstance(expr, cst.Dict):
            values = [e.value for e in expr.elements if isinstance(e, cst.DictElement)]
            return self._union(values, unit, index, depth), "a container"
        if isinstance(expr, cst.Subscript):
            key = expr.slice[0].slice if len(expr.slice) == 1 else None
            container: cst.CSTNode = expr.value
            if isinstance(container, cst.Name):
                found = binding_at(container.value, unit, index)
                if found is not None and found[0].direct and found[0].value is not None:
                    container, unit, index = found[0].value, found[1], found[0].index
            if isinstance(container, cst.Dict) and isinstance(key, cst.Index):
                wanted = string_value(key.value)
                for element in container.elements:
                    if isinstance(element, cst.DictElement) and wanted is not None and string_value(element.key) == wanted:
                        return self._classes(element.value, unit, index, depth + 1)[0], "a container"
            return self._classes(container, unit, index, depth + 1)[0], "a container"
        if isinstance(expr, cst.Call) and dotted(expr.func) in _ITERATING and expr.args:
            # `for i, cls in enumerate(classes)`: the classes of the iterable.
            return self._classes(expr.args[0].value, unit, index, depth + 1)[0], "a container"
        if isinstance(expr, cst.Call) and dotted(expr.func) == "getattr" and len(expr.args) >= 2:
            modules = [q for q in self.qualified(expr.args[0].value, unit) if is_transformers_module(q)]
            if not modules:
                return [], None
            name_arg = expr.args[1].value
            name = string_value(name_arg)
            if name is not None:
                layer = registry.lookup(f"{modules[0]}.{name}")
                return ([layer] if layer is not None else []), "getattr"
            pattern = _name_pattern(name_arg)
            if pattern is None:
                return [], None
            # `getattr(transformers, f"TF{arch}MainLayer")`: only main layers fit the pattern.
            table = registry.load()
            return [table[n] for n in sorted(table) if pattern.fullmatch(n)], "getattr"
        return [], None

    def _union(self, nodes: list[cst.BaseExpression], unit: Unit, index: int, depth: int) -> list[MainLayer]:
        out: list[MainLayer] = []
        for node in nodes:
            for layer in self._classes(node, unit, index, depth + 1)[0]:
                if layer not in out:
                    out.append(layer)
        return out

    def _main_layer_bases(self, info: ClassInfo, depth: int) -> list[MainLayer]:
        """The main layers a class of the module derives from."""
        if depth > 8:
            return []
        out = []
        for qualified in info.base_qualified:
            for name in sorted(qualified):
                layer = registry.lookup(name)
                if layer is not None:
                    out.append(layer)
        for base in info.base_names:
            if base in self.classes and base != info.name:
                out += self._main_layer_bases(self.classes[base], depth + 1)
        return out

    def _site(self, candidate: _Candidate, copied: MainLayer | None = None) -> Site | None:
        node = candidate.call
        func = node.func
        layer = copied
        import_module = None
        via = None
        callee: str | None = None
        alternatives: tuple[str, ...] = ()
        imported = self._imported_layer(func, candidate.unit)
        if copied is not None:
            pass
        elif imported is not None:
            layer = imported[0]
            if isinstance(func, cst.Name):
                import_module = imported[1]
        elif isinstance(func, (cst.Subscript, cst.Call)) or (isinstance(func, cst.Name) and func.value in self.class_names):
            layers, via = self._classes(func, candidate.unit, candidate.index, 0)
            if not layers or via is None:
                return None
            layer = layers[0]
            alternatives = tuple(other.name for other in layers[1:])
            if dotted(func) is None:
                callee = _code(func)
        if layer is None:
            return None
        statement = candidate.statement
        target = _assign_target(statement, node)
        return Site(
            call=node,
            layer=layer,
            callee=callee if callee is not None else dotted(func) or "",
            import_module=import_module,
            unit=candidate.unit,
            index=candidate.index,
            klass=candidate.klass,
            statement=statement,
            assign_target=target,
            top=candidate.top,
            via=via,
            alternatives=alternatives,
            in_loop=candidate.in_loop,
        )


def _assign_target(
    statement: cst.SimpleStatementLine | None, node: cst.BaseExpression
) -> cst.BaseAssignTargetExpression | None:
    """The single target of the assignment in `statement` whose whole value is `node`."""
    if statement is None:
        return None
    for small in statement.body:
        if isinstance(small, cst.Assign) and small.value is node and len(small.targets) == 1:
            return small.targets[0].target
        if isinstance(small, cst.AnnAssign) and small.value is node:
            return small.target
    return None


def _name_pattern(node: cst.BaseExpression) -> re.Pattern[str] | None:
    """The names an f-string such as `f"TF{arch}MainLayer"` can spell, when its literal
    parts pin it to main layers (it starts with `TF` and ends with `MainLayer`)."""
    if not isinstance(node, cst.FormattedString):
        return None
    parts = node.parts
    if not parts or not isinstance(parts[0], cst.FormattedStringText) or not isinstance(parts[-1], cst.FormattedStringText):
        return None
    if not parts[0].value.startswith("TF") or not parts[-1].value.endswith("MainLayer"):
        return None
    return re.compile(
        "".join(re.escape(p.value) if isinstance(p, cst.FormattedStringText) else r"\w*" for p in parts)
    )


# Builtins whose result iterates over their first argument's items.
_ITERATING = ("enumerate", "reversed", "sorted", "list", "tuple", "iter")


def _shallow(node: cst.CSTNode) -> list[cst.CSTNode]:
    """`node` and its parts through containers and items, not into calls."""
    out: list[cst.CSTNode] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        if isinstance(current, (cst.Tuple, cst.List, cst.Set)):
            stack.extend(e.value for e in current.elements)
        elif isinstance(current, cst.Dict):
            stack.extend(e.value for e in current.elements if isinstance(e, cst.DictElement))
        elif isinstance(current, cst.Subscript):
            stack.append(current.value)
    return out


@dataclass
class _Candidate:
    call: cst.Call
    unit: Unit
    index: int
    klass: ClassInfo | None
    statement: cst.SimpleStatementLine | None
    top: cst.CSTNode | None
    in_loop: bool = False
    branches: tuple[tuple[cst.If, bool], ...] = ()



def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def collect(module: cst.Module) -> ModuleFacts:
    """Walk the module once and return its facts."""
    collector = _Collector(module)
    module.visit(collector)
    sites = collector.finish()
    return ModuleFacts(
        module=module,
        units=collector.units,
        sites=sites,
        graph=ClassGraph(collector.classes),
        star_modules=collector.star_modules,
        imported=collector.imported,
        strings=collector.strings,
        tf_names=collector.tf_names,
        model_calls=collector.model_calls(),
    )
