"""One pass over a module that records what the rules reason about: its units and names
(`scope`), its classes (`classes`), the calls that construct main layers (`Site`), and the
calls that may build or load a whole model (`ModelCall`, resolved by `rules/models.py`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import field
from typing import Any, Callable

from lint_mainlayer import registry
from lint_mainlayer.records import record
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
from lint_mainlayer.rules.tree import (
    Line,
    SourceText,
    call_args,
    IDENTIFIERS,
    children,
    inline_body,
    named_children,
)


@record(kw_only=True)
class Construction:
    """A call that builds something whose weights the rules follow: where it is, and what
    holds its result. The analyses (`provenance`, `origin`, `intent`) ask only this of a
    construction."""

    call: ast.Call
    unit: Unit
    # Preorder index of the call within the module walk ("after the call" needs no positions).
    index: int
    # The class whose body or method holds the call.
    klass: ClassInfo | None
    # The statement line holding the call, and its single target when the call is its whole
    # value.
    statement: Line | None
    assign_target: ast.expr | None
    # The module-level statement that holds the call.
    top: ast.AST | None = None
    # The innermost statement around the call (its first line's indentation is the block's).
    enclosing: ast.stmt | None = None


@record(kw_only=True)
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
    copy_of: ast.Call | None = None


@record(kw_only=True)
class ModelCall(Construction):
    """A call that builds or loads a whole model, as far as names tell: a transformers TF
    model class or `TFAutoModel*` class (called, or its `from_config`/`from_pretrained`), a
    class of the module, or any `x.from_pretrained(...)` that is a statement of its own.
    `rules/models.py` decides what it is."""

    # What the callee names in transformers (for `X.from_config`, what `X` names).
    qualified: frozenset[str]
    # The `if` statements around the call, innermost last, and whether it is in their body
    # (True) or their `else`/`elif` part (False).
    branches: tuple[tuple[ast.If, bool], ...] = ()


@record
class ModuleFacts:
    module: ast.Module
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
    # The module's text, and the newline and indentation it uses (as libcst infers them).
    source: SourceText = field(default_factory=lambda: SourceText(""))
    default_newline: str = "\n"
    default_indent: str = "    "

    @property
    def module_unit(self) -> Unit:
        return self.units[0]

    @property
    def classes(self) -> dict[str, ClassInfo]:
        return self.graph.classes


_MODEL_METHODS = frozenset({"from_config", "from_pretrained"})


_COMPOUND = (
    ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.TryStar,
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Match,
)
_LOOPS = (ast.While, ast.For, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_COMPOUND_TYPES = frozenset(_COMPOUND)
_LOOP_TYPES = frozenset(_LOOPS)
# Every statement type: the walk tests each node's exact type (a set lookup), not isinstance.
_STATEMENTS = frozenset(kind for kind in vars(ast).values() if isinstance(kind, type) and issubclass(kind, ast.stmt))
# The identifiers a node spells that belong to the unit around it (a definition's name goes
# to its own unit, by its visitor).
_OWN_IDENTIFIERS = {
    kind: spelled
    for kind, spelled in IDENTIFIERS.items()
    if kind not in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
}


class _Collector:
    def __init__(self, module: ast.Module, source: SourceText) -> None:
        self.module = module
        self.source = source
        self.index = 0
        self.units: list[Unit] = [Unit("module", module, None, source=source)]
        self.stack: list[Unit] = [self.units[0]]
        self.class_stack: list[ClassInfo] = []
        self.classes: dict[str, ClassInfo] = {}
        self.star_modules: list[str] = []
        self.imported: dict[str, set[str]] = {}
        self.strings: list[str] = []
        self.statements: list[Line] = []
        self.tf_names: list[str] = []
        self.top: ast.AST | None = None
        # Calls that may construct a main layer, resolved once every binding is known.
        self.candidates: list[_Candidate] = []
        self.aliases: set[str] = set()
        # Loops and comprehensions open in each unit of the stack.
        self.loops: list[int] = [0]
        self.class_names: set[str] = set()
        # `clone_model(...)` and `X.from_config(...)` calls: copies, if they copy a main layer.
        self.copies: list[_Candidate] = []
        self.bases: list[tuple[ClassInfo, Unit, list[ast.expr]]] = []
        # Calls that may build a whole model, and the `if` branches around the walk.
        self.model_candidates: list[_Candidate] = []
        self.branches: list[tuple[ast.If, bool]] = []
        # The innermost statement around the walk (its line's indentation is the block's).
        self.enclosing: list[ast.stmt] = []
        self.parents = source.parents
        self.layer_names = registry.load()
        self.model_names = registry.load_models()

    # -- the walk (source order, as libcst visits) -----------------------------------------

    def run(self) -> None:
        self.index += 1
        self._block(self.module.body, self.module, top_level=True)

    def _block(self, body: list[ast.stmt], parent: ast.AST, top_level: bool = False) -> None:
        """Statements of a block, the simple ones grouped by line (unless the block sits on
        its header's line, where libcst has no statement lines)."""
        inline = not top_level and inline_body(body, self.source)
        i = 0
        while i < len(body):
            statement = body[i]
            if inline or type(statement) in _COMPOUND_TYPES:
                if top_level:
                    self.top = statement
                self._node(statement, parent)
                i += 1
                continue
            j = i + 1
            while j < len(body) and type(body[j]) not in _COMPOUND_TYPES and body[j].lineno == body[j - 1].end_lineno:
                j += 1
            line = Line(tuple(body[i:j]))
            if top_level:
                self.top = statement
            self.index += 1
            self.statements.append(line)
            for small in line.body:
                self._node(small, parent)
            self.statements.pop()
            i = j

    # `_node` and `_children` visit names, constants and `a.b` (over half of all nodes)
    # themselves, as `_node` would, rather than by a call each; the loop is written in both
    # because a call between two levels of the tree would halve the nesting the walk can take
    # before Python's recursion limit ("too deeply nested to analyse").

    def _node(self, node: ast.AST, parent: ast.AST) -> None:
        self.index += 1
        parents = self.parents
        parents[id(node)] = parent
        names = self.stack[-1].names
        kind = type(node)
        if kind is ast.Name:
            names.add(node.id)  # type: ignore[attr-defined]
            return
        if kind is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            if isinstance(value, str) and type(parent) is not ast.JoinedStr:
                self.strings.append(value)
            return
        if kind is ast.Attribute:
            inner = node.value  # type: ignore[attr-defined]
            if type(inner) is ast.Name:
                self.index += 1
                parents[id(inner)] = node
                names.add(inner.id)
            else:
                self._node(inner, node)
            self.index += 1
            names.add(node.attr)  # type: ignore[attr-defined]
            return
        spelled = _OWN_IDENTIFIERS.get(kind)
        if spelled is not None:
            names.update(spelled(node))
        is_statement = kind in _STATEMENTS
        if is_statement:
            self.enclosing.append(node)  # type: ignore[arg-type]
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, node)
        else:
            loop = kind in _LOOP_TYPES
            if loop:
                self.loops[-1] += 1
            # The same loop as `_children`, written out here: calling it would add a Python
            # frame per level of the tree and halve the nesting analysed before the
            # recursion limit (tests/test_tree.py's deep chains).
            for child in children(node):
                kind = type(child)
                if kind is ast.Name:
                    self.index += 1
                    parents[id(child)] = node
                    names.add(child.id)  # type: ignore[attr-defined]
                elif kind is ast.Constant:
                    self.index += 1
                    parents[id(child)] = node
                    value = child.value  # type: ignore[attr-defined]
                    if isinstance(value, str) and type(node) is not ast.JoinedStr:
                        self.strings.append(value)
                elif kind is ast.Attribute and type(child.value) is ast.Name:  # type: ignore[attr-defined]
                    self.index += 3
                    parents[id(child)] = node
                    parents[id(child.value)] = child  # type: ignore[attr-defined]
                    names.add(child.value.id)  # type: ignore[attr-defined]
                    names.add(child.attr)  # type: ignore[attr-defined]
                else:
                    self._node(child, node)
            if loop:
                self.loops[-1] -= 1
        if is_statement:
            self.enclosing.pop()

    def _children(self, node: ast.AST) -> None:
        parents = self.parents
        # A nested unit is pushed and popped within one `_node` call: the unit stays.
        names = self.stack[-1].names
        for child in children(node):
            kind = type(child)
            if kind is ast.Name:
                self.index += 1
                parents[id(child)] = node
                names.add(child.id)  # type: ignore[attr-defined]
            elif kind is ast.Constant:
                self.index += 1
                parents[id(child)] = node
                value = child.value  # type: ignore[attr-defined]
                if isinstance(value, str) and type(node) is not ast.JoinedStr:
                    self.strings.append(value)
            elif kind is ast.Attribute and type(child.value) is ast.Name:  # type: ignore[attr-defined]
                # The attribute, its value and its own name, counted as `_node` counts them.
                self.index += 3
                parents[id(child)] = node
                parents[id(child.value)] = child  # type: ignore[attr-defined]
                names.add(child.value.id)  # type: ignore[attr-defined]
                names.add(child.attr)  # type: ignore[attr-defined]
            else:
                self._node(child, node)

    @property
    def unit(self) -> Unit:
        return self.stack[-1]

    def qualified(self, node: ast.AST, unit: Unit) -> set[str]:
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

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._node(alias, node)
            module = alias.name
            if alias.asname is not None:
                local, target = alias.asname, module
            else:
                # `import a.b.c` binds `a`.
                local = target = module.partition(".")[0]
            self.unit.bound.add(local)
            if module == "tensorflow" and local:
                self.tf_names.append(local)
            if is_transformers_module(module):
                self.unit.imports.setdefault(local, set()).add(target)
                self.aliases.add(local)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module
        ours = not node.level and module is not None and is_transformers_module(module)
        self._children(node)
        if len(node.names) == 1 and node.names[0].name == "*":
            if ours and module is not None and self.unit.kind == "module":
                self.star_modules.append(module)
            return
        for alias in node.names:
            name = alias.name
            local_name = alias.asname or alias.name
            if not local_name:
                continue
            self.unit.bound.add(local_name)
            if ours:
                qualified = f"{module}.{name}"
                self.unit.imports.setdefault(local_name, set()).add(qualified)
                self.imported.setdefault(local_name, set()).add(qualified)
                self.aliases.add(local_name)

    def visit_Global(self, node: ast.Global) -> None:
        self.unit.declared_global.update(node.names)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name is not None:
            self.unit.bound.add(node.name)
        if node.type is not None:
            self._node(node.type, node)
        self._block(node.body, node)

    # -- units -------------------------------------------------------------------------

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.unit.bound.add(node.name)
        unit = Unit("class", node, self.unit, name=node.name, source=self.source)
        self.units.append(unit)
        bases = list(node.bases)
        info = ClassInfo(
            name=node.name,
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
        unit.names.add(node.name)
        for child in (*node.decorator_list, *sorted_bases(node)):
            self._node(child, node)
        self._block(node.body, node)
        self.stack.pop()
        self.loops.pop()
        self.class_stack.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.unit.bound.add(node.name)
        owner = self.class_stack[-1] if self.unit.kind == "class" and self.class_stack else None
        unit = Unit("function", node, self.unit, name=node.name, owner=owner, source=self.source)
        params = node.args
        unit.params = [p.arg for p in (*params.posonlyargs, *params.args)]
        unit.params += [p.arg for p in params.kwonlyargs]
        for star in (params.vararg, params.kwarg):
            if star is not None:
                unit.params.append(star.arg)
        if owner is not None:
            owner.methods[unit.name or ""] = unit
        self.units.append(unit)
        self.stack.append(unit)
        self.loops.append(0)
        unit.names.add(node.name)
        for child in node.decorator_list:
            self._node(child, node)
        self._node(params, node)
        if node.returns is not None:
            self._node(node.returns, node)
        self._block(node.body, node)
        self.stack.pop()
        self.loops.pop()

    def visit_If(self, node: ast.If) -> None:
        self._node(node.test, node)
        self.branches.append((node, True))
        self._block(node.body, node)
        self.branches.pop()
        if node.orelse:
            self.branches.append((node, False))
            self._block(node.orelse, node)
            self.branches.pop()

    def _compound(self, node: ast.AST) -> None:
        # Blocks keep their statement lines; everything else is an expression.
        loop = isinstance(node, _LOOPS)
        if loop:
            self.loops[-1] += 1
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                self._block(value, node)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self._node(item, node)
            elif isinstance(value, ast.AST) and not isinstance(value, ast.expr_context):
                self._node(value, node)
        if loop:
            self.loops[-1] -= 1

    def visit_While(self, node: ast.While) -> None:
        self._compound(node)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        self._compound(node)

    def visit_Try(self, node: ast.Try | ast.TryStar) -> None:
        self._compound(node)

    def visit_Match(self, node: ast.Match) -> None:
        self._node(node.subject, node)
        for case in node.cases:
            self.index += 1
            self._node(case.pattern, case)
            if case.guard is not None:
                self._node(case.guard, case)
            self._block(case.body, case)

    # -- statements --------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        targets = tuple(t for tgt in node.targets for t in target_names(tgt))
        elements = None
        if len(node.targets) == 1 and isinstance(node.targets[0], (ast.Tuple, ast.List)):
            elements = tuple(dotted(e) if isinstance(e, (ast.Name, ast.Attribute)) else None for e in node.targets[0].elts)
        self.unit.binds.append(Bind(targets, node.value, self.index, elements=elements))
        self._children(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.unit.binds.append(Bind(tuple(target_names(node.target)), node.value, self.index))
        self._children(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        targets = tuple(target_names(node.target))
        self.unit.binds.append(Bind(targets, node.value, self.index, direct=False))
        self._children(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.unit.binds.append(Bind(tuple(target_names(node.target)), node.value, self.index))
        self._children(node)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        targets = tuple(target_names(node.target))
        self.unit.binds.append(Bind(targets, node.iter, self.index, direct=False))
        self._compound(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        targets = tuple(target_names(node.target))
        self.unit.binds.append(Bind(targets, node.iter, self.index, direct=False))
        self._children(node)

    def visit_withitem(self, node: ast.withitem) -> None:
        if node.optional_vars is not None:
            targets = tuple(target_names(node.optional_vars))
            self.unit.binds.append(Bind(targets, node.context_expr, self.index, direct=False))
        self._children(node)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            self.unit.returns.append(node.value)
        self._children(node)

    # -- calls -------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        self.unit.calls.append(CallEvent(node, self.index))
        func = node.func
        name = dotted(func) or ""
        last = name.rpartition(".")[2]
        if (last == "clone_model" or last == "from_config") and (node.args or node.keywords):
            self.copies.append(self._candidate(node))
        # Cheap gates; the callee is resolved after the walk, when every binding is known.
        # Names, subscripts and `getattr(...)` may hold a class (`Enc = TFBertMainLayer`).
        is_layer = (
            last in self.layer_names
            or isinstance(func, (ast.Name, ast.Subscript))
            or (isinstance(func, ast.Call) and dotted(func.func) == "getattr")
        )
        # A model class, an auto class's or any `from_pretrained`, or a capitalised name (a
        # class of the module, maybe defined further down).
        is_model = last in _MODEL_METHODS or last in self.model_names or (
            isinstance(func, ast.Name) and func.id[:1].isupper()
        )
        if is_layer or is_model:
            candidate = self._candidate(node)
            if is_layer:
                self.candidates.append(candidate)
            if is_model:
                self.model_candidates.append(candidate)
        self._children(node)

    def _candidate(self, node: ast.Call) -> _Candidate:
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
            node,
            self.unit,
            self.index,
            klass,
            statement,
            self.top,
            self.loops[-1] > 0,
            tuple(self.branches),
            self.enclosing[-1] if self.enclosing else None,
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
            method = func.attr if isinstance(func, ast.Attribute) else None
            named = func.value if method in _MODEL_METHODS and isinstance(func, ast.Attribute) else func
            qualified = frozenset(self.qualified(named, candidate.unit))
            known = any(
                registry.lookup_model(q) is not None or registry.lookup_auto(q) is not None for q in qualified
            )
            local = isinstance(named, ast.Name) and named.id in self.classes and not qualified
            statement = candidate.statement
            alone = (
                method == "from_pretrained"
                and statement is not None
                and any(isinstance(small, ast.Expr) and small.value is candidate.call for small in statement.body)
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
                    enclosing=candidate.enclosing,
                    qualified=qualified,
                    branches=candidate.branches,
                )
            )
        return found

    def _copy(self, candidate: _Candidate, sites: dict[int, Site]) -> Site | None:
        """`clone_model(x)` or `K.from_config(x.get_config())` of a value holding a main layer:
        a new layer with fresh weights."""
        call = candidate.call
        source: ast.expr = call_args(call)[0].value
        if isinstance(source, ast.Call) and isinstance(source.func, ast.Attribute) and source.func.attr == "get_config":
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
        self, expr: ast.AST, unit: Unit, index: int, sites: dict[int, Site], depth: int
    ) -> tuple[MainLayer, ast.Call] | None:
        """The main layer a value holds, and the call that built it, following names."""
        if depth > 6:
            return None
        stack: list[ast.AST] = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Call):
                if id(node) in sites:
                    return sites[id(node)].layer, node
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr == "from_pretrained":
                    for qualified in sorted(self.qualified(func.value, unit)):
                        model = registry.lookup_model(qualified)
                        held = model.base_main_layer if model is not None else None
                        layer = registry.load().get(held.cls) if held is not None else None
                        if layer is not None:
                            return layer, node
            if isinstance(node, ast.Name):
                found = binding_at(node.id, unit, index)
                if found is not None and found[0].value is not None:
                    inner = self._held_layer(found[0].value, found[1], found[0].index, sites, depth + 1)
                    if inner is not None:
                        return inner
                continue
            stack.extend(named_children(node))
        return None

    def _class_valued_names(self) -> set[str]:
        """Names that may hold a main-layer class: bound to an imported class, a container
        or item of classes, `getattr(...)`, or such a name; and classes of the module with
        bases. A cheap over-approximation that spares resolving every other call."""
        shapes = (ast.Name, ast.Attribute, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Subscript, ast.Call)
        binds: list[tuple[tuple[str, ...], ast.expr]] = [
            (b.targets, b.value)
            for unit in self.units
            for b in unit.binds
            if isinstance(b.value, shapes)
            and (not isinstance(b.value, ast.Call) or dotted(b.value.func) in ("getattr", *_ITERATING))
        ]
        known = set(self.aliases) | set(registry.load())
        found = {name for name, info in self.classes.items() if info.base_names}
        changed = True
        while changed:
            changed = False
            for targets, value in binds:
                if all(t in found for t in targets):
                    continue
                if isinstance(value, ast.Call) and dotted(value.func) in _ITERATING:
                    value = call_args(value)[0].value if call_args(value) else value
                if (isinstance(value, ast.Call) and dotted(value.func) == "getattr") or any(
                    isinstance(n, ast.Name) and (n.id in known or n.id in found)
                    or isinstance(n, ast.Attribute) and n.attr in known
                    for n in _shallow(value)
                ):
                    found.update(targets)
                    changed = True
        return found

    def _imported_layer(self, node: ast.AST, unit: Unit) -> tuple[MainLayer, str] | None:
        """The main layer an imported name refers to, and the module it came from."""
        for qualified in sorted(self.qualified(node, unit)):
            layer = registry.lookup(qualified)
            if layer is not None:
                return layer, qualified.rpartition(".")[0]
        return None

    def _classes(self, expr: ast.AST, unit: Unit, index: int, depth: int) -> tuple[list[MainLayer], str | None]:
        """The main-layer classes `expr` may evaluate to, and how it reaches them (None: by
        an imported name)."""
        if depth > 6:
            return [], None
        if isinstance(expr, (ast.Name, ast.Attribute)):
            imported = self._imported_layer(expr, unit)
            if imported is not None:
                return [imported[0]], None
            if not isinstance(expr, ast.Name):
                return [], None
            info = self.classes.get(expr.id)
            if info is not None and self.units[0].binds_name(expr.id):
                for base in self._main_layer_bases(info, 0):
                    return [base], "a subclass"
                return [], None
            found = binding_at(expr.id, unit, index)
            if found is None or found[0].value is None:
                return [], None
            bind, bind_unit = found
            layers, _ = self._classes(bind.value, bind_unit, bind.index, depth + 1)  # type: ignore[arg-type]
            if bind.direct or not layers:
                return layers, "a variable"
            return layers, "a loop over classes"
        if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
            elements = [e.value if isinstance(e, ast.Starred) else e for e in expr.elts]
            return self._union(elements, unit, index, depth), "a container"
        if isinstance(expr, ast.Dict):
            values = [v for k, v in zip(expr.keys, expr.values) if k is not None]
            return self._union(values, unit, index, depth), "a container"
        if isinstance(expr, ast.Subscript):
            key = expr.slice if not isinstance(expr.slice, ast.Slice) else None
            container: ast.AST = expr.value
            if isinstance(container, ast.Name):
                found = binding_at(container.id, unit, index)
                if found is not None and found[0].direct and found[0].value is not None:
                    container, unit, index = found[0].value, found[1], found[0].index
            if isinstance(container, ast.Dict) and key is not None:
                wanted = string_value(key)
                for dict_key, value in zip(container.keys, container.values):
                    if dict_key is not None and wanted is not None and string_value(dict_key) == wanted:
                        return self._classes(value, unit, index, depth + 1)[0], "a container"
            return self._classes(container, unit, index, depth + 1)[0], "a container"
        if isinstance(expr, ast.Call) and dotted(expr.func) in _ITERATING and call_args(expr):
            # `for i, cls in enumerate(classes)`: the classes of the iterable.
            return self._classes(call_args(expr)[0].value, unit, index, depth + 1)[0], "a container"
        if isinstance(expr, ast.Call) and dotted(expr.func) == "getattr" and len(call_args(expr)) >= 2:
            modules = [q for q in self.qualified(call_args(expr)[0].value, unit) if is_transformers_module(q)]
            if not modules:
                return [], None
            name_arg = call_args(expr)[1].value
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

    def _union(self, nodes: list[ast.expr], unit: Unit, index: int, depth: int) -> list[MainLayer]:
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
            if isinstance(func, ast.Name):
                import_module = imported[1]
        elif isinstance(func, (ast.Subscript, ast.Call)) or (isinstance(func, ast.Name) and func.id in self.class_names):
            layers, via = self._classes(func, candidate.unit, candidate.index, 0)
            if not layers or via is None:
                return None
            layer = layers[0]
            alternatives = tuple(other.name for other in layers[1:])
            if dotted(func) is None:
                callee = self.source.code(func)
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
            enclosing=candidate.enclosing,
            via=via,
            alternatives=alternatives,
            in_loop=candidate.in_loop,
        )


def _assign_target(statement: Line | None, node: ast.expr) -> ast.expr | None:
    """The single target of the assignment in `statement` whose whole value is `node`."""
    if statement is None:
        return None
    for small in statement.body:
        if isinstance(small, ast.Assign) and small.value is node and len(small.targets) == 1:
            return small.targets[0]
        if isinstance(small, ast.AnnAssign) and small.value is node:
            return small.target
    return None


def _name_pattern(node: ast.expr) -> re.Pattern[str] | None:
    """The names an f-string such as `f"TF{arch}MainLayer"` can spell, when its literal
    parts pin it to main layers (it starts with `TF` and ends with `MainLayer`)."""
    if not isinstance(node, ast.JoinedStr):
        return None
    parts = node.values
    first, last = (parts[0], parts[-1]) if parts else (None, None)
    if not isinstance(first, ast.Constant) or not isinstance(last, ast.Constant):
        return None
    if not str(first.value).startswith("TF") or not str(last.value).endswith("MainLayer"):
        return None
    return re.compile(
        "".join(re.escape(str(p.value)) if isinstance(p, ast.Constant) else r"\w*" for p in parts)
    )


# Builtins whose result iterates over their first argument's items.
_ITERATING = ("enumerate", "reversed", "sorted", "list", "tuple", "iter")


def _shallow(node: ast.AST) -> list[ast.AST]:
    """`node` and its parts through containers and items, not into calls."""
    out: list[ast.AST] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        if isinstance(current, (ast.Tuple, ast.List, ast.Set)):
            stack.extend(e.value if isinstance(e, ast.Starred) else e for e in current.elts)
        elif isinstance(current, ast.Dict):
            stack.extend(v for k, v in zip(current.keys, current.values) if k is not None)
        elif isinstance(current, ast.Subscript):
            stack.append(current.value)
    return out


@record
class _Candidate:
    call: ast.Call
    unit: Unit
    index: int
    klass: ClassInfo | None
    statement: Line | None
    top: ast.AST | None
    in_loop: bool = False
    branches: tuple[tuple[ast.If, bool], ...] = ()
    enclosing: ast.stmt | None = None


def sorted_bases(node: ast.ClassDef) -> list[ast.AST]:
    bases: list[ast.AST] = [*node.bases, *node.keywords]
    if node.bases and node.keywords:
        bases.sort(key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
    return bases


_HANDLERS: dict[type[ast.AST], Callable[[_Collector, Any], None]] = {
    ast.Import: _Collector.visit_Import,
    ast.ImportFrom: _Collector.visit_ImportFrom,
    ast.Global: _Collector.visit_Global,
    ast.ExceptHandler: _Collector.visit_ExceptHandler,
    ast.ClassDef: _Collector.visit_ClassDef,
    ast.FunctionDef: _Collector.visit_FunctionDef,
    ast.AsyncFunctionDef: _Collector.visit_FunctionDef,
    ast.If: _Collector.visit_If,
    ast.While: _Collector.visit_While,
    ast.With: _Collector.visit_With,
    ast.AsyncWith: _Collector.visit_With,
    ast.Try: _Collector.visit_Try,
    ast.TryStar: _Collector.visit_Try,
    ast.Match: _Collector.visit_Match,
    ast.Assign: _Collector.visit_Assign,
    ast.AnnAssign: _Collector.visit_AnnAssign,
    ast.AugAssign: _Collector.visit_AugAssign,
    ast.NamedExpr: _Collector.visit_NamedExpr,
    ast.For: _Collector.visit_For,
    ast.AsyncFor: _Collector.visit_For,
    ast.comprehension: _Collector.visit_comprehension,
    ast.withitem: _Collector.visit_withitem,
    ast.Return: _Collector.visit_Return,
    ast.Call: _Collector.visit_Call,
}


def _blocks(statement: ast.stmt) -> list[list[ast.stmt]]:
    """The blocks of a compound statement, in source order."""
    if isinstance(statement, (ast.Try, ast.TryStar)):
        return [statement.body, *(h.body for h in statement.handlers), statement.orelse, statement.finalbody]
    if isinstance(statement, ast.Match):
        return [case.body for case in statement.cases]
    return [getattr(statement, "body", None) or [], getattr(statement, "orelse", None) or []]


def _first_indent(module: ast.Module, source: SourceText) -> str:
    """The indentation of the module's first indented block (what libcst infers)."""
    for statement in module.body:
        if not isinstance(statement, _COMPOUND):
            continue
        for block in _blocks(statement):
            if block and not inline_body(block, source):
                return source.line_indent(block[0].lineno) or "    "
    return "    "


def collect(module: ast.Module, source: SourceText | str) -> ModuleFacts:
    """Walk the module once and return its facts (`source`: the text it was parsed from)."""
    text = source if isinstance(source, SourceText) else SourceText(source)
    collector = _Collector(module, text)
    collector.run()
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
        source=text,
        default_newline=text.newline,
        default_indent=_first_indent(module, text),
    )
