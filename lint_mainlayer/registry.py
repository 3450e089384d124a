"""The registry of transformers TF main layers and model classes, read from checked-in tables.

Both tables are generated from transformers' source by `scripts/generate_registry.py`;
nothing here imports transformers. `data/main_layers.json` holds the `TF*MainLayer` classes
(`load`, `lookup`); `data/models.json` every TF model class, the `TFAutoModel*` classes and the
config class of each model type (`lookup_model`, `lookup_auto`, `model_class_for`, ...). Each
table is read on its first lookup, once per process: importing this module reads neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from lint_mainlayer.records import record

_T = TypeVar("_T")

# The generated tables, shipped as package data beside this module.
_DATA = Path(__file__).resolve().parent / "data"


@record(frozen=True)
class Extra:
    """A constructor parameter of a main layer beyond `config`."""

    name: str
    # 1-based position among the call's positional arguments (config is 0), None if keyword-only.
    position: int | None
    required: bool
    default: str | None


@record(frozen=True)
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


class _Entries(Mapping[str, _T], Generic[_T]):
    """A table's entries by name, each built from its raw JSON on first access: a run looks
    up a handful of the ~70 main layers and ~360 model classes, and building them all cost
    ~5 ms of every run."""

    def __init__(self, raw: dict[str, dict[str, Any]], build: Callable[[dict[str, Any]], _T]) -> None:
        self._raw = raw
        self._build = build
        self._built: dict[str, _T] = {}

    def __getitem__(self, name: str) -> _T:
        entry = self._built.get(name)
        if entry is None:
            entry = self._built[name] = self._build(self._raw[name])
        return entry

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


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
def load() -> Mapping[str, MainLayer]:
    """All main layers by class name."""
    text = (_DATA / "main_layers.json").read_text("utf-8")
    raw = json.loads(text)
    return _Entries({entry["name"]: entry for entry in raw["main_layers"]}, _entry)


@lru_cache(maxsize=1)
def generated_from() -> str:
    """The transformers version the table was generated from."""
    text = (_DATA / "main_layers.json").read_text("utf-8")
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


# --- model classes and auto classes (data/models.json) ----------------------------------------

ModelKind = Literal["family", "base", "pretraining", "task"]
"""What a TF model class is, from its name:

- `family`: a `PreTrainedModel` base (`TFBertPreTrainedModel`, `TFBartPretrainedModel`,
  `TFDPRPretrainedReader`, `TFPreTrainedModel` itself);
- `base`: a bare model (`TFBertModel`, `TFT5EncoderModel`, `TFCLIPTextModel`, `TFDPRQuestionEncoder`);
- `pretraining`: a head a pretraining checkpoint holds the weights of: `ForMaskedLM`, `ForCausalLM`,
  `LMHeadModel`, `WithLMHeadModel`, `DoubleHeadsModel`, `ForPreTraining`, `ForConditionalGeneration`,
  `ForMaskedImageModeling`, `ForVisionText2Text`, Rag's `ForGeneration`, and any class a
  pretraining or language-modelling auto class maps to (`TFMarianMTModel`, `TFEncoderDecoderModel`);
- `task`: any other head (`ForSequenceClassification`, `ForQuestionAnswering`, `TFDPRReader`...),
  whose weights a pretraining checkpoint does not have.
"""


@record(frozen=True)
class Holding:
    """A field a model class's `__init__` fills: `self.bert = TFBertMainLayer(...)` is
    `Holding("bert", "TFBertMainLayer")`. `cls` is a main layer (`load()[cls]`) in
    `ModelClass.main_layers`, a model class (`load_models()[cls]`) in `ModelClass.submodels`."""

    field: str
    cls: str


@record(frozen=True)
class ModelClass:
    """One TF model class: a `TFPreTrainedModel` subclass, or `TFPreTrainedModel` itself."""

    name: str
    module: str
    kind: ModelKind
    exported: bool  # `from transformers import <name>` works
    config_class: str | None  # `BertConfig`; None only for classes that set none
    pretrained_class: str | None  # nearest `*Pre[Tt]rained*` ancestor (the family base)
    base_model_prefix: str  # "" when the class inherits TFPreTrainedModel's
    # The bare model class of the architecture (`TFBertModel` for every Bert class): the model
    # class of the main layer held at `base_model_prefix`, the class itself for a base model,
    # else the config's `TFAutoModel` class when built alike. None when there is none (Blip's
    # heads, DPR's reader).
    base_model_class: str | None
    main_layers: tuple[Holding, ...]
    submodels: tuple[Holding, ...]

    @property
    def is_pretraining_head(self) -> bool:
        return self.kind == "pretraining"

    @property
    def is_task_head(self) -> bool:
        return self.kind == "task"

    @property
    def base_main_layer(self) -> Holding | None:
        """The main layer held at `base_model_prefix` (`bert` of TFBertForMaskedLM), if any."""
        for held in self.main_layers:
            if held.field == self.base_model_prefix:
                return held
        return None


@record(frozen=True)
class AutoClass:
    """One `TFAutoModel*` class and its mapping, model type -> model class names.

    A model type maps to more than one class only for Funnel (`TFFunnelModel`,
    `TFFunnelBaseModel`); transformers takes the first unless `config.architectures` names another.
    """

    name: str
    module: str
    exported: bool
    # `base` (TFAutoModel, TFAutoModelForTextEncoding), `pretraining` (ForMaskedLM, ForCausalLM,
    # ForSeq2SeqLM, ForPreTraining, WithLMHead, ForVision2Seq, ForSpeechSeq2Seq,
    # ForMaskedImageModeling) or `task`; every class it maps to is of that kind, except that
    # ForZeroShotImageClassification and ForMaskGeneration map to base models.
    kind: ModelKind
    mapping: str  # the transformers mapping's name, `TF_MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING`
    models: tuple[tuple[str, tuple[str, ...]], ...]  # (model type, class names), sorted by type

    @property
    def model_types(self) -> tuple[str, ...]:
        return tuple(model_type for model_type, _ in self.models)

    def classes_for(self, model_type: str) -> tuple[str, ...]:
        """The class names mapped for `model_type` (empty if the type has none here)."""
        for known, names in self.models:
            if known == model_type:
                return names
        return ()


class _ModelTable:
    # A plain class: it never leaves this module, and each dataclass costs import time.
    def __init__(
        self,
        models: Mapping[str, ModelClass],
        autos: Mapping[str, AutoClass],
        configs: tuple[tuple[str, str], ...],  # (model type, config class), in CONFIG_MAPPING_NAMES order
    ) -> None:
        self.models = models
        self.autos = autos
        self.configs = configs
        self.config_of = dict(configs)
        # transformers' _LazyAutoMapping reverses CONFIG_MAPPING_NAMES the same way: when two
        # types share a config class (gpt-sw3 and gpt2: GPT2Config), the later one wins.
        self.type_of = {config: model_type for model_type, config in configs}


def _model_entry(raw: dict[str, Any]) -> ModelClass:
    return ModelClass(
        name=raw["name"],
        module=raw["module"],
        kind=raw["kind"],
        exported=bool(raw["exported"]),
        config_class=raw.get("config_class"),
        pretrained_class=raw.get("pretrained_class"),
        base_model_prefix=raw.get("base_model_prefix", ""),
        base_model_class=raw.get("base_model_class"),
        main_layers=tuple(Holding(h["field"], h["layer"]) for h in raw.get("main_layers", ())),
        submodels=tuple(Holding(h["field"], h["model"]) for h in raw.get("submodels", ())),
    )


def _auto_entry(raw: dict[str, Any]) -> AutoClass:
    return AutoClass(
        name=raw["name"],
        module=raw["module"],
        exported=bool(raw["exported"]),
        kind=raw["kind"],
        mapping=raw["mapping"],
        models=tuple((t, tuple(names)) for t, names in sorted(raw["models"].items())),
    )


@lru_cache(maxsize=1)
def _model_table() -> _ModelTable:
    text = (_DATA / "models.json").read_text("utf-8")
    raw = json.loads(text)
    return _ModelTable(
        models=_Entries({entry["name"]: entry for entry in raw["models"]}, _model_entry),
        autos=_Entries({entry["name"]: entry for entry in raw["auto_classes"]}, _auto_entry),
        configs=tuple((t, c) for t, c in raw["configs"]),
    )


def load_models() -> Mapping[str, ModelClass]:
    """All TF model classes by class name."""
    return _model_table().models


def load_auto_classes() -> Mapping[str, AutoClass]:
    """All `TFAutoModel*` classes by class name."""
    return _model_table().autos


def _transformers_name(qualified_name: str) -> str | None:
    head, _, name = qualified_name.rpartition(".")
    if not is_transformers_module(head):
        return None
    return name


def lookup_model(qualified_name: str) -> ModelClass | None:
    """The TF model class a fully qualified name refers to (import paths as in `lookup`)."""
    name = _transformers_name(qualified_name)
    return load_models().get(name) if name else None


def lookup_auto(qualified_name: str) -> AutoClass | None:
    """The `TFAutoModel*` class a fully qualified name refers to (`transformers.TFAutoModel`,
    `transformers.models.auto.modeling_tf_auto.TFAutoModel`, ...)."""
    name = _transformers_name(qualified_name)
    return load_auto_classes().get(name) if name else None


def base_model(model: ModelClass) -> ModelClass | None:
    """The entry of `model.base_model_class`."""
    if model.base_model_class is None:
        return None
    return load_models().get(model.base_model_class)


def is_pretraining_head(model: ModelClass | str) -> bool:
    """Whether a model class (an entry or a qualified name) is a `pretraining` head: a class
    whose head weights a pretraining checkpoint holds (ForMaskedLM, LMHeadModel, ...)."""
    entry = lookup_model(model) if isinstance(model, str) else model
    return entry is not None and entry.kind == "pretraining"


def config_class_for(model_type: str) -> str | None:
    """The config class name of a model type: `bert` -> `BertConfig` (CONFIG_MAPPING_NAMES)."""
    return _model_table().config_of.get(model_type)


def model_type_for_config(config_class: str) -> str | None:
    """The model type transformers' auto classes give a config class name: `BertConfig` -> `bert`."""
    return _model_table().type_of.get(config_class)


def _auto(auto: AutoClass | str) -> AutoClass | None:
    return load_auto_classes().get(auto) if isinstance(auto, str) else auto


def model_class_for(auto: AutoClass | str, model_type: str) -> ModelClass | None:
    """The model class `auto` (an entry or a class name such as `TFAutoModelForMaskedLM`)
    builds for `model_type`; the first of several, as transformers picks by default."""
    entry = _auto(auto)
    names = entry.classes_for(model_type) if entry else ()
    return load_models().get(names[0]) if names else None


def model_class_for_config(auto: AutoClass | str, config_class: str) -> ModelClass | None:
    """The model class `auto` builds for a config class name, as `_LazyAutoMapping` resolves it:
    the config's model type, else any other type sharing that config class."""
    entry = _auto(auto)
    if entry is None:
        return None
    model_type = model_type_for_config(config_class)
    if model_type is None:
        return None
    candidates = [model_type] + [t for t, c in _model_table().configs if c == config_class]
    for candidate in candidates:
        if found := model_class_for(entry, candidate):
            return found
    return None
