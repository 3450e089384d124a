"""The checked-in main-layer table: its invariants, and that it matches transformers' source."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from lint_mainlayer import registry

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "lint_mainlayer" / "data" / "main_layers.json"
MODELS = ROOT / "lint_mainlayer" / "data" / "models.json"


def _load_generator() -> ModuleType:
    # scripts/ is not a package; registering the module first lets its dataclasses resolve.
    spec = importlib.util.spec_from_file_location(
        "generate_registry", ROOT / "scripts" / "generate_registry.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


generator = _load_generator()


@pytest.fixture(scope="module")
def installed() -> tuple[Path, str]:
    """The installed transformers 4.x source folder and version, found without importing it."""
    transformers_dir = generator.find_transformers_dir()
    if transformers_dir is None:
        pytest.skip("transformers is not installed")
    version = importlib.metadata.version("transformers")
    if not version.startswith("4."):
        pytest.skip(f"the table describes transformers 4.x; {version} is installed")
    return transformers_dir, version


@pytest.fixture(scope="module")
def generated_tables(installed: tuple[Path, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    transformers_dir, version = installed
    if version != registry.generated_from():
        pytest.skip(
            f"table was generated from transformers {registry.generated_from()}, {version} is installed; "
            "regenerate with scripts/generate_registry.py to compare"
        )
    tables: tuple[dict[str, Any], dict[str, Any]] = generator.generate_tables(transformers_dir)
    return tables


@pytest.fixture(scope="module")
def generated(generated_tables: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    return generated_tables[0]


@pytest.fixture(scope="module")
def generated_models(generated_tables: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    return generated_tables[1]


# --- against the installed source ------------------------------------------------------------


def test_table_matches_installed_transformers(generated: dict[str, Any]) -> None:
    assert json.loads(TABLE.read_text("utf-8")) == generated
    assert TABLE.read_text("utf-8") == generator.render(generated)


def test_model_table_matches_installed_transformers(generated_models: dict[str, Any]) -> None:
    assert json.loads(MODELS.read_text("utf-8")) == generated_models
    assert MODELS.read_text("utf-8") == generator.render(generated_models)


def test_check_mode_exit_codes(
    generated_tables: tuple[dict[str, Any], dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(generator, "generate_tables", lambda _dir: generated_tables)
    output = tmp_path / "main_layers.json"
    models = tmp_path / "models.json"
    paths = ["--output", str(output), "--models-output", str(models)]
    assert generator.main(["--check", *paths]) == 1

    assert generator.main(paths) == 0
    assert generator.main(["--check", *paths]) == 0

    output.write_text(output.read_text("utf-8").replace('"bert"', '"bort"'), "utf-8")
    assert generator.main(["--check", *paths]) == 1

    assert generator.main(paths) == 0
    models.write_text(models.read_text("utf-8").replace('"bert"', '"bort"'), "utf-8")
    assert generator.main(["--check", *paths]) == 1


# --- invariants of the checked-in table ------------------------------------------------------


def test_table_is_canonical_json() -> None:
    text = TABLE.read_text("utf-8")
    raw = json.loads(text)
    assert generator.render(raw) == text
    names = [entry["name"] for entry in raw["main_layers"]]
    assert names == sorted(names)


def test_counts() -> None:
    layers = registry.load()
    assert len(layers) == 67
    deprecated = {
        name for name, layer in layers.items() if ".models.deprecated." in layer.module
    }
    assert deprecated == {"TFTransfoXLMainLayer", "TFEfficientFormerMainLayer"}
    assert all(
        layer.module.startswith("transformers.models.") for layer in layers.values()
    )


def test_exported() -> None:
    # TFTransfoXLMainLayer counts: transformers scans models/deprecated/ for `__all__` too.
    exported = {name for name, layer in registry.load().items() if layer.exported}
    assert exported == {
        "TFAlbertMainLayer",
        "TFBertMainLayer",
        "TFDistilBertMainLayer",
        "TFGPT2MainLayer",
        "TFLayoutLMMainLayer",
        "TFLxmertMainLayer",
        "TFMPNetMainLayer",
        "TFMobileBertMainLayer",
        "TFOpenAIGPTMainLayer",
        "TFRobertaMainLayer",
        "TFRobertaPreLayerNormMainLayer",
        "TFTransfoXLMainLayer",
        "TFXLMMainLayer",
        "TFXLNetMainLayer",
    }


@pytest.mark.parametrize(
    ("name", "model_class", "fields"),
    [
        pytest.param("TFBertMainLayer", "TFBertModel", ("bert",), id="bert"),
        pytest.param(
            "TFDistilBertMainLayer",
            "TFDistilBertModel",
            ("distilbert",),
            id="distilbert",
        ),
        pytest.param("TFGPT2MainLayer", "TFGPT2Model", ("transformer",), id="gpt2"),
        pytest.param("TFBartMainLayer", "TFBartModel", ("model",), id="bart"),
        pytest.param(
            "TFCamembertMainLayer", "TFCamembertModel", ("roberta",), id="camembert"
        ),
        pytest.param(
            "TFDebertaV2MainLayer", "TFDebertaV2Model", ("deberta",), id="deberta-v2"
        ),
        pytest.param(
            "TFCLIPTextMainLayer", "TFCLIPTextModel", ("clip",), id="clip-text"
        ),
        pytest.param("TFCLIPMainLayer", "TFCLIPModel", ("clip",), id="clip"),
        pytest.param("TFT5MainLayer", "TFT5Model", ("encoder", "decoder"), id="t5"),
    ],
)
def test_fields(name: str, model_class: str, fields: tuple[str, ...]) -> None:
    layer = registry.load()[name]
    assert layer.model_class == model_class
    assert layer.fields == fields


def test_every_layer_has_a_base_model() -> None:
    for layer in registry.load().values():
        assert layer.model_class is not None, layer.name
        assert layer.pretrained_class is not None, layer.name
        assert layer.fields, layer.name
        assert layer.config_class.endswith("Config"), layer.name


def test_bart_pretrained_class_spelling() -> None:
    assert (
        registry.load()["TFBartMainLayer"].pretrained_class == "TFBartPretrainedModel"
    )


def test_extras() -> None:
    layers = registry.load()
    bert = layers["TFBertMainLayer"]
    assert bert.extras == (registry.Extra("add_pooling_layer", 1, False, "True"),)
    assert bert.extra_at(1) == bert.extras[0]
    assert layers["TFT5MainLayer"].extras == (
        registry.Extra("embed_tokens", 1, False, "None"),
    )
    assert layers["TFGPT2MainLayer"].extras == ()
    assert all(not layer.required_extras for layer in layers.values())


def test_add_pooling_layer_forwarded() -> None:
    # TFSwinModel accepts add_pooling_layer but never passes it to TFSwinMainLayer, so Swin is
    # absent: the base model always builds the pooler.
    forwarding = {
        name
        for name, layer in registry.load().items()
        if "add_pooling_layer" in layer.model_extras
    }
    assert forwarding == {
        "TFBertMainLayer",
        "TFConvNextMainLayer",
        "TFData2VecVisionMainLayer",
        "TFDeiTMainLayer",
        "TFEsmMainLayer",
        "TFViTMainLayer",
    }
    assert registry.load()["TFAlbertMainLayer"].model_extras == ()


@pytest.mark.parametrize(
    ("qualified_name", "expected"),
    [
        pytest.param("transformers.TFBertMainLayer", "TFBertMainLayer", id="top-level"),
        pytest.param(
            "transformers.models.bert.modeling_tf_bert.TFBertMainLayer",
            "TFBertMainLayer",
            id="defining-module",
        ),
        pytest.param(
            "transformers.modeling_tf_bert.TFBertMainLayer",
            "TFBertMainLayer",
            id="pre-4.0-module",
        ),
        pytest.param(
            "transformers.models.deprecated.transfo_xl.modeling_tf_transfo_xl.TFTransfoXLMainLayer",
            "TFTransfoXLMainLayer",
            id="deprecated-module",
        ),
        pytest.param("foo.TFBertMainLayer", None, id="other-package"),
        pytest.param("transformers_extra.TFBertMainLayer", None, id="prefix-lookalike"),
        pytest.param("TFBertMainLayer", None, id="unqualified"),
        pytest.param("transformers.TFBertModel", None, id="not-a-main-layer"),
    ],
)
def test_lookup(qualified_name: str, expected: str | None) -> None:
    found = registry.lookup(qualified_name)
    assert (found.name if found else None) == expected


# --- the export scan mirrors transformers' textual parser ------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param('__all__ = ["A", "B"]\n', ["A", "B"], id="one-line"),
        pytest.param(
            '__all__ = [\n    "A",\n    "B",\n]\n', ["A", "B"], id="multi-line"
        ),
        pytest.param('__all__ = ["A"]\n__all__ = ["B"]\n', ["B"], id="last-wins"),
        pytest.param('x = "__all__"\n', [], id="no-definition"),
    ],
)
def test_fetch_all(source: str, expected: list[str]) -> None:
    assert generator._fetch_all(source) == expected


def test_requires_exports() -> None:
    source = '@requires(backends=("tf",))\n# Copied from x\nclass A(B):\n    pass\n\nclass C:\n    pass\n'
    assert generator._requires_exports(source) == {"A"}


# --- the model table: invariants of the checked-in file ---------------------------------------


def test_model_table_is_canonical_json() -> None:
    text = MODELS.read_text("utf-8")
    raw = json.loads(text)
    assert generator.render(raw) == text
    assert raw["transformers_version"] == registry.generated_from()
    names = [entry["name"] for entry in raw["models"]]
    assert names == sorted(names) and len(set(names)) == len(names)
    autos = [entry["name"] for entry in raw["auto_classes"]]
    assert autos == sorted(autos)


def test_model_table_counts() -> None:
    models = registry.load_models()
    assert len(models) == 342
    assert {
        name for name, model in models.items() if not model.exported
    } == {"TFDPREncoder", "TFDPRSpanPredictor"}
    autos = registry.load_auto_classes()
    assert len(autos) == 22
    assert "_TFAutoModelWithLMHead" not in autos
    assert all(auto.exported for auto in autos.values())


def test_model_table_references_resolve() -> None:
    models = registry.load_models()
    layers = registry.load()
    for model in models.values():
        for name in (model.base_model_class, model.pretrained_class):
            assert name is None or name in models, (model.name, name)
        assert all(held.cls in layers for held in model.main_layers), model.name
        assert all(held.cls in models for held in model.submodels), model.name
    # Sub-configs of composite models have no model type of their own in CONFIG_MAPPING_NAMES.
    untyped = {
        model.config_class
        for model in models.values()
        if model.config_class and registry.model_type_for_config(model.config_class) is None
    }
    assert untyped == {"BlipTextConfig", "BlipVisionConfig", "GroupViTTextConfig", "GroupViTVisionConfig"}
    for auto in registry.load_auto_classes().values():
        assert auto.models, auto.name
        for model_type, names in auto.models:
            assert registry.config_class_for(model_type), (auto.name, model_type)
            assert names and all(name in models for name in names), (auto.name, model_type)


def test_model_table_agrees_with_main_layer_table() -> None:
    # Two views of the same source: each main layer's base model holds it in its fields.
    models = registry.load_models()
    for layer in registry.load().values():
        assert layer.model_class is not None
        model = models[layer.model_class]
        held = tuple(h.field for h in model.main_layers if h.cls == layer.name)
        assert held == layer.fields, layer.name
        assert model.pretrained_class == layer.pretrained_class, layer.name
        assert model.kind == "base" and model.base_model_class == model.name, layer.name


def test_kinds_agree_with_auto_classes() -> None:
    # Kinds come from class names (and pretraining mappings); the task and base mappings are an
    # independent check. Zero-shot image classification and mask generation use base models.
    models = registry.load_models()
    for auto in registry.load_auto_classes().values():
        expected = auto.kind
        if auto.name in (
            "TFAutoModelForZeroShotImageClassification",
            "TFAutoModelForMaskGeneration",
        ):
            expected = "base"
        for model_type, names in auto.models:
            for name in names:
                assert models[name].kind == expected, (auto.name, model_type, name)


def test_every_head_has_a_base_model_but_the_known_few() -> None:
    # Blip's heads hold separate vision and text models, DPR's reader a span predictor,
    # Segformer's decode head no encoder; encoder-decoder composites build theirs from configs.
    missing = {
        name
        for name, model in registry.load_models().items()
        if model.base_model_class is None
    }
    assert missing == {
        "TFBlipForConditionalGeneration",
        "TFBlipForImageTextRetrieval",
        "TFBlipForQuestionAnswering",
        "TFDPRPretrainedReader",
        "TFDPRReader",
        "TFDPRSpanPredictor",
        "TFEncoderDecoderModel",
        "TFPreTrainedModel",
        "TFSegformerDecodeHead",
        "TFVisionEncoderDecoderModel",
    }
    for model in registry.load_models().values():
        base = registry.base_model(model)
        if base is not None:
            assert base.kind == "base", model.name
            assert base.config_class == model.config_class, model.name


# --- the model table: lookup API ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "prefix", "base", "family", "main_layers"),
    [
        pytest.param(
            "TFBertForSequenceClassification", "task", "bert", "TFBertModel",
            "TFBertPreTrainedModel", (("bert", "TFBertMainLayer"),), id="bert-task",
        ),
        pytest.param(
            "TFBertForPreTraining", "pretraining", "bert", "TFBertModel",
            "TFBertPreTrainedModel", (("bert", "TFBertMainLayer"),), id="bert-pretraining",
        ),
        pytest.param(
            "TFBertModel", "base", "bert", "TFBertModel",
            "TFBertPreTrainedModel", (("bert", "TFBertMainLayer"),), id="bert-base",
        ),
        pytest.param(
            "TFBertPreTrainedModel", "family", "bert", "TFBertModel",
            "TFPreTrainedModel", (), id="bert-family",
        ),
        pytest.param(
            "TFDistilBertForMaskedLM", "pretraining", "distilbert", "TFDistilBertModel",
            "TFDistilBertPreTrainedModel", (("distilbert", "TFDistilBertMainLayer"),), id="distilbert",
        ),
        pytest.param(
            "TFGPT2LMHeadModel", "pretraining", "transformer", "TFGPT2Model",
            "TFGPT2PreTrainedModel", (("transformer", "TFGPT2MainLayer"),), id="gpt2-lm",
        ),
        pytest.param(
            "TFGPT2DoubleHeadsModel", "pretraining", "transformer", "TFGPT2Model",
            "TFGPT2PreTrainedModel", (("transformer", "TFGPT2MainLayer"),), id="gpt2-double-heads",
        ),
        pytest.param(
            "TFBartForConditionalGeneration", "pretraining", "model", "TFBartModel",
            "TFBartPretrainedModel", (("model", "TFBartMainLayer"),), id="bart",
        ),
        pytest.param(
            "TFT5ForConditionalGeneration", "pretraining", "transformer", "TFT5Model",
            "TFT5PreTrainedModel",
            (("encoder", "TFT5MainLayer"), ("decoder", "TFT5MainLayer")), id="t5",
        ),
        pytest.param(
            "TFT5EncoderModel", "base", "transformer", "TFT5EncoderModel",
            "TFT5PreTrainedModel", (("encoder", "TFT5MainLayer"),), id="t5-encoder",
        ),
        pytest.param(
            "TFMT5ForConditionalGeneration", "pretraining", "transformer", "TFMT5Model",
            "TFT5PreTrainedModel",
            (("encoder", "TFT5MainLayer"), ("decoder", "TFT5MainLayer")), id="mt5-inherits-t5",
        ),
        pytest.param(
            "TFRobertaForTokenClassification", "task", "roberta", "TFRobertaModel",
            "TFRobertaPreTrainedModel", (("roberta", "TFRobertaMainLayer"),), id="roberta",
        ),
        pytest.param(
            "TFCamembertForCausalLM", "pretraining", "roberta", "TFCamembertModel",
            "TFCamembertPreTrainedModel", (("roberta", "TFCamembertMainLayer"),), id="camembert",
        ),
        pytest.param(
            "TFViTForImageClassification", "task", "vit", "TFViTModel",
            "TFViTPreTrainedModel", (("vit", "TFViTMainLayer"),), id="vit",
        ),
        pytest.param(
            "TFMarianMTModel", "pretraining", "model", "TFMarianModel",
            "TFMarianPreTrainedModel", (("model", "TFMarianMainLayer"),), id="marian-by-mapping",
        ),
        pytest.param(
            "TFFunnelForSequenceClassification", "task", "funnel", "TFFunnelBaseModel",
            "TFFunnelPreTrainedModel", (), id="funnel-base-layer",
        ),
        pytest.param(
            "TFIdeficsForVisionText2Text", "pretraining", "", "TFIdeficsModel",
            "TFPreTrainedModel", (("model", "TFIdeficsMainLayer"),), id="idefics",
        ),
        pytest.param(
            "TFLongformerModel", "base", "longformer", "TFLongformerModel",
            "TFLongformerPreTrainedModel", (("longformer", "TFLongformerMainLayer"),),
            id="former-is-not-for",
        ),
    ],
)
def test_lookup_model(
    name: str,
    kind: str,
    prefix: str,
    base: str,
    family: str,
    main_layers: tuple[tuple[str, str], ...],
) -> None:
    model = registry.lookup_model(f"transformers.{name}")
    assert model is not None
    assert (model.name, model.kind, model.base_model_prefix) == (name, kind, prefix)
    assert (model.base_model_class, model.pretrained_class) == (base, family)
    assert tuple((h.field, h.cls) for h in model.main_layers) == main_layers
    assert registry.lookup_model(f"{model.module}.{name}") == model
    assert registry.is_pretraining_head(model) == (kind == "pretraining")
    assert registry.is_pretraining_head(f"transformers.{name}") == (kind == "pretraining")
    assert model.is_task_head == (kind == "task")


def test_base_main_layer_and_submodels() -> None:
    bert = registry.lookup_model("transformers.TFBertForMaskedLM")
    assert bert is not None
    assert bert.base_main_layer == registry.Holding("bert", "TFBertMainLayer")
    assert registry.load()[bert.base_main_layer.cls].model_class == "TFBertModel"
    t5 = registry.lookup_model("transformers.TFT5Model")
    assert t5 is not None and t5.base_main_layer is None  # its prefix is `transformer`
    rag = registry.lookup_model("transformers.TFRagTokenForGeneration")
    assert rag is not None
    assert rag.submodels == (registry.Holding("rag", "TFRagModel"),)
    assert rag.base_model_class == "TFRagModel"
    blip = registry.lookup_model("transformers.TFBlipTextLMHeadModel")
    assert blip is not None and blip.submodels == (registry.Holding("bert", "TFBlipTextModel"),)
    assert blip.base_model_class == "TFBlipTextModel"


@pytest.mark.parametrize(
    "qualified_name",
    [
        pytest.param("foo.TFBertModel", id="other-package"),
        pytest.param("TFBertModel", id="unqualified"),
        pytest.param("transformers.TFBertMainLayer", id="main-layer"),
        pytest.param("transformers.BertModel", id="pytorch"),
        pytest.param("transformers.TFAutoModel", id="auto-class"),
    ],
)
def test_lookup_model_rejects(qualified_name: str) -> None:
    assert registry.lookup_model(qualified_name) is None
    assert not registry.is_pretraining_head(qualified_name)


@pytest.mark.parametrize(
    ("auto", "model_type", "expected"),
    [
        pytest.param("TFAutoModel", "bert", "TFBertModel", id="base-bert"),
        pytest.param("TFAutoModel", "gpt-sw3", "TFGPT2Model", id="base-gpt-sw3"),
        pytest.param("TFAutoModel", "funnel", "TFFunnelModel", id="funnel-first-of-two"),
        pytest.param(
            "TFAutoModelForSequenceClassification", "distilbert",
            "TFDistilBertForSequenceClassification", id="seq-cls",
        ),
        pytest.param("TFAutoModelForMaskedLM", "camembert", "TFCamembertForMaskedLM", id="mlm"),
        pytest.param("TFAutoModelForCausalLM", "gpt2", "TFGPT2LMHeadModel", id="clm"),
        pytest.param("TFAutoModelForSeq2SeqLM", "t5", "TFT5ForConditionalGeneration", id="s2s"),
        pytest.param("TFAutoModelForSeq2SeqLM", "bart", "TFBartForConditionalGeneration", id="bart"),
        pytest.param("TFAutoModelForPreTraining", "roberta", "TFRobertaForMaskedLM", id="pretraining"),
        pytest.param("TFAutoModelWithLMHead", "marian", "TFMarianMTModel", id="with-lm-head"),
        pytest.param("TFAutoModelForImageClassification", "vit", "TFViTForImageClassification", id="vit"),
        pytest.param("TFAutoModelForCausalLM", "t5", None, id="no-such-head"),
        pytest.param("TFAutoModel", "llama", None, id="no-tf-model"),
        pytest.param("TFAutoModel", "no-such-type", None, id="unknown-type"),
        pytest.param("TFAutoModelForNothing", "bert", None, id="unknown-auto"),
    ],
)
def test_model_class_for(auto: str, model_type: str, expected: str | None) -> None:
    found = registry.model_class_for(auto, model_type)
    assert (found.name if found else None) == expected
    entry = registry.lookup_auto(f"transformers.{auto}")
    if entry is not None:
        by_entry = registry.model_class_for(entry, model_type)
        assert (by_entry.name if by_entry else None) == expected


def test_lookup_auto() -> None:
    auto = registry.lookup_auto("transformers.TFAutoModelForSequenceClassification")
    assert auto is not None
    assert auto == registry.lookup_auto(
        "transformers.models.auto.modeling_tf_auto.TFAutoModelForSequenceClassification"
    )
    assert auto.mapping == "TF_MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING"
    assert auto.kind == "task"
    assert auto.classes_for("bert") == ("TFBertForSequenceClassification",)
    assert auto.classes_for("llama") == ()
    assert "bert" in auto.model_types
    assert registry.lookup_auto("transformers.AutoModel") is None  # PyTorch
    assert registry.lookup_auto("foo.TFAutoModel") is None
    assert registry.lookup_auto("transformers.TFBertModel") is None
    kinds = {a.name: a.kind for a in registry.load_auto_classes().values()}
    assert kinds["TFAutoModel"] == "base"
    assert kinds["TFAutoModelForMaskedLM"] == "pretraining"
    assert kinds["TFAutoModelWithLMHead"] == "pretraining"
    assert registry.lookup_auto("transformers.TFAutoModelForTextEncoding") is not None
    assert registry.load_auto_classes()["TFAutoModel"].classes_for("funnel") == (
        "TFFunnelModel",
        "TFFunnelBaseModel",
    )


@pytest.mark.parametrize(
    ("config_class", "model_type"),
    [
        pytest.param("BertConfig", "bert", id="bert"),
        pytest.param("DistilBertConfig", "distilbert", id="distilbert"),
        pytest.param("GPT2Config", "gpt2", id="shared-config-last-type-wins"),
        pytest.param("T5Config", "t5", id="t5"),
        pytest.param("ViTConfig", "vit", id="vit"),
        pytest.param("CamembertConfig", "camembert", id="camembert"),
        pytest.param("TFBertModel", None, id="not-a-config"),
    ],
)
def test_model_type_for_config(config_class: str, model_type: str | None) -> None:
    assert registry.model_type_for_config(config_class) == model_type
    if model_type is not None:
        assert registry.config_class_for(model_type) == config_class


def test_model_class_for_config() -> None:
    auto = "TFAutoModelForSequenceClassification"
    found = registry.model_class_for_config(auto, "BertConfig")
    assert found is not None and found.name == "TFBertForSequenceClassification"
    # gpt-sw3 and gpt2 share GPT2Config: it resolves through gpt2, as transformers does.
    gpt = registry.model_class_for_config("TFAutoModel", "GPT2Config")
    assert gpt is not None and gpt.name == "TFGPT2Model"
    assert registry.config_class_for("gpt-sw3") == "GPT2Config"
    assert registry.model_class_for_config(auto, "LlamaConfig") is None
    assert registry.model_class_for_config(auto, "NoSuchConfig") is None


# --- the model table against the live classes (needs TensorFlow) -------------------------------


@pytest.fixture(scope="module")
def live() -> ModuleType:
    """transformers with its TF classes importable, at the version the tables describe."""
    # As in tests/runtime/conftest.py: TF classes need Keras 2, and CI must not skip.
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in ("tensorflow", "tf_keras", "transformers"):
        if os.environ.get("LML_REQUIRE_RUNTIME") == "1":
            importlib.import_module(name)
        else:
            pytest.importorskip(name, reason=f"comparing with the live classes needs {name}")
    transformers = importlib.import_module("transformers")
    if transformers.__version__ != registry.generated_from():
        pytest.skip(f"tables describe transformers {registry.generated_from()}, not {transformers.__version__}")
    return transformers


@pytest.fixture(scope="module")
def live_models(live: ModuleType) -> dict[str, type]:
    base = live.TFPreTrainedModel
    found: dict[str, type] = {}
    for name in dir(live):
        if name.startswith("TF"):
            obj = getattr(live, name)
            if isinstance(obj, type) and issubclass(obj, base):
                found[name] = obj
    return found


@pytest.mark.runtime
def test_every_live_tf_model_class_is_in_the_table(live_models: dict[str, type]) -> None:
    models = registry.load_models()
    assert len(live_models) > 300
    assert {name for name, model in models.items() if model.exported} == set(live_models)
    for name, cls in live_models.items():
        model = registry.lookup_model(f"transformers.{name}")
        assert model is not None, name
        assert model.module == cls.__module__, name
        assert model.base_model_prefix == cls.base_model_prefix, name
        config = cls.config_class  # type: ignore[attr-defined]
        assert model.config_class == (config.__name__ if config else None), name
        family = next(
            (b.__name__ for b in cls.__mro__[1:] if re.search("Pre[Tt]rained", b.__name__)), None
        )
        assert model.pretrained_class == family, name
        if model.base_model_class is not None:
            base = live_models[model.base_model_class]
            assert base.config_class is config, name  # type: ignore[attr-defined]


@pytest.mark.runtime
def test_base_models_agree_with_tf_model_mapping(live: ModuleType, live_models: dict[str, type]) -> None:
    # Where TF_MODEL_MAPPING knows the config and its base model is of the same family,
    # the table's base model is one transformers would build for that config.
    from transformers.models.auto import modeling_tf_auto

    mapping = modeling_tf_auto.TF_MODEL_MAPPING
    checked = 0
    for name, cls in live_models.items():
        model = registry.load_models()[name]
        config = cls.config_class  # type: ignore[attr-defined]
        if model.kind == "family" or model.base_model_class is None or config not in mapping:
            continue  # the classes without a base model are pinned in another test
        bases = mapping[config]
        bases = bases if isinstance(bases, tuple) else (bases,)
        if registry.load_models()[bases[0].__name__].pretrained_class != model.pretrained_class:
            continue
        if model.kind == "base" and name not in {b.__name__ for b in bases}:
            continue  # TFT5EncoderModel, TFCLIPTextModel...: bare models of their own
        assert model.base_model_class in {b.__name__ for b in bases}, name
        checked += 1
    assert checked > 200  # most classes: the loop must not skip its way to a pass


@pytest.mark.runtime
def test_auto_mappings_match_live(live: ModuleType) -> None:
    from transformers.models.auto import modeling_tf_auto

    autos = registry.load_auto_classes()
    live_autos = {
        name: getattr(modeling_tf_auto, name)
        for name in dir(modeling_tf_auto)
        if name.startswith("TFAutoModel")
    }
    assert set(live_autos) == set(autos)
    for name, cls in live_autos.items():
        lazy = cls._model_mapping
        expected = {
            model_type: names if isinstance(names, tuple) else (names,)
            for model_type, names in lazy._model_mapping.items()
        }
        assert dict(autos[name].models) == expected, name
        assert getattr(modeling_tf_auto, autos[name].mapping) is lazy, name
        # The lookup by config class resolves as transformers' own lookup does.
        for config_cls in lazy.keys():
            target = lazy[config_cls]
            first = target[0] if isinstance(target, tuple) else target
            found = registry.model_class_for_config(name, config_cls.__name__)
            assert found is not None and found.name == first.__name__, (name, config_cls)
    configs = live.models.auto.configuration_auto.CONFIG_MAPPING_NAMES
    assert all(registry.config_class_for(t) == c for t, c in configs.items())
    reverse = modeling_tf_auto.TF_MODEL_MAPPING._reverse_config_mapping
    assert all(registry.model_type_for_config(c) == t for c, t in reverse.items())


# Tiny configs: constructing a model builds no weights, but small sizes keep it cheap anyway.
_BERT_LIKE = {
    "vocab_size": 99,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 37,
}
_TINY_CONFIGS: dict[str, dict[str, Any]] = {
    "BertConfig": _BERT_LIKE,
    "RobertaConfig": _BERT_LIKE,
    "CamembertConfig": _BERT_LIKE,
    "DistilBertConfig": {"vocab_size": 99, "dim": 32, "n_layers": 2, "n_heads": 2, "hidden_dim": 37},
    "GPT2Config": {"vocab_size": 99, "n_embd": 32, "n_layer": 2, "n_head": 2, "n_positions": 64},
    "BartConfig": {
        "vocab_size": 99,
        "d_model": 32,
        "encoder_layers": 1,
        "decoder_layers": 1,
        "encoder_attention_heads": 2,
        "decoder_attention_heads": 2,
        "encoder_ffn_dim": 37,
        "decoder_ffn_dim": 37,
    },
    "T5Config": {"vocab_size": 99, "d_model": 32, "d_kv": 8, "d_ff": 37, "num_layers": 1, "num_heads": 2},
    "ViTConfig": {**_BERT_LIKE, "image_size": 32, "patch_size": 8},
}


@pytest.mark.runtime
@pytest.mark.parametrize("config_name", sorted(_TINY_CONFIGS))
def test_held_layers_match_constructed_models(
    live: ModuleType, live_models: dict[str, type], config_name: str
) -> None:
    """Every class of the architecture, constructed: its fields hold the layers the table says."""
    config = getattr(live, config_name)(**_TINY_CONFIGS[config_name])
    entries = [
        m for m in registry.load_models().values()
        if m.config_class == config_name and m.kind != "family" and m.name in live_models
    ]
    assert len(entries) >= 2
    for model in entries:
        instance = live_models[model.name](config)
        held = {
            field: type(value).__name__
            for field, value in vars(instance).items()
            if type(value).__name__.endswith("MainLayer")
        }
        assert held == {h.field: h.cls for h in model.main_layers}, model.name
        if model.base_main_layer is not None:
            base_layer = getattr(instance, model.base_model_prefix)
            assert registry.load()[type(base_layer).__name__].model_class == model.base_model_class


def test_model_table_is_read_on_first_lookup_only() -> None:
    # The lint path imports this module and looks up main layers: neither reads models.json.
    script = (
        "from lint_mainlayer import registry\n"
        "registry.lookup('transformers.TFBertMainLayer')\n"
        "print(registry._model_table.cache_info().currsize)\n"
        "registry.lookup_model('transformers.TFBertModel')\n"
        "registry.lookup_auto('transformers.TFAutoModel')\n"
        "print(registry._model_table.cache_info().misses)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "1"]
