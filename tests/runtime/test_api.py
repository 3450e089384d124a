"""`check()` and `assert_pretrained()` on live layers, in this process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from runtime_support import INPUT_IDS, REPO, TINY, reference_model, subprocess_env

pytestmark = pytest.mark.runtime


def _config(arch: str, checkpoint: Path) -> Any:
    import transformers

    return getattr(transformers, TINY[arch][0]).from_pretrained(str(checkpoint))


def _fresh_layer(arch: str, checkpoint: Path) -> Any:
    """A main layer built from the checkpoint's config (the bug), called once to build it."""
    import tensorflow as tf

    from lint_mainlayer.runtime.weights import main_layer_entry

    model = reference_model(arch, checkpoint)
    layer_class = type(getattr(model, TINY[arch][2]))
    assert main_layer_entry(model) is None
    layer = layer_class(_config(arch, checkpoint))
    layer(tf.constant(INPUT_IDS))
    return layer


def _train(layer: Any, steps: int, lr: float = 1e-3) -> None:
    """A few Adam steps of a regression head on the layer's first-token features."""
    import numpy as np
    import tensorflow as tf

    input_ids = tf.keras.Input(shape=(8,), dtype=tf.int32)
    features = layer(input_ids).last_hidden_state[:, 0]
    model = tf.keras.Model(input_ids, tf.keras.layers.Dense(1)(features))
    model.compile(optimizer=tf.keras.optimizers.Adam(lr), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.integers(5, 95, (32, 8)).astype("int32")
    y = rng.normal(size=(32, 1)).astype("float32")
    model.fit(x, y, batch_size=32, epochs=steps, verbose=0)


@pytest.mark.parametrize("arch", list(TINY))
def test_loaded_layer_is_pretrained_and_config_layer_is_random(arch: str, checkpoints: dict[str, Path]) -> None:
    from lint_mainlayer.runtime import check

    ckpt = str(checkpoints[arch])
    loaded = getattr(reference_model(arch, checkpoints[arch]), TINY[arch][2])
    [report] = check(loaded, ckpt)
    assert report.status == "pretrained", report.detail
    assert report.checkpoint == ckpt and report.location is None

    [report] = check(_fresh_layer(arch, checkpoints[arch]), ckpt)
    assert report.status == "random", report.detail


def test_fresh_layer_is_random_against_an_unperturbed_checkpoint(checkpoints: dict[str, Path]) -> None:
    """Zero biases and unit gammas are equal in any fresh layer and must prove nothing."""
    from lint_mainlayer.runtime import check

    ckpt = str(checkpoints["bert_fresh"])
    [report] = check(_fresh_layer("bert", checkpoints["bert_fresh"]), ckpt)
    assert report.status == "random", report.detail
    assert "constant in the checkpoint" in report.detail
    [report] = check(reference_model("bert", checkpoints["bert_fresh"]), ckpt)
    assert report.status == "pretrained", report.detail


@pytest.mark.parametrize("arch", ["bert", "gpt2"])
def test_trained_from_checkpoint_is_fine_tuned_and_from_random_is_random(arch: str, checkpoints: dict[str, Path]) -> None:
    from lint_mainlayer.runtime import check

    ckpt = str(checkpoints[arch])
    tuned = getattr(reference_model(arch, checkpoints[arch]), TINY[arch][2])
    _train(tuned, steps=5)
    [report] = check(tuned, ckpt)
    assert report.status == "fine-tuned", report.detail

    scratch = _fresh_layer(arch, checkpoints[arch])
    _train(scratch, steps=5)
    [report] = check(scratch, ckpt)
    assert report.status == "random", report.detail


def test_long_training_from_checkpoint_is_still_fine_tuned(checkpoints: dict[str, Path]) -> None:
    """50 steps at a high learning rate move the tiny model far; r stays above 0.5."""
    from lint_mainlayer.runtime import check

    tuned = reference_model("bert", checkpoints["bert"]).bert
    _train(tuned, steps=50)
    [report] = check(tuned, str(checkpoints["bert"]))
    assert report.status == "fine-tuned", report.detail


def test_watched_first_use_overrides_a_faded_correlation(checkpoints: dict[str, Path]) -> None:
    """Equal to the checkpoint when training began: fine-tuned, however far it moved since."""
    import numpy as np

    from lint_mainlayer.runtime.checker import FirstUse, evaluate
    from lint_mainlayer.runtime.compare import Comparison

    layer = reference_model("bert", checkpoints["bert"]).bert
    for variable in layer.weights:  # stands in for a training run that moved it very far
        values = variable.numpy()
        variable.assign(np.roll(values.ravel(), 1).reshape(values.shape))
    unwatched = evaluate(layer, checkpoint=str(checkpoints["bert"]), no_checkpoint_reason="")
    assert unwatched.status == "random", unwatched.detail
    started = FirstUse("fit at train.py:9", Comparison("pretrained", "equal"))
    report = evaluate(layer, checkpoint=str(checkpoints["bert"]), no_checkpoint_reason="", first_use=started)
    assert report.status == "fine-tuned", report.detail
    assert "first use (fit at train.py:9)" in report.detail

    was_random = FirstUse("fit at train.py:9", Comparison("random", "unrelated"))
    report = evaluate(layer, checkpoint=str(checkpoints["bert"]), no_checkpoint_reason="", first_use=was_random)
    assert report.status == "random", report.detail


def test_missing_pooler_in_checkpoint_is_not_held_against_the_layer(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    """A masked-LM checkpoint has no pooler: TFBertModel's pooler is random there too."""
    import transformers

    from lint_mainlayer.runtime import check

    mlm = transformers.TFBertForMaskedLM.from_pretrained(str(checkpoints["bert"]))
    mlm.save_pretrained(tmp_path / "mlm")
    loaded = transformers.TFBertModel.from_pretrained(str(tmp_path / "mlm")).bert
    [report] = check(loaded, str(tmp_path / "mlm"))
    assert report.status == "pretrained", report.detail
    assert "not in the checkpoint" in report.detail


def test_unbuilt_and_unknown(checkpoints: dict[str, Path]) -> None:
    import transformers

    from lint_mainlayer.runtime import check

    layer = transformers.TFBertMainLayer(_config("bert", checkpoints["bert"]))
    [report] = check(layer, str(checkpoints["bert"]))
    assert report.status == "unbuilt"

    built = _fresh_layer("bert", checkpoints["bert"])
    [report] = check(built)  # BertConfig.from_pretrained leaves name_or_path empty
    assert report.status == "unknown"
    assert "checkpoint=" in report.detail

    [report] = check(built, str(checkpoints["bert"]) + "-missing")
    assert report.status == "unknown"
    assert "cannot compare" in report.detail


def test_check_finds_every_main_layer_in_a_model(checkpoints: dict[str, Path]) -> None:
    import tensorflow as tf

    from lint_mainlayer.runtime import check

    ckpt = str(checkpoints["bert"])
    pretrained = reference_model("bert", checkpoints["bert"]).bert
    random = _fresh_layer("bert", checkpoints["bert"])
    left = tf.keras.Input(shape=(8,), dtype=tf.int32)
    right = tf.keras.Input(shape=(8,), dtype=tf.int32)
    joined = tf.keras.layers.Concatenate()([pretrained(left).pooler_output, random(right).pooler_output])
    model = tf.keras.Model([left, right], joined)
    reports = check(model, ckpt)
    assert [r.status for r in reports] == ["pretrained", "random"]
    assert [r.name for r in reports] == [pretrained.name, random.name]


def test_frozen_layer_is_reported_frozen_and_compared_in_the_same_order(checkpoints: dict[str, Path]) -> None:
    from lint_mainlayer.runtime import check

    layer = reference_model("bert", checkpoints["bert"]).bert
    layer.embeddings.trainable = False  # would reorder layer.weights; the checker's order holds
    layer.trainable = False
    [report] = check(layer, str(checkpoints["bert"]))
    assert report.status == "pretrained", report.detail
    assert report.trainable is False


def test_assert_pretrained(checkpoints: dict[str, Path]) -> None:
    from lint_mainlayer.runtime import assert_pretrained

    ckpt = str(checkpoints["bert"])
    assert_pretrained(reference_model("bert", checkpoints["bert"]), ckpt)
    with pytest.raises(AssertionError, match="random"):
        assert_pretrained(_fresh_layer("bert", checkpoints["bert"]), ckpt)
    with pytest.raises(AssertionError, match="no transformers main layer"):
        import tensorflow as tf

        assert_pretrained(tf.keras.layers.Dense(2), ckpt)

    tuned = reference_model("bert", checkpoints["bert"]).bert
    _train(tuned, steps=3)
    with pytest.raises(AssertionError, match="fine-tuned"):
        assert_pretrained(tuned, ckpt)
    assert_pretrained(tuned, ckpt, allow_fine_tuned=True)


def test_importing_the_runtime_package_does_not_import_tensorflow() -> None:
    code = (
        "import sys\n"
        "import lint_mainlayer.runtime, lint_mainlayer.runtime.command\n"
        "heavy = [m for m in ('tensorflow', 'transformers', 'tf_keras', 'keras') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=subprocess_env(), check=True, timeout=60)
