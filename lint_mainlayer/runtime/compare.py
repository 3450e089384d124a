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

A tensor equal to a checkpoint tensor at *another* name or position (a permutation, a
teacher's layer 1 copied into a student's layer 0) counts as equal and *remapped*: it was
found by value (`sources.Checkpoint.find_by_value`) after its name-paired tensor differed.

While a script runs, the checker also takes this verdict when a model holding the layer is
first used (`fit`, `predict`, a call): a layer that was `pretrained` then and differs at the
end was trained from the checkpoint, and is `fine-tuned` whatever its correlation by then,
unless its weights were replaced by unrelated values since (re-initialised: `random`).

Equality and correlation are computed in chunks (`relate`), correlation over at most
262,144 evenly spaced elements of a tensor, so comparing a 100 MB embedding matrix costs a
few MB and a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

EQUAL_RTOL = 1e-5
EQUAL_ATOL = 1e-7
CORRELATION_THRESHOLD = 0.5
FINE_TUNED_FRACTION = 0.9
_CHUNK = 1 << 20
SAMPLE_LIMIT = 1 << 18

Verdict = Literal["pretrained", "fine-tuned", "random", "unknown"]


@dataclass(frozen=True)
class Pair:
    """One tensor of the layer and the checkpoint's tensor at the same position."""

    layer: Any  # numpy array
    checkpoint: Any  # numpy array
    # False when from_pretrained reported the checkpoint had no value for this tensor.
    in_checkpoint: bool = True
    # True when `checkpoint` is not the tensor paired by name but one found equal by value.
    remapped: bool = False


@dataclass(frozen=True)
class Comparison:
    """The verdict and the counts behind it."""

    status: Verdict
    detail: str
    informative: int = 0
    equal: int = 0
    correlated: int = 0
    median_correlation: float | None = None
    remapped: int = 0


def relate(a: Any, b: Any) -> tuple[bool, float]:
    """Whether two same-shaped arrays are equal (`numpy.allclose` with this module's
    tolerances) and their Pearson r (0.0 when either is constant).

    Large tensors are related through an evenly spaced sample of `SAMPLE_LIMIT` elements:
    r's sampling error there (about 0.002) is far below what separates trained from
    unrelated tensors, and equality is settled on every element whenever the sample says
    the tensors are close. Everything runs in chunks, so a 100 MB embedding matrix costs a
    few MB, not copies of it.
    """
    import numpy as np

    x = np.asarray(a).reshape(-1)
    y = np.asarray(b).reshape(-1)
    n = x.size
    if n != y.size:
        return False, 0.0
    # Loading copies values exactly: identical tensors (the common case, and the whole
    # first-use check of a pretrained layer) need no arithmetic.
    if n > 1 and x.dtype == y.dtype and _identical(x, y):
        return True, 0.0 if x.min() == x.max() else 1.0
    if n > SAMPLE_LIMIT:
        step = -(-n // SAMPLE_LIMIT)
        xs, ys = x[::step], y[::step]
        return _close(xs, ys) and _close(x, y), _pearson(xs, ys)
    return _close(x, y), _pearson(x, y)


def _close(x: Any, y: Any) -> bool:
    import numpy as np

    for start in range(0, x.size, _CHUNK):
        xc = x[start:start + _CHUNK].astype(np.float64)
        yc = y[start:start + _CHUNK].astype(np.float64)
        if not np.all(np.abs(xc - yc) <= EQUAL_ATOL + EQUAL_RTOL * np.abs(yc)):
            return False
    return True


def _pearson(x: Any, y: Any) -> float:
    import numpy as np

    n = x.size
    if n < 2:
        return 0.0
    # Shifting by a first value keeps the sums small for tensors far from zero (LayerNorm
    # scales near 1), so the variance is not lost to cancellation.
    shift_x, shift_y = float(x[0]), float(y[0])
    sx = sy = sxx = syy = sxy = 0.0
    for start in range(0, n, _CHUNK):
        xc = x[start:start + _CHUNK].astype(np.float64) - shift_x
        yc = y[start:start + _CHUNK].astype(np.float64) - shift_y
        sx += float(xc.sum())
        sy += float(yc.sum())
        sxx += float(np.dot(xc, xc))
        syy += float(np.dot(yc, yc))
        sxy += float(np.dot(xc, yc))
    vx = sxx - sx * sx / n
    vy = syy - sy * sy / n
    denominator = float(np.sqrt(max(vx, 0.0) * max(vy, 0.0)))
    if denominator == 0.0 or not np.isfinite(denominator):
        return 0.0
    return float(min(1.0, max(-1.0, (sxy - sx * sy / n) / denominator)))


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


@dataclass(frozen=True)
class Outcome:
    """What one tensor of the layer says: equal to its checkpoint tensor, correlated,
    unrelated, or no evidence (constant in the checkpoint, absent from it, of another
    shape)."""

    kind: Literal["equal", "correlated", "unrelated", "constant", "absent", "mismatched"]
    r: float = 0.0
    remapped: bool = False


def classify(pair: Pair) -> Outcome:
    """The outcome of one tensor pair under this module's rule."""
    import numpy as np

    layer = np.asarray(pair.layer)
    checkpoint = np.asarray(pair.checkpoint)
    if layer.shape != checkpoint.shape:
        return Outcome("mismatched")
    if not pair.in_checkpoint:
        return Outcome("absent")
    if is_constant(checkpoint):
        return Outcome("constant")
    same, r = relate(layer, checkpoint)
    if same:
        return Outcome("equal", r, pair.remapped)
    return Outcome("correlated" if r >= CORRELATION_THRESHOLD else "unrelated", r)


def _identical(x: Any, y: Any) -> bool:
    import numpy as np

    return all(
        np.array_equal(x[start:start + _CHUNK], y[start:start + _CHUNK]) for start in range(0, x.size, _CHUNK)
    )


def compare(pairs: Sequence[Pair]) -> Comparison:
    """Apply the rule of this module's docstring to position-matched tensor pairs."""
    return tally([classify(pair) for pair in pairs])


def tally(outcomes: Sequence[Outcome]) -> Comparison:
    """The verdict over the tensors' outcomes (the rule of this module's docstring)."""
    import numpy as np

    mismatched = sum(o.kind == "mismatched" for o in outcomes)
    absent = sum(o.kind == "absent" for o in outcomes)
    constant = sum(o.kind == "constant" for o in outcomes)
    equal = sum(o.kind == "equal" for o in outcomes)
    correlated = sum(o.kind == "correlated" for o in outcomes)
    remapped = sum(o.kind == "equal" and o.remapped for o in outcomes)
    correlations = [o.r for o in outcomes if o.kind in ("equal", "correlated", "unrelated")]
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
            f"no informative tensor to compare ({len(outcomes)} tensors{skipped_text})",
        )
    median = float(np.median(correlations))
    unrelated = informative - equal - correlated
    moved = f" ({remapped} at another position)" if remapped else ""
    counts = (
        f"{equal}/{informative} informative tensors equal{moved}, {correlated} correlated, "
        f"{unrelated} unrelated; median r={median:.2f}{skipped_text}"
    )
    if equal == informative:
        status: Verdict = "pretrained"
        detail = f"equal to the checkpoint{' (remapped)' if remapped else ''}: {counts}"
    elif correlated > 0 and equal + correlated >= FINE_TUNED_FRACTION * informative:
        status = "fine-tuned"
        detail = f"trained from the checkpoint: {counts}"
    elif equal > 0:
        status = "random"
        detail = f"partly loaded, the rest is not from the checkpoint: {counts}"
    else:
        status = "random"
        detail = f"not derived from the checkpoint: {counts}"
    return Comparison(status, detail, informative, equal, correlated, median, remapped)
