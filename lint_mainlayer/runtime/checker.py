"""Judging live main layers against their checkpoints: the Python API and its core."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lint_mainlayer import registry
from lint_mainlayer.runtime import weights
from lint_mainlayer.runtime.compare import Comparison, compare
from lint_mainlayer.runtime.report import LayerReport


@dataclass(frozen=True)
class FirstUse:
    """The verdict taken when a model holding the layer was first used."""

    where: str  # "fit at train.py:40"
    comparison: Comparison


def configured_checkpoint(layer: Any) -> str | None:
    """The config's `name_or_path`, when set (AutoConfig and PyTorch loading set it)."""
    config = weights.layer_config(layer)
    name = getattr(config, "name_or_path", None) if config is not None else None
    return str(name) if name else None


def compare_layer(
    layer: Any,
    entry: registry.MainLayer,
    checkpoint: str,
    extras: dict[str, Any] | None = None,
) -> Comparison:
    """Compare a built layer's current weights with `checkpoint` (the docstring of
    `compare` gives the rule). Raises `weights.ReferenceError` when it cannot load."""
    reference = weights.load_reference(entry, checkpoint, layer, extras)
    variables = weights.ordered_weights(layer)
    values = weights.read_values(variables)
    pairs, note = weights.pair_up(variables, values, reference)
    comparison = compare(pairs)
    if note:
        comparison = Comparison(
            comparison.status,
            f"{comparison.detail}; {note}",
            comparison.informative,
            comparison.equal,
            comparison.correlated,
            comparison.median_correlation,
        )
    return comparison


def evaluate(
    layer: Any,
    *,
    checkpoint: str | None,
    no_checkpoint_reason: str,
    location: str | None = None,
    extras: dict[str, Any] | None = None,
    first_use: FirstUse | None = None,
) -> LayerReport:
    """The report on one main layer, never raising for a layer it cannot judge."""
    entry = weights.main_layer_entry(layer)
    class_name = type(layer).__name__

    def report(status: Any, detail: str) -> LayerReport:
        return LayerReport(
            class_name=class_name,
            location=location,
            name=str(getattr(layer, "name", "?")),
            trainable=bool(getattr(layer, "trainable", True)),
            status=status,
            detail=detail,
            checkpoint=checkpoint,
        )

    if not getattr(layer, "built", False) or not weights.ordered_weights(layer):
        return report("unbuilt", "never called or built: it holds no weights")
    if entry is None:
        return report("unknown", f"{class_name} is not in the main-layer registry")
    if checkpoint is None:
        return report("unknown", no_checkpoint_reason)
    try:
        comparison = compare_layer(layer, entry, checkpoint, extras)
    except weights.ReferenceError as exc:
        return report("unknown", f"cannot compare: {exc}")
    if first_use is None:
        return report(comparison.status, comparison.detail)
    earlier = first_use.comparison
    then = f"; at its first use ({first_use.where}) it was {earlier.status}"
    if comparison.status in ("pretrained", "fine-tuned", "unknown"):
        return report(comparison.status, comparison.detail + then)
    if earlier.status == "pretrained":
        # Watched: equal to the checkpoint when training began, so whatever training did
        # since, the weights derive from it.
        return report(
            "fine-tuned",
            f"equal to the checkpoint at its first use ({first_use.where}), trained far from "
            f"it since: {comparison.detail}",
        )
    return report(comparison.status, comparison.detail + then)


def check(layer_or_model: Any, checkpoint: str | None = None) -> list[LayerReport]:
    """Report, for each transformers main layer in `layer_or_model`, whether it holds the
    weights of `checkpoint`.

    `checkpoint` is a hub name or a local folder, as for `from_pretrained`; when omitted, the
    layer's `config.name_or_path` is used (empty for configs loaded with
    `XConfig.from_pretrained` in transformers 4.57, so pass it). Each layer is compared with
    `<BaseModel>.from_pretrained(checkpoint).<field>` tensor by tensor; see
    `lint_mainlayer.runtime.compare` for the rule. Status is one of `pretrained`,
    `fine-tuned`, `random`, `unbuilt`, `unknown` (with the reason in `detail`). Loaded
    checkpoints are cached for later calls; `lint_mainlayer.runtime.weights.clear_cache()`
    frees them.
    """
    from lint_mainlayer.runtime.recorder import suspended

    reports = []
    with suspended():
        for layer in weights.find_main_layers(layer_or_model):
            chosen = checkpoint or configured_checkpoint(layer)
            reports.append(
                evaluate(
                    layer,
                    checkpoint=chosen,
                    no_checkpoint_reason=(
                        "no checkpoint to compare with: the config has no name_or_path; "
                        "pass checkpoint="
                    ),
                )
            )
    return reports


def assert_pretrained(
    layer_or_model: Any,
    checkpoint: str | None = None,
    *,
    allow_fine_tuned: bool = False,
) -> None:
    """Raise AssertionError unless every main layer in `layer_or_model` holds `checkpoint`'s
    weights (or, with `allow_fine_tuned`, was trained from them).

    Also fails when there is no main layer at all, since then nothing was checked.
    """
    reports = check(layer_or_model, checkpoint)
    if not reports:
        raise AssertionError(f"no transformers main layer found in {type(layer_or_model).__name__}")
    allowed = {"pretrained", "fine-tuned"} if allow_fine_tuned else {"pretrained"}
    bad = [r for r in reports if r.status not in allowed]
    if bad:
        lines = [f"{r.class_name} {r.name!r}: {r.status}: {r.detail}" for r in bad]
        raise AssertionError("main layer(s) without pretrained weights:\n" + "\n".join(lines))
