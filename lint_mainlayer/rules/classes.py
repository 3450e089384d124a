"""The module's classes and how they derive from each other and from transformers.

Every hierarchy question the rules ask lives here: which classes are transformers TF models
(directly or through classes of the module), which classes such a model constructs, a
class's `TF*PreTrainedModel` base, and where a class finds a method.
"""

from __future__ import annotations

import ast
import re
from dataclasses import field
from functools import cached_property
from typing import Callable

from lint_mainlayer.records import record
from lint_mainlayer.registry import is_transformers_module, lookup_model
from lint_mainlayer.rules.scope import Unit, dotted

_PRETRAINED_BASE = re.compile(r"TF\w*Pre[tT]rainedModel$")


@record
class ClassInfo:
    name: str
    node: ast.ClassDef
    unit: Unit
    base_names: list[str]  # local dotted names of the bases
    base_qualified: list[set[str]]
    methods: dict[str, Unit] = field(default_factory=dict)
    outer: ClassInfo | None = None


def _transformers_names(qualified: set[str]) -> list[str]:
    """The class names among `qualified` that transformers defines."""
    out = []
    for name in qualified:
        head, _, last = name.rpartition(".")
        if is_transformers_module(head):
            out.append(last)
    return out


class ClassGraph:
    """Queries over the classes one module defines (later definitions win, as at run time)."""

    def __init__(self, classes: dict[str, ClassInfo]) -> None:
        self.classes = classes

    def _closure(self, seeds: set[str], step: Callable[[ClassInfo, set[str]], bool]) -> set[str]:
        found = set(seeds)
        changed = True
        while changed:
            changed = False
            for info in self.classes.values():
                if info.name not in found and step(info, found):
                    found.add(info.name)
                    changed = True
        return found

    @cached_property
    def pretrained_model_classes(self) -> frozenset[str]:
        """Local classes that subclass a transformers TF model, directly or via local classes."""

        def derives(info: ClassInfo, found: set[str]) -> bool:
            # A transformers class that `from_pretrained` loads into: a model or its family base.
            direct = any(lookup_model(q) is not None for qs in info.base_qualified for q in qs)
            return direct or any(b in found for b in info.base_names)

        return frozenset(self._closure(set(), derives))

    @cached_property
    def loaded_by_pretrained_models(self) -> frozenset[str]:
        """Classes whose layers a transformers model's `from_pretrained` loads: the model
        subclasses, and local classes they construct in their methods (a wrapper layer
        holding a main layer), transitively."""

        def constructed(info: ClassInfo, found: set[str]) -> bool:
            return any(
                dotted(event.node.func) == info.name
                for name in found
                if name in self.classes
                for method in self.classes[name].methods.values()
                for event in method.calls
            )

        return frozenset(self._closure(set(self.pretrained_model_classes), constructed))

    def subclasses_of(self, name: str) -> set[str]:
        """`name` and every local class deriving from it."""
        return self._closure({name}, lambda info, found: any(b in found for b in info.base_names))

    def pretrained_base(self, klass: ClassInfo) -> str | None:
        """The transformers `TF*PreTrainedModel` the class derives from, directly or through
        classes of this module."""
        for info in self.ancestry(klass):
            for qualified in info.base_qualified:
                for name in _transformers_names(qualified):
                    if _PRETRAINED_BASE.match(name):
                        return name
        return None

    def ancestry(self, klass: ClassInfo) -> list[ClassInfo]:
        """`klass` and its local base classes, breadth first, each once."""
        seen: set[str] = set()
        order: list[ClassInfo] = []
        queue = [klass]
        while queue:
            current = queue.pop(0)
            if current.name in seen:
                continue
            seen.add(current.name)
            order.append(current)
            queue += [self.classes[b] for b in current.base_names if b in self.classes]
        return order

    def find_method(self, klass: ClassInfo, name: str) -> Unit | None:
        """The method `name` that `klass` has or inherits from a class of this module."""
        for info in self.ancestry(klass):
            if name in info.methods:
                return info.methods[name]
        return None
