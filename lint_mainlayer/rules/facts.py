"""One pass over a module that records what the rules reason about.

The walk records, per *unit* (the module body, each function body, each class body):
the bindings (`x = ...`, `for x in ...`, `with ... as x`, `x := ...`), every call, and
every `return`, each with its preorder index, so that "after the call" needs no positions.
It also records which names each unit binds, and to what when the binding is an import, so
that callees resolve by Python's scoping rules (local, enclosing functions, module, star
imports) after the walk. That is the part of libcst's `ScopeProvider` the rules need, at a
fraction of its cost: the provider alone took longer than the whole analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

import libcst as cst

from lint_mainlayer import registry
from lint_mainlayer.registry import MainLayer

# A transformers class that `from_pretrained` loads into: a PreTrainedModel or a model class.
_TF_MODEL_CLASS = re.compile(r"TF\w*(PreTrainedModel|Model|For\w+)$")


def dotted(node: cst.CSTNode) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head is not None else None
    return None


@dataclass
class Bind:
    targets: tuple[str, ...]
    value: cst.BaseExpression | None
    index: int
    # True when the targets receive `value` itself (`=`, `:=`), not an element of it.
    direct: bool = True


@dataclass
class CallEvent:
    node: cst.Call
    index: int


@dataclass
class Unit:
    """A body whose statements run together: the module, a function, or a class body."""

    kind: str  # "module" | "function" | "class"
    node: cst.CSTNode
    parent: Unit | None
    name: str | None = None
    # The class whose body holds this function, when it is a method.
    owner: ClassInfo | None = None
    params: list[str] = field(default_factory=list)
    # Names bound here other than by assignment (imports, def, class, except, global).
    bound: set[str] = field(default_factory=set)
    # Import bindings into transformers: local name -> qualified names.
    imports: dict[str, set[str]] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)
    binds: list[Bind] = field(default_factory=list)
    calls: list[CallEvent] = field(default_factory=list)
    returns: list[cst.BaseExpression] = field(default_factory=list)

    def assigned_names(self) -> set[str]:
        names = {t for b in self.binds for t in b.targets if "." not in t}
        return names | set(self.params)

    def binds_name(self, name: str) -> bool:
        """Whether `name` is local to this unit (bound anywhere in it, as Python decides)."""
        if name in self.declared_global:
            return False
        return name in self.bound or name in self.imports or name in self.assigned_names()

    def encloses(self, other: Unit) -> bool:
        unit = other.parent
        while unit is not None:
            if unit is self:
                return True
            unit = unit.parent
        return False


@dataclass
class ClassInfo:
    name: str
    node: cst.ClassDef
    unit: Unit
    base_names: list[str]  # local dotted names of the bases
    base_qualified: list[set[str]]
    methods: dict[str, Unit] = field(default_factory=dict)
    outer: ClassInfo | None = None


@dataclass
class Site:
    """A call that constructs a transformers main layer."""

    call: cst.Call
    layer: MainLayer
    # How the user named the class: "TFBertMainLayer", "BL", "hf.TFBertMainLayer".
    callee: str
    # Module the class was imported from, when imported by name (for adding the model import).
    import_module: str | None
    unit: Unit
    index: int
    klass: ClassInfo | None
    # The statement holding the call, and whether the call is that statement's whole value.
    statement: cst.SimpleStatementLine | None
    assign_target: cst.BaseAssignTargetExpression | None
    # The module-level statement that holds the call (positions are computed per statement).
    top: cst.CSTNode | None = None


@dataclass
class ModuleFacts:
    module: cst.Module
    units: list[Unit]
    sites: list[Site]
    classes: dict[str, ClassInfo]
    # transformers modules star-imported at module level.
    star_modules: list[str]
    # local name -> qualified names, for names imported from transformers.
    imported: dict[str, set[str]]
    # Source of the path argument of every save_weights/ModelCheckpoint/save call.
    save_paths: list[cst.BaseExpression]
    strings: list[str]
    # Local names of `import tensorflow [as tf]`.
    tf_names: list[str]

    @property
    def module_unit(self) -> Unit:
        return self.units[0]

    def pretrained_model_classes(self) -> set[str]:
        """Local classes that subclass a transformers TF model, directly or via local classes."""
        found: set[str] = set()
        changed = True
        while changed:
            changed = False
            for info in self.classes.values():
                if info.name in found:
                    continue
                if any(_is_tf_model(q) for qs in info.base_qualified for q in qs) or any(
                    b in found for b in info.base_names
                ):
                    found.add(info.name)
                    changed = True
        return found

    def loaded_by_pretrained_models(self) -> set[str]:
        """Classes whose layers a transformers model's `from_pretrained` loads: the model
        subclasses, and local classes they construct in their methods (a wrapper layer
        holding a main layer), transitively."""
        found = set(self.pretrained_model_classes())
        changed = True
        while changed:
            changed = False
            for name in list(found):
                info = self.classes.get(name)
                if info is None:
                    continue
                for method in info.methods.values():
                    for event in method.calls:
                        callee = dotted(event.node.func)
                        if callee in self.classes and callee not in found:
                            found.add(callee)
                            changed = True
        return found

    def subclasses_of(self, name: str) -> set[str]:
        """`name` and every local class deriving from it."""
        found = {name}
        changed = True
        while changed:
            changed = False
            for info in self.classes.values():
                if info.name not in found and any(b in found for b in info.base_names):
                    found.add(info.name)
                    changed = True
        return found


def _is_tf_model(qualified: str) -> bool:
    head, _, name = qualified.rpartition(".")
    in_transformers = head == "transformers" or head.startswith("transformers.")
    return in_transformers and bool(_TF_MODEL_CLASS.match(name)) and not name.endswith("MainLayer")


_SAVE_METHODS = frozenset({"save_weights", "save", "save_pretrained", "write"})


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
            if _in_transformers(module):
                self.unit.imports.setdefault(local, set()).add(target)
                self.aliases.add(local)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = dotted(node.module) if node.module is not None else None
        ours = not node.relative and module is not None and _in_transformers(module)
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

    # -- statements --------------------------------------------------------------------

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statements.append(node)

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self.statements.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        targets = tuple(t for tgt in node.targets for t in _target_names(tgt.target))
        self.unit.binds.append(Bind(targets, node.value, self.index))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.unit.binds.append(Bind(tuple(_target_names(node.target)), node.value, self.index))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        targets = tuple(_target_names(node.target))
        self.unit.binds.append(Bind(targets, node.value, self.index, direct=False))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.unit.binds.append(Bind(tuple(_target_names(node.target)), node.value, self.index))

    def visit_For(self, node: cst.For) -> None:
        targets = tuple(_target_names(node.target))
        self.unit.binds.append(Bind(targets, node.iter, self.index, direct=False))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        targets = tuple(_target_names(node.target))
        self.unit.binds.append(Bind(targets, node.iter, self.index, direct=False))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            targets = tuple(_target_names(node.asname.name))
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
        # Cheap gate; the callee is resolved after the walk, when every binding is known.
        if last in registry.load() or (isinstance(func, cst.Name) and func.value in self.aliases):
            klass = None
            unit: Unit | None = self.unit
            while unit is not None and klass is None:
                if unit.kind == "function" and unit.owner is not None:
                    klass = unit.owner
                elif unit.kind == "class":
                    klass = self.classes.get(unit.name or "")
                unit = unit.parent
            statement = self.statements[-1] if self.statements else None
            self.candidates.append(_Candidate(node, self.unit, self.index, klass, statement, self.top))

    def finish(self) -> list[Site]:
        """Resolve class bases and candidate calls now that all bindings are known."""
        for info, unit, bases in self.bases:
            info.base_qualified = [self.qualified(b, unit) for b in bases]
        sites = (self._site(c) for c in self.candidates)
        return [site for site in sites if site is not None]

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
        target = None
        statement = candidate.statement
        if statement is not None:
            for small in statement.body:
                if isinstance(small, cst.Assign) and small.value is node and len(small.targets) == 1:
                    target = small.targets[0].target
                elif isinstance(small, cst.AnnAssign) and small.value is node:
                    target = small.target
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


@dataclass
class _Candidate:
    call: cst.Call
    unit: Unit
    index: int
    klass: ClassInfo | None
    statement: cst.SimpleStatementLine | None
    top: cst.CSTNode | None


def _in_transformers(module: str) -> bool:
    return module == "transformers" or module.startswith("transformers.")


def _target_names(node: cst.CSTNode) -> Iterator[str]:
    if isinstance(node, (cst.Name, cst.Attribute)):
        name = dotted(node)
        if name is not None:
            yield name
    elif isinstance(node, (cst.Tuple, cst.List)):
        for element in node.elements:
            yield from _target_names(element.value)
    elif isinstance(node, cst.StarredElement):
        yield from _target_names(node.value)
    elif isinstance(node, cst.Subscript):
        # `layers[0] = layer` makes the container hold it.
        name = dotted(node.value)
        if name is not None:
            yield name


def collect(module: cst.Module) -> ModuleFacts:
    """Walk the module once and return its facts."""
    collector = _Collector(module)
    module.visit(collector)
    sites = collector.finish()
    return ModuleFacts(
        module=module,
        units=collector.units,
        sites=sites,
        classes=collector.classes,
        star_modules=collector.star_modules,
        imported=collector.imported,
        save_paths=collector.save_paths,
        strings=collector.strings,
        tf_names=collector.tf_names,
    )


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

