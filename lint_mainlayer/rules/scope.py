"""Scopes and names: the units of a module (its body, each function, each class body),
what each binds, and dotted names.

Each unit records its bindings (`x = ...`, `for x in ...`, `with ... as x`, `x := ...`),
calls and returns with their preorder index, so that "after the call" needs no positions,
and which names it binds, and to what when the binding is an import from transformers, so
that names resolve by Python's scoping rules (local, enclosing functions, module, star
imports). That is the part of libcst's `ScopeProvider` the rules need, at a fraction of its
cost: the provider alone took longer than the whole analysis. The nodes are Python's `ast`
(`rules/tree.py`).
"""

from __future__ import annotations

import ast
from dataclasses import field
from typing import TYPE_CHECKING, Iterator, Literal

from lint_mainlayer.records import record
from lint_mainlayer.rules.tree import SourceText

if TYPE_CHECKING:
    from lint_mainlayer.rules.classes import ClassInfo

UnitKind = Literal["module", "function", "class"]


def dotted(node: ast.AST | None) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None. `None`, `True` and `False` are names
    here, as they were to libcst."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and (node.value is None or node.value is True or node.value is False):
        return str(node.value)
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr}" if head is not None else None
    return None


@record
class Bind:
    targets: tuple[str, ...]
    value: ast.expr | None
    index: int
    # True when the targets receive `value` itself (`=`, `:=`), not an element of it.
    direct: bool = True
    # For `a, b = value`: the names the elements go to, by position (None: not a name).
    elements: tuple[str | None, ...] | None = None


@record
class CallEvent:
    node: ast.Call
    index: int


@record
class Unit:
    """A body whose statements run together: the module, a function, or a class body."""

    kind: UnitKind
    node: ast.AST
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
    returns: list[ast.expr] = field(default_factory=list)
    # Every identifier the unit's own code mentions (not its nested functions' or classes').
    names: set[str] = field(default_factory=set)
    # The module's text, for the code of a node.
    source: SourceText | None = field(default=None, repr=False)

    def code(self, node: ast.AST) -> str:
        """The code of `node`, as written."""
        assert self.source is not None
        return self.source.code(node)

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



def target_names(node: ast.AST) -> Iterator[str]:
    """The dotted names an assignment target binds (a subscript binds its container)."""
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = dotted(node)
        if name is not None:
            yield name
    elif isinstance(node, (ast.Tuple, ast.List)):
        for element in node.elts:
            yield from target_names(element)
    elif isinstance(node, ast.Starred):
        yield from target_names(node.value)
    elif isinstance(node, ast.Subscript):
        # `layers[0] = layer` makes the container hold it.
        name = dotted(node.value)
        if name is not None:
            yield name


def binding_at(name: str, unit: Unit, index: int) -> tuple[Bind, Unit] | None:
    """The binding of `name` that `unit` sees at `index`: the latest before it, or the last
    in an enclosing function or the module (class bodies do not enclose their methods).
    None for a parameter, or a name bound nowhere the unit sees."""
    before = [b for b in unit.binds if name in b.targets and b.index < index]
    if before:
        return before[-1], unit
    if "." not in name and name in unit.params:
        return None
    outer = unit.parent
    while outer is not None:
        if outer.kind != "class":
            binds = [b for b in outer.binds if name in b.targets]
            if binds:
                return binds[-1], outer
            if "." not in name and name in outer.params:
                return None
        outer = outer.parent
    return None


def param_default(unit: Unit, name: str) -> ast.expr | None:
    """The default value of the parameter `name` of the function `unit`, if any."""
    if not isinstance(unit.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    params = unit.node.args
    positional = [*params.posonlyargs, *params.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(params.defaults)) + list(params.defaults)
    for param, default in zip(positional, defaults):
        if param.arg == name:
            return default
    for param, kw_default in zip(params.kwonlyargs, params.kw_defaults):
        if param.arg == name:
            return kw_default
    return None
