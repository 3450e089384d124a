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
        # The layer is named "bert": a literal scope of that name is the same scope.
        ("        with tf.name_scope('bert'):\n            self.bert.build(None)\n", False),
        ("        with tf.name_scope('encoder'):\n            self.bert.build(None)\n", True),
        ("        with tf.name_scope(self.bert.name):\n            pass\n", True),
    ],
    ids=["scoped", "guarded", "unscoped", "literal-scope-of-its-name", "literal-scope-of-another-name", "scope-without-build"],
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


@pytest.mark.parametrize(
    "folders, expected",
    [
        (["transformers-4.36.2.dist-info"], (4, 36)),
        (["transformers-4.57.6.dist-info", "transformers_stream-1.0.dist-info"], (4, 57)),
        (["transformers-4.30.0-py3.11.egg-info"], (4, 30)),
        (["transformers-5.0.0.dist-info"], None),
        (["tokenizers-0.22.2.dist-info"], None),
    ],
)
def test_default_target_is_the_installed_4x(
    folders: list[str], expected: tuple[int, int] | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in folders:
        (tmp_path / name).mkdir()
    monkeypatch.setattr("sys.path", [str(tmp_path / "missing"), str(tmp_path)])
    assert config.installed_transformers() == expected


def test_default_target_matches_importlib_metadata() -> None:
    from importlib import metadata

    try:
        version = metadata.version("transformers")
    except metadata.PackageNotFoundError:
        pytest.skip("transformers is not installed")
    major, minor = (int(x) for x in version.split(".")[:2])
    assert config.installed_transformers() == ((major, minor) if major == 4 else None)


HEAD_CLASS = (
    "import tensorflow as tf\n"
    "from transformers import TFBertMainLayer, TFBertPreTrainedModel\n"
    "class Head(TFBertPreTrainedModel):\n"
    "    def __init__(self, config, *inputs, **kwargs):\n"
    "        super().__init__(config, *inputs, **kwargs)\n"
    '        self.bert = TFBertMainLayer(config, name="bert")\n'
    "        self.dropout = tf.keras.layers.Dropout(0.1)\n"
    '        self.classifier = tf.keras.layers.Dense(2, name="classifier")\n'
    "    def call(self, input_ids=None, labels=None, training=False):\n"
)
# The `call` bodies of transformers 2.x/3.x heads, copied into many projects: a name bound
# again after (or before) the head's input is read. Known: the fix builds the classifier.
KNOWN_HEADS = {
    "rebound through dropout": (
        "        outputs = self.bert(input_ids, training=training)\n"
        "        pooled_output = outputs[1]\n"
        "        pooled_output = self.dropout(pooled_output, training=training)\n"
        "        return self.classifier(pooled_output)\n"
    ),
    "outputs rebound after the head": (
        "        outputs = self.bert(input_ids, training=training)\n"
        "        pooled_output = self.dropout(outputs[1], training=training)\n"
        "        logits = self.classifier(pooled_output)\n"
        "        outputs = (logits,) + outputs[2:]\n"
        "        if labels is not None:\n"
        "            outputs = (self.compute_loss(labels, logits),) + outputs\n"
        "        return outputs\n"
    ),
    "the head's result bound to the name it reads": (
        "        x = self.bert(input_ids)[0]\n"
        "        x = self.dropout(x, training=training)\n"
        "        x = self.classifier(x)\n"
        "        return x\n"
    ),
    "both branches from the main layer": (
        "        if training:\n"
        "            x = self.bert(input_ids, training=True)[0]\n"
        "        else:\n"
        "            x = self.bert(input_ids)[0]\n"
        "        x = self.dropout(x, training=training)\n"
        "        return self.classifier(x)\n"
    ),
}
# The width is not known: the fix leaves the classifier out and is unsafe.
UNKNOWN_HEADS = {
    "a branch binds something else": (
        "        x = self.bert(input_ids)[0]\n"
        "        if labels is not None:\n"
        "            x = tf.concat([x, labels], axis=-1)\n"
        "        return self.classifier(x)\n"
    ),
    "a later binding in a loop reaches the read": (
        "        x = self.bert(input_ids)[0]\n"
        "        for _ in range(2):\n"
        "            y = self.classifier(x)\n"
        "            x = tf.concat([x, y], axis=-1)\n"
        "        return y\n"
    ),
    "fed by its own earlier output": (
        "        x = self.bert(input_ids)[0]\n"
        "        x = self.classifier(x)\n"
        "        return self.classifier(x)\n"
    ),
    "fed by its own output in a loop": (
        "        x = self.bert(input_ids)[0]\n"
        "        for _ in range(2):\n"
        "            x = self.classifier(x)\n"
        "        return x\n"
    ),
    "unpacked with other values": (
        "        x, extra = self.bert(input_ids)[0], labels\n"
        "        return self.classifier(x)\n"
    ),
}


def _build_fix(call_body: str) -> tuple[str, str | None]:
    [finding] = [d for d in engine.lint_source(HEAD_CLASS + call_body) if d.code == "MLL004"]
    assert finding.fix is not None
    return finding.fix.replacement, finding.fix.unsafe_reason


@pytest.mark.parametrize("body", KNOWN_HEADS.values(), ids=KNOWN_HEADS.keys())
def test_head_fed_by_the_main_layer_is_built(body: str) -> None:
    replacement, unsafe = _build_fix(body)
    assert unsafe is None
    assert "self.classifier.build([None, None, self.config.hidden_size])" in replacement


@pytest.mark.parametrize("body", UNKNOWN_HEADS.values(), ids=UNKNOWN_HEADS.keys())
def test_head_of_unknown_width_makes_the_fix_unsafe(body: str) -> None:
    replacement, unsafe = _build_fix(body)
    assert unsafe is not None and "self.classifier" in unsafe
    assert "self.classifier.build" not in replacement


# A layer without weights between the main layer and the head: the head is as wide as the
# main layer only when that layer keeps the last dimension.
BETWEEN = {
    "GlobalMaxPool1D": True,
    "GlobalAveragePooling1D": True,
    "Activation('tanh')": True,
    "Flatten": False,
    "Lambda(lambda x: tf.concat([x, x], -1))": False,
    "Reshape((-1,))": False,
}


@pytest.mark.parametrize(("layer", "keeps_width"), BETWEEN.items(), ids=BETWEEN.keys())
def test_head_width_through_a_layer_without_weights(layer: str, keeps_width: bool) -> None:
    constructor = layer if "(" in layer else f"{layer}()"
    source = HEAD_CLASS.replace(
        "        self.dropout = tf.keras.layers.Dropout(0.1)\n",
        f"        self.between = tf.keras.layers.{constructor}\n",
    ) + "        return self.classifier(self.between(self.bert(input_ids)[0]))\n"
    [finding] = [d for d in engine.lint_source(source) if d.code == "MLL004"]
    assert finding.fix is not None
    built = "self.classifier.build([None, None, self.config.hidden_size])" in finding.fix.replacement
    assert built is keeps_width
    assert (finding.fix.unsafe_reason is None) is keeps_width
    # A layer without weights is never named as one to build by hand.
    assert "self.between" not in (finding.fix.unsafe_reason or "")
