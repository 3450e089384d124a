"""Checkpoint tensors by name and by value (numpy and h5py only, no model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.runtime

NAMES = [
    "tf_bert_model/bert/embeddings/word_embeddings/weight:0",
    "tf_bert_model/bert/encoder/layer_._0/attention/self/query/kernel:0",
    "tf_bert_model/bert/encoder/layer_._1/attention/self/query/kernel:0",
    "tf_bert_model/bert/encoder/layer_._0/output/dense/kernel:0",
    "tf_bert_model/bert/pooler/dense/kernel:0",
]


@pytest.fixture
def tensors() -> list[Any]:
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(3)
    return [rng.normal(0, 0.02, shape).astype(np.float32) for shape in [(50, 8), (8, 8), (8, 8), (8, 8), (8, 8)]]


def test_pairs_by_the_longest_unique_suffix(tensors: list[Any]) -> None:
    from lint_mainlayer.runtime.sources import from_reference, split_name

    checkpoint = from_reference("ckpt", NAMES, tensors, [True] * 5)
    pair = checkpoint.pair
    assert pair(split_name("encoder_a/encoder/layer_._1/attention/self/query/kernel:0")) == NAMES[2]
    assert pair(split_name("student/embeddings/word_embeddings/weight:0")) == NAMES[0]
    # "dense/kernel" is shared by two tensors: ambiguous, so no pair rather than a wrong one.
    assert pair(split_name("other/head/dense/kernel:0")) is None
    assert pair(split_name("x/classifier/bias:0")) is None
    assert split_name("model/bert/x/.ATTRIBUTES/VARIABLE_VALUE") == ("model", "bert", "x")


def test_finds_a_tensor_by_value_and_only_an_equal_one(tensors: list[Any]) -> None:
    from lint_mainlayer.runtime.sources import from_reference

    checkpoint = from_reference("ckpt", NAMES, tensors, [True] * 5)
    assert checkpoint.find_by_value(tensors[2].copy()) == NAMES[2]
    assert checkpoint.find_by_value(tensors[2].copy(), exclude=NAMES[2]) is None
    nudged = tensors[3].copy()
    nudged[4, 4] += 0.5  # not a sampled position: the fingerprint matches, the full check does not
    assert checkpoint.find_by_value(nudged) is None
    assert checkpoint.find_by_value(tensors[3].T.copy() * 0 + 1) is None


def test_reads_keras_h5_weights_one_tensor_at_a_time(tensors: list[Any], tmp_path: Path) -> None:
    import h5py

    from lint_mainlayer.runtime.sources import SourceError, open_checkpoint

    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as handle:
        group = handle.create_group("bert")
        for name, value in zip(NAMES, tensors):
            group.create_dataset(name, data=value)
    checkpoint = open_checkpoint(str(tmp_path))  # the one .h5 file of a folder
    try:
        name = checkpoint.pair(("bert", "encoder", "layer_._0", "attention", "self", "query", "kernel"))
        assert name == "bert/" + NAMES[1]
        assert (checkpoint.read(name) == tensors[1]).all()
    finally:
        checkpoint.close()
    with pytest.raises(SourceError):
        open_checkpoint(str(tmp_path / "missing"))
