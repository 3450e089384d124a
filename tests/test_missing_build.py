"""MLL004 depends on the target transformers version, and recognises real build() methods."""

from __future__ import annotations

from pathlib import Path

import pytest

from lint_mainlayer import config, engine
from lint_mainlayer.cli import main
from lint_mainlayer.types import Settings

SUBCLASS = (
    "import tensorflow as tf\n"
    "from transformers import TFBertMainLayer, TFBertPreTrainedModel\n"
    "class Enc(TFBertPreTrainedModel):\n"
    "    def __init__(self, config, *inputs, **kwargs):\n"
    "        super().__init__(config, *inputs, **kwargs)\n"
    '        self.bert = TFBertMainLayer(config, name="bert")\n'
)


def codes(source: str, target: tuple[int, int] | None) -> list[str]:
    return [d.code for d in engine.lint_source(source, Settings(target_transformers=target))]


@pytest.mark.parametrize(
    "target, flagged",
    [((4, 30), False), ((4, 36), False), ((4, 37), True), ((4, 57), True), (None, True)],
    ids=["4.30", "4.36", "4.37", "4.57", "newest"],
)
def test_only_from_4_37(target: tuple[int, int] | None, flagged: bool) -> None:
    assert codes(SUBCLASS, target) == (["MLL004"] if flagged else [])


@pytest.mark.parametrize(
    "build, flagged",
    [
        ("        with tf.name_scope(self.bert.name):\n            self.bert.build(None)\n", False),
        ("        if getattr(self, 'bert', None) is not None:\n            with tf.name_scope(self.bert.name):\n                self.bert.build(None)\n", False),
        ("        self.bert.build(None)\n", True),
        ("        with tf.name_scope('bert'):\n            self.bert.build(None)\n", True),
        ("        with tf.name_scope(self.bert.name):\n            pass\n", True),
    ],
    ids=["scoped", "guarded", "unscoped", "literal-scope", "scope-without-build"],
)
def test_build_must_build_the_layer_in_its_name_scope(build: str, flagged: bool) -> None:
    source = SUBCLASS + "    def build(self, input_shape=None):\n" + build
    assert codes(source, None) == (["MLL004"] if flagged else [])


def test_build_inherited_from_a_local_base_counts() -> None:
    source = SUBCLASS + (
        "    def build(self, input_shape=None):\n"
        "        with tf.name_scope(self.bert.name):\n"
        "            self.bert.build(None)\n"
        "class Child(Enc):\n"
        "    def __init__(self, config):\n"
        "        super().__init__(config)\n"
        '        self.bert = TFBertMainLayer(config, name="bert")\n'
    )
    assert codes(source, None) == []


def test_keras_model_subclass_is_not_checked() -> None:
    source = SUBCLASS.replace("TFBertPreTrainedModel)", "tf.keras.Model)").replace(
        ", TFBertPreTrainedModel", ""
    )
    assert "MLL004" not in codes(source, None)


def test_target_from_option_and_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "enc.py").write_text(SUBCLASS)
    assert main(["--target-transformers", "4.36", "enc.py"]) == 0
    assert main(["--target-transformers", "4.37.0", "enc.py"]) == 1
    (tmp_path / "pyproject.toml").write_text('[tool.lint-mainlayer]\ntarget-transformers = "4.31"\n')
    config.for_directory.cache_clear()
    assert main(["enc.py"]) == 0
    assert main(["--target-transformers", "banana", "enc.py"]) == 2
    capsys.readouterr()


def test_default_target_is_the_installed_4x(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config.metadata, "version", lambda name: "4.36.2")
    assert config.installed_transformers() == (4, 36)
    monkeypatch.setattr(config.metadata, "version", lambda name: "5.0.0")
    assert config.installed_transformers() is None

    def missing(name: str) -> str:
        raise config.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(config.metadata, "version", missing)
    assert config.installed_transformers() is None
