"""One pass over a module that records what the rules reason about: its units and names
(`scope`), its classes (`classes`), the calls that construct main layers (`Site`), and the
calls that may build or load a whole model (`ModelCall`, resolved by `rules/models.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from lint_mainlayer import registry
from lint_mainlayer.registry import MainLayer, is_transformers_module
from lint_mainlayer.rules.classes import ClassGraph, ClassInfo
from lint_mainlayer.rules.scope import Bind, CallEvent, Unit, dotted, target_names


@dataclass(kw_only=True)
class Construction:
    """A call that builds something whose weights the rules follow: where it is, and what
    holds its result. The analyses (`flow`, `origin`) ask only this of a construction."""

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
    # Source of the path argument of every save_weights/ModelCheckpoint/save call.
    save_paths: list[cst.BaseExpression]
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


_SAVE_METHODS = frozenset({"save_weights", "save", "save_pretrained", "write"})
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
        self.save_paths: list[cst.BaseExpression] = []
        self.strings: list[str] = []
        self.statements: list[cst.SimpleStatementLine] = []
        self.tf_names: list[str] = []
        self.top_level = {id(statement) for statement in module.body}
        self.top: cst.CSTNode | None = None
        # Calls that may construct a main layer, resolved once every binding is known.
        self.candidates: list[_Candidate] = []
        self.aliases: set[str] = set()
        self.bases: list[tuple[ClassInfo, Unit, list[cst.BaseExpression]]] = []
        # Calls that may build a whole model, and the `if` branches around the walk.
        self.model_candidates: list[_Candidate] = []
        self.branches: list[tuple[cst.If, bool]] = []

    # -- bookkeeping -------------------------------------------------------------------

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.index += 1
        if id(node) in self.top_level:
            self.top = node
        return super().on_visit(node)

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

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.stack.pop()
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

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

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
        if isinstance(func, cst.Attribute) and func.attr.value in _SAVE_METHODS and node.args:
            self.save_paths.append(node.args[0].value)
        name = dotted(func)
        if name is None:
            return
        last = name.rpartition(".")[2]
        if last == "ModelCheckpoint" or last == "CheckpointManager":
            for arg in node.args:
                keyword = arg.keyword.value if arg.keyword else None
                if keyword in (None, "filepath", "directory") and not (
                    last == "CheckpointManager" and keyword is None and arg is node.args[0]
                ):
                    self.save_paths.append(arg.value)
                    break
        # Cheap gates; the callee is resolved after the walk, when every binding is known.
        is_layer = last in registry.load() or (isinstance(func, cst.Name) and func.value in self.aliases)
        # A model class, an auto class's or any `from_pretrained`, or a capitalised name (a
        # class of the module, maybe defined further down).
        is_model = last in _MODEL_METHODS or last in registry.load_models() or (
            isinstance(func, cst.Name) and func.value[:1].isupper()
        )
        if is_layer or is_model:
            klass = None
            unit: Unit | None = self.unit
            while unit is not None and klass is None:
                if unit.kind == "function" and unit.owner is not None:
                    klass = unit.owner
                elif unit.kind == "class":
                    klass = self.classes.get(unit.name or "")
                unit = unit.parent
            statement = self.statements[-1] if self.statements else None
            candidate = _Candidate(node, self.unit, self.index, klass, statement, self.top, tuple(self.branches))
            if is_layer:
                self.candidates.append(candidate)
            if is_model:
                self.model_candidates.append(candidate)

    def finish(self) -> list[Site]:
        """Resolve class bases and candidate calls now that all bindings are known."""
        for info, unit, bases in self.bases:
            info.base_qualified = [self.qualified(b, unit) for b in bases]
        sites = (self._site(c) for c in self.candidates)
        return [site for site in sites if site is not None]

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

    def _site(self, candidate: _Candidate) -> Site | None:
        node = candidate.call
        func = node.func
        layer = None
        import_module = None
        for qualified in sorted(self.qualified(func, candidate.unit)):
            layer = registry.lookup(qualified)
            if layer is not None:
                if isinstance(func, cst.Name):
                    import_module = qualified.rpartition(".")[0]
                break
        if layer is None:
            return None
        statement = candidate.statement
        target = _assign_target(statement, node)
        return Site(
            call=node,
            layer=layer,
            callee=dotted(func) or "",
            import_module=import_module,
            unit=candidate.unit,
            index=candidate.index,
            klass=candidate.klass,
            statement=statement,
            assign_target=target,
            top=candidate.top,
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


@dataclass
class _Candidate:
    call: cst.Call
    unit: Unit
    index: int
    klass: ClassInfo | None
    statement: cst.SimpleStatementLine | None
    top: cst.CSTNode | None
    branches: tuple[tuple[cst.If, bool], ...] = ()


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
        save_paths=collector.save_paths,
        strings=collector.strings,
        tf_names=collector.tf_names,
        model_calls=collector.model_calls(),
    )
