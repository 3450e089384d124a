"""The checked-in main-layer table: its invariants, and that it matches transformers' source."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
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
