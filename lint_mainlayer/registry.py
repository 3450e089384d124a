"""The registry of transformers TF main layers, read from the checked-in table.

The table (`data/main_layers.json`) is generated from transformers' source by
`scripts/generate_registry.py`; nothing here imports transformers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Extra:
    """A constructor parameter of a main layer beyond `config`."""

    name: str
    # 1-based position among the call's positional arguments (config is 0), None if keyword-only.
    position: int | None
    required: bool
    default: str | None


@dataclass(frozen=True)
class MainLayer:
    """One `TF*MainLayer` class and how its pretrained weights are reached."""

    name: str
    module: str
    config_class: str
    model_class: str | None
    fields: tuple[str, ...]
    exported: bool
    pretrained_class: str | None
    extras: tuple[Extra, ...]
    model_extras: tuple[str, ...]

    @property
    def field(self) -> str | None:
        """The single field of the base model that holds this layer, if there is one."""
        return self.fields[0] if len(self.fields) == 1 else None

    @property
    def required_extras(self) -> tuple[Extra, ...]:
        return tuple(e for e in self.extras if e.required)

    def extra_at(self, position: int) -> Extra | None:
        """The extra passed positionally at `position` (config is position 0)."""
        for extra in self.extras:
            if extra.position == position:
                return extra
        return None


def _extra(raw: dict[str, Any]) -> Extra:
    return Extra(
        name=raw["name"],
        position=raw.get("position"),
        required=bool(raw.get("required", False)),
        default=raw.get("default"),
    )


def _entry(raw: dict[str, Any]) -> MainLayer:
    return MainLayer(
        name=raw["name"],
        module=raw["module"],
        config_class=raw["config_class"],
        model_class=raw.get("model_class"),
        fields=tuple(raw.get("fields", ())),
        exported=bool(raw.get("exported", False)),
        pretrained_class=raw.get("pretrained_class"),
        extras=tuple(_extra(e) for e in raw.get("extras", ())),
        model_extras=tuple(raw.get("model_extras", ())),
    )


@lru_cache(maxsize=1)
def load() -> dict[str, MainLayer]:
    """All main layers by class name."""
    text = resources.files("lint_mainlayer").joinpath("data/main_layers.json").read_text("utf-8")
    raw = json.loads(text)
    return {entry["name"]: _entry(entry) for entry in raw["main_layers"]}


@lru_cache(maxsize=1)
def generated_from() -> str:
    """The transformers version the table was generated from."""
    text = resources.files("lint_mainlayer").joinpath("data/main_layers.json").read_text("utf-8")
    return str(json.loads(text)["transformers_version"])


def lookup(qualified_name: str) -> MainLayer | None:
    """The main layer a fully qualified name refers to, in any import path transformers had.

    `transformers.X`, `transformers.models.<m>.modeling_tf_<m>.X`, the pre-4.0
    `transformers.modeling_tf_<m>.X`, and `transformers.models.deprecated...X` all count.
    """
    head, _, name = qualified_name.rpartition(".")
    if not is_transformers_module(head):
        return None
    return load().get(name)


def is_transformers_module(module: str | None) -> bool:
    """Whether `module` is transformers or one of its submodules."""
    return module is not None and (module == "transformers" or module.startswith("transformers."))
