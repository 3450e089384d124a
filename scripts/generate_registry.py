"""Generate `lint_mainlayer/data/main_layers.json` and `models.json` from transformers' source.

Usage: python scripts/generate_registry.py [--check] [--output PATH] [--models-output PATH]
                                           [--transformers-dir DIR]

`main_layers.json` lists the `TF*MainLayer` classes; `models.json` every TF model class (the
`TFPreTrainedModel` subclasses), the `TFAutoModel*` classes with their mappings, and the config
class of each model type. The source is only parsed (libcst), never imported: importing
transformers would pull in TensorFlow, and the tables must be reproducible on machines that
have neither installed. `--check` exits 1 when a checked-in table differs from what this script
would write.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libcst as cst
import libcst.matchers as m

DATA = Path(__file__).resolve().parent.parent / "lint_mainlayer" / "data"
DEFAULT_OUTPUT = DATA / "main_layers.json"
DEFAULT_MODELS_OUTPUT = DATA / "models.json"

_MAIN_LAYER = re.compile(r"^TF\w*MainLayer$")
# Bart and its copies spell it `TFBartPretrainedModel`.
_PRETRAINED = re.compile(r"^TF\w*Pre[Tt]rainedModel$")
# Cheap text filter so only the few files that define a main layer get parsed.
_MAIN_LAYER_DEF = re.compile(r"^class TF\w*MainLayer\b", re.MULTILINE)
# Words that mark a model class as carrying a task head rather than being the bare base model.
_HEAD_MARKERS = ("For", "Head", "With")
_TF_PRETRAINED_MODEL = "transformers.modeling_tf_utils.TFPreTrainedModel"
# The family bases: TFBertPreTrainedModel, TFBartPretrainedModel, DPR's TFDPRPretrainedReader...
_FAMILY = re.compile(r"Pre[Tt]rained")
# Heads whose weights a pretraining checkpoint holds: language modelling, pretraining objectives,
# generation. `For[A-Z]`, not `For`: TFLongformerModel and TFEfficientFormerModel are base models.
_PRETRAINING_HEAD = re.compile(
    r"For(MaskedLM|CausalLM|PreTraining|ConditionalGeneration|MaskedImageModeling"
    r"|VisionText2Text|Generation)$|(LMHead|DoubleHeads)Model$"
)
# The auto mappings of those heads: a class they name is one whatever its name
# (TFMarianMTModel, TFEncoderDecoderModel, TFVisionEncoderDecoderModel).
_PRETRAINING_MAPPINGS = frozenset(
    {
        "TF_MODEL_FOR_PRETRAINING_MAPPING",
        "TF_MODEL_WITH_LM_HEAD_MAPPING",
        "TF_MODEL_FOR_CAUSAL_LM_MAPPING",
        "TF_MODEL_FOR_MASKED_LM_MAPPING",
        "TF_MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING",
        "TF_MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING",
        "TF_MODEL_FOR_VISION_2_SEQ_MAPPING",
        "TF_MODEL_FOR_MASKED_IMAGE_MODELING_MAPPING",
    }
)
# The auto mappings whose classes are bare models.
_BASE_MAPPINGS = frozenset({"TF_MODEL_MAPPING", "TF_MODEL_FOR_TEXT_ENCODING_MAPPING"})
# DPR and Segformer name some heads without `For`.
_TASK_HEAD = re.compile(r"For[A-Z]|(Reader|SpanPredictor|DecodeHead)$")
_AUTO_MODULE = "transformers.models.auto.modeling_tf_auto"


@dataclass(frozen=True)
class _Holding:
    """`self.<field> = <layer>(...)` inside a class's `__init__`."""

    field: str
    layer: str
    call: cst.Call


@dataclass(frozen=True)
class _Class:
    name: str
    bases: tuple[str, ...]
    config_class: str | None
    init: cst.FunctionDef | None
    holdings: tuple[_Holding, ...]
    # Class-level `config_class = ...` / `base_model_prefix = ...`, with `None` kept as None.
    attributes: tuple[tuple[str, str | None], ...] = ()
    # Whether `__init__` calls `super().__init__`, so the parents' fields are set as well.
    init_calls_super: bool = False


@dataclass(frozen=True)
class _Source:
    """One parsed `modeling_tf_*.py`: its classes and what its imported names refer to."""

    name: str
    classes: dict[str, _Class]
    imports: dict[str, str]


# --- exports ---------------------------------------------------------------------------------


def _fetch_all(text: str) -> list[str]:
    # Mirrors transformers.utils.import_utils.fetch__all__ line for line: exports are decided by
    # that textual parser (last line starting with `__all__`), not by what Python would evaluate.
    if "__all__" not in text:
        return []
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("__all__")]
    if not starts:
        return []
    lines = lines[starts[-1] :]
    if lines[0].endswith("]"):
        return [
            obj.strip("\"' ") for obj in lines[0].split("=")[1].strip(" []").split(",")
        ]
    names: list[str] = []
    for line in lines[1:]:
        if line.strip() == "]":
            break
        names.append(line.strip("\"', "))
    return names


def _requires_exports(text: str) -> set[str]:
    # Mirrors the `@requires` scan in create_import_structure_from_path: the first top-level
    # `class`/`def` line after an `@requires(...)` line is exported, whatever sits in between.
    exported: set[str] = set()
    previous = ""
    for line in text.split("\n"):
        if line.startswith((" ", "\t", "@", ")")) and not line.startswith("@requires"):
            continue
        skip = False
        if "@requires" in previous:
            if line.startswith(("class", "def")):
                start = 6 if line.startswith("class") else 4
                exported.add(line[start:].split("(")[0].strip(":"))
            else:
                skip = True
        if not skip:
            previous = line
    return exported


def _models_exports(directory: Path) -> set[str]:
    # Mirrors create_import_structure_from_path: every sub-folder (deprecated/ included), every
    # .py file but __init__.py, and modular_*.py dropped when the folder also has modeling_*.
    names: set[str] = set()
    files: list[str] = []
    for entry in sorted(os.listdir(directory)):
        if (directory / entry).is_dir():
            if entry != "__pycache__":
                names |= _models_exports(directory / entry)
        elif entry != "__init__.py":
            files.append(entry)
    if any("modular_" in f for f in files) and any("modeling_" in f for f in files):
        files = [f for f in files if "modular_" not in f]
    for file in files:
        if not file.endswith(".py"):
            continue
        text = (directory / file).read_text("utf-8")
        if "@requires" in text:
            names |= _requires_exports(text)
        names.update(_fetch_all(text))
    return names


def _is_import_structure(node: cst.BaseExpression) -> bool:
    return m.matches(
        node,
        m.Name("_import_structure") | m.Subscript(value=m.Name("_import_structure")),
    )


def _string_values(node: cst.CSTNode) -> Iterator[str]:
    for string in m.findall(node, m.SimpleString()):
        assert isinstance(string, cst.SimpleString)
        value = string.evaluated_value
        if isinstance(value, str):
            yield value


def _top_level_exports(init: cst.Module) -> set[str]:
    # The hand-written `_import_structure` of transformers/__init__.py: a dict literal, then
    # `_import_structure[...] = [...]` and `_import_structure[...].extend([...])` per backend.
    # Before ~4.45 every model's objects were listed here; in 4.57 only non-model objects are.
    names: set[str] = set()
    for node in m.findall(init, m.Assign() | m.Call()):
        if isinstance(node, cst.Assign):
            if not any(_is_import_structure(t.target) for t in node.targets):
                continue
            if isinstance(node.value, cst.Dict):
                for element in node.value.elements:
                    if isinstance(element, cst.DictElement):
                        names.update(_string_values(element.value))
            else:
                names.update(_string_values(node.value))
        elif isinstance(node, cst.Call) and m.matches(
            node.func,
            m.Attribute(
                value=m.Subscript(value=m.Name("_import_structure")),
                attr=m.Name("extend") | m.Name("append"),
            ),
        ):
            for arg in node.args:
                names.update(_string_values(arg))
    return names


def exported_names(transformers_dir: Path) -> frozenset[str]:
    """Every name `from transformers import <name>` resolves in the given source tree.

    That is the top-level `_import_structure` plus, when the top-level `__init__.py` hands
    `models/` to `define_import_structure` (4.57 does), every `__all__` entry and `@requires`
    object found by transformers' own scan of that folder.
    """
    init_text = (transformers_dir / "__init__.py").read_text("utf-8")
    names = _top_level_exports(cst.parse_module(init_text))
    if (
        "define_import_structure(" in init_text
        and (transformers_dir / "models").is_dir()
    ):
        names |= _models_exports(transformers_dir / "models")
    return frozenset(names)


# --- classes ---------------------------------------------------------------------------------


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _holdings(init: cst.FunctionDef) -> tuple[_Holding, ...]:
    found: list[_Holding] = []
    pattern = m.Assign(
        targets=[m.AssignTarget(target=m.Attribute(value=m.Name("self")))],
        value=m.Call(func=m.Name()),
    )
    for node in m.findall(init.body, pattern):
        assert isinstance(node, cst.Assign)
        target = node.targets[0].target
        call = node.value
        assert isinstance(target, cst.Attribute) and isinstance(call, cst.Call)
        assert isinstance(call.func, cst.Name)
        found.append(
            _Holding(field=target.attr.value, layer=call.func.value, call=call)
        )
    return tuple(found)


_CLASS_ATTRIBUTES = ("config_class", "base_model_prefix")


def _attribute_value(node: cst.BaseExpression) -> str | None:
    if m.matches(node, m.Name("None")):
        return None
    return _dotted(node)


def _class_info(node: cst.ClassDef) -> _Class:
    config_class: str | None = None
    init: cst.FunctionDef | None = None
    attributes: list[tuple[str, str | None]] = []
    for statement in node.body.body:
        if (
            isinstance(statement, cst.FunctionDef)
            and statement.name.value == "__init__"
        ):
            init = statement
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if m.matches(
                    small,
                    m.Assign(targets=[m.AssignTarget(target=m.Name("config_class"))]),
                ):
                    assert isinstance(small, cst.Assign)
                    config_class = _dotted(small.value)
                if m.matches(
                    small,
                    m.Assign(
                        targets=[
                            m.AssignTarget(
                                target=m.OneOf(*(m.Name(a) for a in _CLASS_ATTRIBUTES))
                            )
                        ]
                    ),
                ):
                    assert isinstance(small, cst.Assign)
                    target = small.targets[0].target
                    assert isinstance(target, cst.Name)
                    attributes.append((target.value, _attribute_value(small.value)))
    bases = tuple(name for arg in node.bases if (name := _dotted(arg.value)))
    holdings = _holdings(init) if init is not None else ()
    calls_super = init is not None and bool(
        m.findall(
            init.body,
            m.Call(
                func=m.Attribute(
                    value=m.Call(func=m.Name("super")), attr=m.Name("__init__")
                )
            ),
        )
    )
    return _Class(
        node.name.value,
        bases,
        config_class,
        init,
        holdings,
        tuple(attributes),
        calls_super,
    )


def _pretrained_base(cls: _Class, classes: dict[str, _Class]) -> str | None:
    # Nearest TF*PreTrainedModel ancestor, following bases defined in the same module.
    seen: set[str] = set()
    queue = list(cls.bases)
    while queue:
        base = queue.pop(0).rpartition(".")[2]
        if _PRETRAINED.match(base):
            return base
        if base in classes and base not in seen:
            seen.add(base)
            queue.extend(classes[base].bases)
    return None


def _parameters(init: cst.FunctionDef) -> tuple[list[cst.Param], list[cst.Param]]:
    """(positional, keyword-only) parameters, without `self`."""
    params = init.params
    positional = [*params.posonly_params, *params.params][1:]
    return positional, list(params.kwonly_params)


def _config_annotation(init: cst.FunctionDef | None) -> str | None:
    if init is None:
        return None
    positional, keyword_only = _parameters(init)
    for param in [*positional, *keyword_only]:
        if param.name.value == "config" and param.annotation is not None:
            return _dotted(param.annotation.annotation)
    return None


def _extras(module: cst.Module, init: cst.FunctionDef | None) -> list[dict[str, Any]]:
    if init is None:
        return []
    positional, keyword_only = _parameters(init)
    extras: list[dict[str, Any]] = []
    # Positions count from `config`, which is argument 0 of every main layer in transformers.
    for position, param in enumerate(positional):
        if param.name.value != "config":
            extras.append(_extra(module, param, position))
    extras.extend(_extra(module, param, None) for param in keyword_only)
    return extras


def _extra(
    module: cst.Module, param: cst.Param, position: int | None
) -> dict[str, Any]:
    default = module.code_for_node(param.default) if param.default is not None else None
    return {
        "name": param.name.value,
        "position": position,
        "required": default is None,
        "default": default,
    }


def _forwarded(model: _Class, layer: str) -> list[str]:
    """Parameters of the model's `__init__` that reach the main layer's constructor call."""
    if model.init is None:
        return []
    positional, keyword_only = _parameters(model.init)
    params = [
        p.name.value for p in [*positional, *keyword_only] if p.name.value != "config"
    ]
    used: set[str] = set()
    for holding in model.holdings:
        if holding.layer == layer:
            for arg in holding.call.args:
                used.update(
                    n.value
                    for n in m.findall(arg.value, m.Name())
                    if isinstance(n, cst.Name)
                )
    return [p for p in params if p in used]


def _choose_model(layer: str, holders: list[_Class]) -> _Class | None:
    if not holders:
        return None
    preferred = f"TF{layer[2 : -len('MainLayer')]}Model"
    for holder in holders:
        if holder.name == preferred:
            return holder
    plain = [
        h
        for h in holders
        if h.name.endswith("Model") and not any(w in h.name for w in _HEAD_MARKERS)
    ]
    return (plain or holders)[0]


def _module_name(path: Path, transformers_dir: Path) -> str:
    parts = path.relative_to(transformers_dir).with_suffix("").parts
    return ".".join(("transformers", *parts))


def _module_entries(
    path: Path,
    transformers_dir: Path,
    exported: frozenset[str],
    module: cst.Module,
    classes: dict[str, _Class],
) -> list[dict[str, Any]]:
    pretrained = {name: _pretrained_base(cls, classes) for name, cls in classes.items()}
    entries: list[dict[str, Any]] = []
    for layer in (cls for name, cls in classes.items() if _MAIN_LAYER.match(name)):
        holders = [
            cls
            for cls in classes.values()
            if pretrained[cls.name] and any(h.layer == layer.name for h in cls.holdings)
        ]
        model = _choose_model(layer.name, holders)
        pretrained_class = pretrained[model.name] if model else None
        # Fall back to the config the weights are loaded with when the layer names none itself.
        fallback = (
            classes[pretrained_class].config_class
            if pretrained_class in classes
            else None
        )
        config_class = layer.config_class or _config_annotation(layer.init) or fallback
        if config_class is None:
            raise ValueError(f"{path}: cannot tell the config class of {layer.name}")
        entries.append(
            {
                "name": layer.name,
                "module": _module_name(path, transformers_dir),
                "config_class": config_class,
                "model_class": model.name if model else None,
                "fields": [h.field for h in model.holdings if h.layer == layer.name]
                if model
                else [],
                "exported": layer.name in exported,
                "pretrained_class": pretrained_class,
                "extras": _extras(module, layer.init),
                "model_extras": _forwarded(model, layer.name) if model else [],
            }
        )
    return entries


# --- model classes ---------------------------------------------------------------------------


def _auto_kind(mapping: str) -> str:
    if mapping in _PRETRAINING_MAPPINGS:
        return "pretraining"
    if mapping in _BASE_MAPPINGS:
        return "base"
    return "task"


def _kind(name: str, pretraining: frozenset[str] = frozenset()) -> str:
    if _FAMILY.search(name):
        return "family"
    if name in pretraining or _PRETRAINING_HEAD.search(name):
        return "pretraining"
    if _TASK_HEAD.search(name):
        return "task"
    return "base"


class _ModelGraph:
    """Every class of the parsed modules, with bases resolved across modules through imports."""

    def __init__(
        self,
        sources: dict[str, _Source],
        layers: list[dict[str, Any]],
        configs: list[tuple[str, str]],
        autos: list[dict[str, Any]],
    ) -> None:
        self.sources = sources
        self.by_name: dict[str, list[str]] = {}
        for source in sources.values():
            for name in source.classes:
                self.by_name.setdefault(name, []).append(f"{source.name}.{name}")
        self.layers = {f"{entry['module']}.{entry['name']}": entry for entry in layers}
        # As transformers' _LazyAutoMapping reverses CONFIG_MAPPING_NAMES: the last type wins.
        self.config_types = {config: model_type for model_type, config in configs}
        base_autos = [auto for auto in autos if auto["name"] == "TFAutoModel"]
        self.base_models: dict[str, list[str]] = (
            base_autos[0]["models"] if base_autos else {}
        )
        self.pretraining = frozenset(
            name
            for auto in autos
            if auto["kind"] == "pretraining"
            for names in auto["models"].values()
            for name in names
        )
        self._mros: dict[str, list[str]] = {}
        self._base_models: dict[str, str | None] = {}

    def kind(self, key: str) -> str:
        return _kind(key.rpartition(".")[2], self.pretraining)

    def cls(self, key: str) -> _Class | None:
        module, _, name = key.rpartition(".")
        source = self.sources.get(module)
        return source.classes.get(name) if source else None

    def resolve(self, module: str, name: str, depth: int = 0) -> str | None:
        """The key (`module.Class`) of the class `name` refers to inside `module`."""
        source = self.sources.get(module)
        if source is None:
            # `from ... import TFPreTrainedModel` (idefics) goes through a package
            # `__init__`, which is not parsed: a class name defined once is unambiguous.
            keys = self.by_name.get(name, [])
            return keys[0] if len(keys) == 1 else None
        if name in source.classes:
            return f"{module}.{name}"
        target = source.imports.get(name)
        if target is None or depth > 10:
            return None
        target_module, _, target_name = target.rpartition(".")
        return self.resolve(target_module, target_name, depth + 1)

    def bases(self, key: str) -> list[str]:
        """Resolved base keys; an unresolved base (keras.layers.Layer...) stays as `?name`."""
        cls = self.cls(key)
        if cls is None:
            return []
        module = key.rpartition(".")[0]
        found: list[str] = []
        for base in cls.bases:
            resolved = self.resolve(module, base) if "." not in base else None
            found.append(resolved or f"?{base}")
        return found

    def mro(self, key: str) -> list[str]:
        """Python's C3 linearisation over the resolved bases."""
        if key in self._mros:
            return self._mros[key]
        self._mros[key] = [key]  # a cycle would be a bug in transformers; do not recurse forever
        bases = self.bases(key)
        sequences = [list(self.mro(base)) for base in bases] + [list(bases)]
        result = [key]
        while any(sequences):
            for sequence in sequences:
                if sequence and not any(sequence[0] in s[1:] for s in sequences):
                    head = sequence[0]
                    break
            else:
                raise ValueError(f"inconsistent class hierarchy for {key}")
            result.append(head)
            sequences = [s[1:] if s and s[0] == head else s for s in sequences]
        self._mros[key] = result
        return result

    def attribute(self, key: str, name: str) -> str | None:
        for ancestor in self.mro(key):
            cls = self.cls(ancestor)
            if cls is None:
                continue
            values = [value for attribute, value in cls.attributes if attribute == name]
            if values:
                return values[-1]
        return None

    def holdings(self, key: str) -> dict[str, str]:
        """field -> the key (or bare name, if unresolved) of what `__init__` builds in it."""
        chain: list[tuple[str, _Class]] = []
        for ancestor in self.mro(key):
            cls = self.cls(ancestor)
            if cls is None or cls.init is None:
                continue
            chain.append((ancestor, cls))
            if not cls.init_calls_super:
                break
        fields: dict[str, str] = {}
        # Parents' `__init__` runs first (through super()), so a subclass's assignment wins.
        for ancestor, cls in reversed(chain):
            module = ancestor.rpartition(".")[0]
            for holding in cls.holdings:
                fields[holding.field] = (
                    self.resolve(module, holding.layer) or holding.layer
                )
        return fields

    def is_model(self, key: str) -> bool:
        return _TF_PRETRAINED_MODEL in self.mro(key)

    def pretrained_class(self, key: str) -> str | None:
        for ancestor in self.mro(key)[1:]:
            name = ancestor.rpartition(".")[2]
            if not ancestor.startswith("?") and _FAMILY.search(name):
                return name
        return None

    def built(self, key: str) -> set[str]:
        """The classes (resolved keys) `key`'s `__init__` builds in its fields."""
        return {target for target in self.holdings(key).values() if "." in target}

    def base_model(self, key: str) -> str | None:
        """The bare model class of `key`'s architecture (see registry.ModelClass)."""
        if key not in self._base_models:
            self._base_models[key] = None  # guards against a holding cycle
            self._base_models[key] = self._find_base_model(key)
        return self._base_models[key]

    def _find_base_model(self, key: str) -> str | None:
        name = key.rpartition(".")[2]
        prefix = self.attribute(key, "base_model_prefix") or ""
        held = self.holdings(key).get(prefix) if prefix else None
        if held in self.layers:
            model_class = self.layers[held]["model_class"]
            return str(model_class) if model_class else None
        if held is not None and self.is_model(held):
            return self.base_model(held)
        kind = self.kind(key)
        if kind == "base":
            return name
        config = self.attribute(key, "config_class")
        model_type = self.config_types.get(config.rpartition(".")[2]) if config else None
        candidates = self.base_models.get(model_type, []) if model_type else []
        for candidate in candidates:
            keys = self.by_name.get(candidate, [])
            if len(keys) != 1:
                continue
            # The auto base model of the config counts only when it is built the same way
            # (holds a layer this class holds: T5, MT5, Idefics, Funnel's two bases) or, for a
            # family base, derives from it. DPR's encoders share DPRConfig, not their layers.
            if self.built(keys[0]) & self.built(key) or (
                kind == "family" and self.pretrained_class(keys[0]) == name
            ):
                return candidate
        if kind == "family":
            # Families the auto mapping does not name (Rag, BlipText, DPR's context encoder):
            # the one base model deriving from them.
            members = [
                k.rpartition(".")[2]
                for keys in self.by_name.values()
                for k in keys
                if self.is_model(k)
                and self.kind(k) == "base"
                and self.pretrained_class(k) == name
            ]
            if len(members) == 1:
                return members[0]
        return None

    def entries(self, exported: frozenset[str]) -> list[dict[str, Any]]:
        keys = [key for keys in self.by_name.values() for key in keys if self.is_model(key)]
        entries: list[dict[str, Any]] = []
        seen: dict[str, str] = {}
        for key in sorted(keys, key=lambda k: (k.rpartition(".")[2], k)):
            module, _, name = key.rpartition(".")
            if name in seen:
                raise ValueError(f"two TF model classes named {name}: {seen[name]}, {module}")
            seen[name] = module
            holdings = self.holdings(key)
            config = self.attribute(key, "config_class")
            entries.append(
                {
                    "name": name,
                    "module": module,
                    "kind": self.kind(key),
                    "exported": name in exported,
                    "config_class": config.rpartition(".")[2] if config else None,
                    "pretrained_class": self.pretrained_class(key),
                    "base_model_prefix": self.attribute(key, "base_model_prefix") or "",
                    "base_model_class": self.base_model(key),
                    "main_layers": [
                        {"field": field, "layer": target.rpartition(".")[2]}
                        for field, target in holdings.items()
                        if target in self.layers
                    ],
                    "submodels": [
                        {"field": field, "model": target.rpartition(".")[2]}
                        for field, target in holdings.items()
                        if target not in self.layers and "." in target and self.is_model(target)
                    ],
                }
            )
        return entries


# --- auto classes ----------------------------------------------------------------------------


def _string(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        if isinstance(value, str):
            return value
    raise ValueError(f"expected a string literal, got {cst.Module([]).code_for_node(node)!r}")


def _pairs(call: cst.Call) -> list[tuple[str, tuple[str, ...]]]:
    """The `(key, value)` pairs of `OrderedDict([("bert", "TFBertModel"), ...])`."""
    if len(call.args) != 1 or not isinstance(call.args[0].value, cst.List):
        raise ValueError("expected OrderedDict([...])")
    pairs: list[tuple[str, tuple[str, ...]]] = []
    for element in call.args[0].value.elements:
        pair = element.value
        if not isinstance(pair, cst.Tuple) or len(pair.elements) != 2:
            raise ValueError("expected a (key, value) tuple")
        key, value = (e.value for e in pair.elements)
        # Funnel maps one type to two classes: ("TFFunnelModel", "TFFunnelBaseModel").
        values = (
            tuple(_string(e.value) for e in value.elements)
            if isinstance(value, cst.Tuple)
            else (_string(value),)
        )
        pairs.append((_string(key), values))
    return pairs


def _top_level_assigns(module: cst.Module) -> Iterator[tuple[str, cst.BaseExpression]]:
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if (
                    isinstance(small, cst.Assign)
                    and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                ):
                    yield small.targets[0].target.value, small.value


_ORDERED_DICT = m.Call(
    func=m.Name("OrderedDict") | m.Subscript(value=m.Name("OrderedDict"))
)


def _config_names(root: Path) -> list[tuple[str, str]]:
    """`CONFIG_MAPPING_NAMES` of configuration_auto.py: (model type, config class), in order."""
    path = root / "models" / "auto" / "configuration_auto.py"
    for name, value in _top_level_assigns(cst.parse_module(path.read_text("utf-8"))):
        if name == "CONFIG_MAPPING_NAMES" and m.matches(value, _ORDERED_DICT):
            assert isinstance(value, cst.Call)
            pairs: list[tuple[str, str]] = []
            for model_type, configs in _pairs(value):
                if len(configs) != 1:
                    raise ValueError(f"{path}: {model_type} maps to {configs}")
                pairs.append((model_type, configs[0]))
            return pairs
    raise ValueError(f"no CONFIG_MAPPING_NAMES in {path}")


def _class_info_auto(node: cst.ClassDef) -> tuple[tuple[str, ...], str | None]:
    """(bases, the name assigned to `_model_mapping`) of an auto class."""
    bases = tuple(name for arg in node.bases if (name := _dotted(arg.value)))
    for statement in node.body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if m.matches(
                    small,
                    m.Assign(targets=[m.AssignTarget(target=m.Name("_model_mapping"))]),
                ):
                    assert isinstance(small, cst.Assign)
                    return bases, _dotted(small.value)
    return bases, None


def _auto_classes(root: Path, exported: frozenset[str]) -> list[dict[str, Any]]:
    """Each public `TFAuto*` class of modeling_tf_auto.py with its mapping's names."""
    path = root / "models" / "auto" / "modeling_tf_auto.py"
    module = cst.parse_module(path.read_text("utf-8"))
    names: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    lazy: dict[str, str] = {}
    for target, value in _top_level_assigns(module):
        if m.matches(value, _ORDERED_DICT):
            assert isinstance(value, cst.Call)
            names[target] = _pairs(value)
        elif m.matches(value, m.Call(func=m.Name("_LazyAutoMapping"))):
            assert isinstance(value, cst.Call)
            mapping_names = _dotted(value.args[1].value) if len(value.args) == 2 else None
            if mapping_names is not None:
                lazy[target] = mapping_names
    classes = {
        node.name.value: _class_info_auto(node)
        for node in module.body
        if isinstance(node, cst.ClassDef)
    }

    def mapping_of(name: str, depth: int = 0) -> str | None:
        bases, mapping = classes[name]
        if mapping is not None or depth > 10:
            return mapping
        for base in bases:
            if base in classes and (found := mapping_of(base, depth + 1)):
                return found
        return None

    entries: list[dict[str, Any]] = []
    for name in sorted(classes):
        mapping = mapping_of(name)
        if not name.startswith("TFAuto") or mapping is None:
            continue
        if mapping not in lazy or lazy[mapping] not in names:
            raise ValueError(f"{path}: cannot read the mapping {mapping} of {name}")
        entries.append(
            {
                "name": name,
                "module": _AUTO_MODULE,
                "exported": name in exported,
                "kind": _auto_kind(mapping),
                "mapping": mapping,
                "models": {
                    model_type: list(models) for model_type, models in names[lazy[mapping]]
                },
            }
        )
    return entries


# --- table -----------------------------------------------------------------------------------


def _version_literal(init: Path) -> str:
    match = re.search(
        r"^__version__\s*=\s*[\"']([^\"']+)[\"']", init.read_text("utf-8"), re.MULTILINE
    )
    if match is None:
        raise ValueError(f"no __version__ in {init}")
    return match.group(1)


def transformers_version(transformers_dir: Path) -> str:
    """The version of the transformers source tree at `transformers_dir`.

    The installed distribution's metadata when the tree is the installed one; otherwise (a
    checkout, an unpacked sdist) the `__version__` literal of its `__init__.py`.
    """
    try:
        dist = importlib.metadata.distribution("transformers")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        installed = Path(str(dist.locate_file("transformers")))
        if installed.is_dir() and installed.resolve() == transformers_dir.resolve():
            return dist.version
    return _version_literal(transformers_dir / "__init__.py")


def find_transformers_dir() -> Path | None:
    """The installed transformers package folder, located without importing it."""
    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _imports(module: cst.Module, module_name: str) -> dict[str, str]:
    """Local name -> the dotted name it was imported as, for every `from ... import`."""
    found: dict[str, str] = {}
    for node in m.findall(module, m.ImportFrom()):
        assert isinstance(node, cst.ImportFrom)
        if isinstance(node.names, cst.ImportStar):
            continue
        source = _dotted(node.module) if node.module is not None else None
        if node.relative:
            # `from ..t5.modeling_tf_t5 import X` in transformers.models.mt5.modeling_tf_mt5.
            parts = module_name.split(".")[: -len(node.relative)]
            source = ".".join([*parts, source] if source else parts)
        if source is None:
            continue
        for alias in node.names:
            imported = _dotted(alias.name)
            if imported is None:
                continue
            local = imported
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            found[local] = f"{source}.{imported}"
    return found


def _read_sources(
    root: Path, exported: frozenset[str]
) -> tuple[list[dict[str, Any]], dict[str, _Source]]:
    """Main-layer entries and the parsed classes of every `modeling_tf_*.py`, each parsed once."""
    entries: list[dict[str, Any]] = []
    sources: dict[str, _Source] = {}
    for path in sorted(root.rglob("modeling_tf_*.py")):
        text = path.read_text("utf-8")
        module = cst.parse_module(text)
        classes = {
            node.name.value: _class_info(node)
            for node in module.body
            if isinstance(node, cst.ClassDef)
        }
        name = _module_name(path, root)
        sources[name] = _Source(name, classes, _imports(module, name))
        # utils/dummy_tf_objects.py also defines `class TF*MainLayer` placeholders (before
        # 4.4x), and they hold no weights: only modeling_tf_*.py count, as here.
        if _MAIN_LAYER_DEF.search(text):
            entries.extend(_module_entries(path, root, exported, module, classes))
    entries.sort(key=lambda entry: str(entry["name"]))
    return entries, sources


def generate_tables(
    transformers_dir: Path | str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The main-layer table and the model table for the source tree at `transformers_dir`."""
    root = Path(transformers_dir)
    exported = exported_names(root)
    layers, sources = _read_sources(root, exported)
    version = transformers_version(root)
    configs = _config_names(root)
    autos = _auto_classes(root, exported)
    models = _ModelGraph(sources, layers, configs, autos).entries(exported)
    return (
        {"transformers_version": version, "main_layers": layers},
        {
            "transformers_version": version,
            "models": models,
            "auto_classes": autos,
            "configs": [list(pair) for pair in configs],
        },
    )


def render(table: dict[str, Any]) -> str:
    """The table as the exact text checked in: sorted keys, 2-space indent, final newline."""
    return json.dumps(table, indent=2, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with `--check`, verify) the registry tables; returns the exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a table is out of date"
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="main-layer table path"
    )
    parser.add_argument(
        "--models-output",
        type=Path,
        default=DEFAULT_MODELS_OUTPUT,
        help="model-class table path",
    )
    parser.add_argument(
        "--transformers-dir", type=Path, help="transformers package folder"
    )
    args = parser.parse_args(argv)

    transformers_dir = args.transformers_dir or find_transformers_dir()
    if transformers_dir is None:
        print("transformers is not installed; pass --transformers-dir", file=sys.stderr)
        return 2
    layers, models = generate_tables(transformers_dir)
    outputs: list[tuple[Path, str]] = [
        (args.output, render(layers)),
        (args.models_output, render(models)),
    ]
    if args.check:
        stale = [
            output
            for output, text in outputs
            if (output.read_text("utf-8") if output.is_file() else None) != text
        ]
        for output in stale:
            print(
                f"{output} is out of date; run scripts/generate_registry.py",
                file=sys.stderr,
            )
        return 1 if stale else 0
    for output, text in outputs:
        output.parent.mkdir(parents=True, exist_ok=True)
        # newline="\n" so the checked-in file is byte-identical on Windows too.
        with output.open("w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
