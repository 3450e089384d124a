"""The rule that decides whether a layer's weights are its checkpoint's.

The layer's tensors are paired with the checkpoint's by position within the layer (see
`weights.ordered_weights`), not by full name, because the outer prefix varies
(`tf_bert_model/`, `tf_bert_model_1/`, a functional model's layer name). Then:

1. **Skipped** are pairs whose shapes differ (noted in the detail), pairs the checkpoint did
   not hold (`from_pretrained` reported them missing, so the reference is random there), and
   pairs whose checkpoint tensor is constant: zero biases and LayerNorm ones/zeros equal
   those of any freshly built layer, so they prove nothing either way. The rest are the
   *informative* tensors. With none, the verdict is `unknown`.
2. **Equal**: `numpy.allclose(layer, checkpoint, rtol=1e-5, atol=1e-7)`. Loading is exact,
   so a loaded tensor is equal; training moves every tensor it touches far beyond that.
3. **Correlated**: Pearson's r between the flattened layer and checkpoint tensors is at
   least 0.5. Fine-tuning adds small updates to each tensor, so r stays near 1 (measured
   0.98 after 5 Adam steps at lr 1e-3 on a tiny BERT, above 0.6 after 50); an independently
   initialised tensor has r near 0 (|r| < 0.5 in all but the smallest tensors; the median
   over a layer is about 0). A tensor that is constant in the layer (a fresh LayerNorm) has
   r = 0.

Verdict over the informative tensors:

- `pretrained`: every one is equal.
- `fine-tuned`: not all equal, at least one is changed-but-correlated, and at least 90% are
  equal or correlated (slack for a few tensors that training moved far).
- `random`: otherwise. This includes a *partial load* (some tensors equal, the others
  unrelated: a name-scope mismatch that loaded only part of the layer).

While a script runs, the checker also takes this verdict when a model holding the layer is
first used (`fit`, `predict`, a call): a layer that was `pretrained` then and differs at the
end was trained from the checkpoint, and is `fine-tuned` whatever its correlation by then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

EQUAL_RTOL = 1e-5
EQUAL_ATOL = 1e-7
CORRELATION_THRESHOLD = 0.5
FINE_TUNED_FRACTION = 0.9

Verdict = Literal["pretrained", "fine-tuned", "random", "unknown"]


@dataclass(frozen=True)
class Pair:
    """One tensor of the layer and the checkpoint's tensor at the same position."""

    layer: Any  # numpy array
    checkpoint: Any  # numpy array
    # False when from_pretrained reported the checkpoint had no value for this tensor.
    in_checkpoint: bool = True


@dataclass(frozen=True)
class Comparison:
    """The verdict and the counts behind it."""

    status: Verdict
    detail: str
    informative: int = 0
    equal: int = 0
    correlated: int = 0
    median_correlation: float | None = None


def correlation(a: Any, b: Any) -> float:
    """Pearson's r of two same-shaped arrays, 0.0 when either is constant."""
    import numpy as np

    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.size < 2:
        return 0.0
    x = x - x.mean()
    y = y - y.mean()
    denominator = float(np.sqrt(np.dot(x, x) * np.dot(y, y)))
    if denominator == 0.0 or not np.isfinite(denominator):
        return 0.0
    return float(np.dot(x, y) / denominator)


def is_constant(a: Any) -> bool:
    """True when every element is equal (zero biases, LayerNorm gammas of ones)."""
    import numpy as np

    array = np.asarray(a)
    return bool(array.size == 0 or array.min() == array.max())


def compare(pairs: Sequence[Pair]) -> Comparison:
    """Apply the rule of this module's docstring to position-matched tensor pairs."""
    import numpy as np

    mismatched = constant = absent = 0
    equal = correlated = 0
    correlations: list[float] = []
    for pair in pairs:
        layer = np.asarray(pair.layer)
        checkpoint = np.asarray(pair.checkpoint)
        if layer.shape != checkpoint.shape:
            mismatched += 1
            continue
        if not pair.in_checkpoint:
            absent += 1
            continue
        if is_constant(checkpoint):
            constant += 1
            continue
        r = correlation(layer, checkpoint)
        correlations.append(r)
        if np.allclose(layer, checkpoint, rtol=EQUAL_RTOL, atol=EQUAL_ATOL):
            equal += 1
        elif r >= CORRELATION_THRESHOLD:
            correlated += 1

    informative = len(correlations)
    skipped = []
    if constant:
        skipped.append(f"{constant} constant in the checkpoint")
    if absent:
        skipped.append(f"{absent} not in the checkpoint")
    if mismatched:
        skipped.append(f"{mismatched} of another shape")
    skipped_text = f"; skipped {', '.join(skipped)}" if skipped else ""
    if informative == 0:
        return Comparison(
            "unknown",
            f"no informative tensor to compare ({len(pairs)} tensors{skipped_text})",
        )
    median = float(np.median(correlations))
    unrelated = informative - equal - correlated
    counts = (
        f"{equal}/{informative} informative tensors equal, {correlated} correlated, "
        f"{unrelated} unrelated; median r={median:.2f}{skipped_text}"
    )
    if equal == informative:
        status: Verdict = "pretrained"
        detail = f"equal to the checkpoint: {counts}"
    elif correlated > 0 and equal + correlated >= FINE_TUNED_FRACTION * informative:
        status = "fine-tuned"
        detail = f"trained from the checkpoint: {counts}"
    elif equal > 0:
        status = "random"
        detail = f"partly loaded, the rest is not from the checkpoint: {counts}"
    else:
        status = "random"
        detail = f"not derived from the checkpoint: {counts}"
    return Comparison(status, detail, informative, equal, correlated, median)
