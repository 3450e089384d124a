"""The comparison rule on plain arrays (numpy only, no model)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.runtime


@pytest.fixture
def np() -> Any:
    return pytest.importorskip("numpy")


def _checkpoint(np: Any, seed: int = 0) -> list[Any]:
    """A layer's worth of tensors as a real checkpoint has them: kernels, biases, gammas."""
    rng = np.random.default_rng(seed)
    return [
        rng.normal(0, 0.02, (16, 8)),  # kernel
        rng.normal(0, 0.02, (8,)),  # bias, trained away from zero
        1 + rng.normal(0, 0.05, (8,)),  # LayerNorm gamma
        rng.normal(0, 0.02, (8, 4)),
        rng.normal(0, 0.02, (50, 8)),  # embeddings
    ]


def _fresh(np: Any, seed: int) -> list[Any]:
    """The same shapes as a freshly built layer: random kernels, zero biases, unit gammas."""
    rng = np.random.default_rng(seed)
    return [
        rng.normal(0, 0.02, (16, 8)),
        np.zeros(8),
        np.ones(8),
        rng.normal(0, 0.02, (8, 4)),
        rng.normal(0, 0.02, (50, 8)),
    ]


def _pairs(layer: list[Any], checkpoint: list[Any], loaded: list[bool] | None = None) -> list[Any]:
    from lint_mainlayer.runtime.compare import Pair

    loaded = loaded or [True] * len(layer)
    return [Pair(a, b, ok) for a, b, ok in zip(layer, checkpoint, loaded)]


def test_equal_is_pretrained(np: Any) -> None:
    from lint_mainlayer.runtime.compare import compare

    ckpt = _checkpoint(np)
    result = compare(_pairs([t.copy() for t in ckpt], ckpt))
    assert result.status == "pretrained"
    assert result.equal == result.informative == 5


def test_fresh_layer_is_random_even_when_checkpoint_biases_are_zero(np: Any) -> None:
    from lint_mainlayer.runtime.compare import compare

    # A checkpoint saved straight after init: its zero biases and unit gammas equal the
    # fresh layer's, and must not count as evidence.
    ckpt = _fresh(np, seed=1)
    result = compare(_pairs(_fresh(np, seed=2), ckpt))
    assert result.status == "random"
    assert result.informative == 3
    assert "2 constant in the checkpoint" in result.detail


def test_small_updates_are_fine_tuned(np: Any) -> None:
    from lint_mainlayer.runtime.compare import compare

    ckpt = _checkpoint(np)
    rng = np.random.default_rng(5)
    tuned = [t + rng.normal(0, 0.005, t.shape) for t in ckpt]
    result = compare(_pairs(tuned, ckpt))
    assert result.status == "fine-tuned", result.detail
    assert result.median_correlation is not None and result.median_correlation > 0.9


def test_independent_values_are_random(np: Any) -> None:
    from lint_mainlayer.runtime.compare import compare

    result = compare(_pairs(_checkpoint(np, seed=7), _checkpoint(np, seed=8)))
    assert result.status == "random"
    assert "not derived" in result.detail


def test_partial_load_is_random(np: Any) -> None:
    from lint_mainlayer.runtime.compare import compare

    ckpt = _checkpoint(np)
    other = _checkpoint(np, seed=9)
    layer = [ckpt[0], ckpt[1], other[2], other[3], other[4]]
    result = compare(_pairs(layer, ckpt))
    assert result.status == "random"
    assert "partly loaded" in result.detail


def test_tensors_missing_from_checkpoint_are_skipped(np: Any) -> None:
    from lint_mainlayer.runtime.compare import compare

    # e.g. a pooler that the checkpoint (saved from a masked-LM model) does not hold: the
    # reference has random values there, which say nothing.
    ckpt = _checkpoint(np)
    layer = [t.copy() for t in ckpt]
    layer[3] = _checkpoint(np, seed=3)[3]
    result = compare(_pairs(layer, ckpt, loaded=[True, True, True, False, True]))
    assert result.status == "pretrained"
    assert "1 not in the checkpoint" in result.detail


def test_nothing_informative_is_unknown(np: Any) -> None:
    from lint_mainlayer.runtime.compare import compare

    result = compare(_pairs([np.zeros(4), np.ones(4)], [np.zeros(4), np.ones(4)]))
    assert result.status == "unknown"


def test_shape_mismatch_is_noted(np: Any) -> None:
    from lint_mainlayer.runtime.compare import compare

    ckpt = _checkpoint(np)
    layer = [t.copy() for t in ckpt]
    layer[4] = np.zeros((60, 8))  # resized embeddings
    result = compare(_pairs(layer, ckpt))
    assert result.status == "pretrained"
    assert "1 of another shape" in result.detail


def test_correlation_of_constant_is_zero(np: Any) -> None:
    from lint_mainlayer.runtime.compare import correlation

    assert correlation(np.ones(5), np.arange(5)) == 0.0
    assert correlation(np.arange(5), np.arange(5) * 2.0) == pytest.approx(1.0)


def test_relate_agrees_with_the_plain_formulas_across_chunks_and_samples(np: Any) -> None:
    from lint_mainlayer.runtime import compare

    rng = np.random.default_rng(11)
    a = rng.normal(0, 0.02, (1500, 1000)).astype(np.float32)  # more than one chunk
    b = (a + rng.normal(0, 0.02, a.shape)).astype(np.float32)
    same, r = compare.relate(a, b)
    assert not same and r == pytest.approx(compare.correlation(a, b), abs=0.01)  # sampled: 1.5 M > SAMPLE_LIMIT
    assert compare.relate(a, a.copy()) == (True, 1.0)
    gamma = (1 + rng.normal(0, 0.05, 768)).astype(np.float32)  # far from zero: no cancellation
    assert compare.relate(gamma, gamma * 1.0000001)[0]
    assert compare.relate(gamma, gamma + 0.01)[1] == pytest.approx(1.0)
    nudged = a.copy()
    nudged[-1, -1] += 1.0  # one element outside the sample and in the last chunk differs
    assert compare.relate(a, nudged)[0] is False


def test_remapped_equal_tensors_are_pretrained_remapped(np: Any) -> None:
    from lint_mainlayer.runtime.compare import Pair, compare

    ckpt = _checkpoint(np)
    layer = [t.copy() for t in ckpt]
    pairs = [Pair(a, b, remapped=i in (0, 3)) for i, (a, b) in enumerate(zip(layer, ckpt))]
    result = compare(pairs)
    assert result.status == "pretrained" and result.remapped == 2
    assert "equal to the checkpoint (remapped)" in result.detail
