"""The runtime checker: which transformers main layers really hold pretrained weights.

Static analysis says a layer *may* run with random weights; this proves it, by comparing
live layers with their checkpoints' files tensor by tensor (rule:
`lint_mainlayer.runtime.compare`; files: `lint_mainlayer.runtime.sources`).

    from lint_mainlayer.runtime import assert_pretrained, check
    assert_pretrained(model, "bert-base-uncased")

This is the only part of lint-mainlayer that uses TensorFlow and transformers (the
`[runtime]` extra), and it imports them only when a function runs: importing this package
stays cheap.
"""

from __future__ import annotations

from typing import Any

from lint_mainlayer.runtime.report import LayerReport, Status

__all__ = ["LayerReport", "Status", "assert_pretrained", "check"]


def check(layer_or_model: Any, checkpoint: str | None = None) -> list[LayerReport]:
    """One `LayerReport` per transformers main layer in `layer_or_model`.

    Each layer is compared with the checkpoint's weights file (`tf_model.h5`, TF-format
    `model.safetensors`, a TF checkpoint), one tensor at a time, by name and then by
    value; a checkpoint without such a file is loaded through `<BaseModel>.from_pretrained`
    (`TFBertModel.from_pretrained(checkpoint).bert`). `checkpoint` defaults to the layer
    config's `name_or_path`, which transformers leaves empty for configs from
    `XConfig.from_pretrained`: pass it. Status is `pretrained`, `fine-tuned`, `random`,
    `unbuilt`, `incomplete` or `unknown` (reason in `detail`).
    """
    from lint_mainlayer.runtime.checker import check as _check

    return _check(layer_or_model, checkpoint)


def assert_pretrained(
    layer_or_model: Any,
    checkpoint: str | None = None,
    *,
    allow_fine_tuned: bool = False,
) -> None:
    """Raise AssertionError unless every main layer in `layer_or_model` holds `checkpoint`'s
    weights (with `allow_fine_tuned`, trained-from-checkpoint weights pass too).

    For users' own tests: `assert_pretrained(model, "bert-base-uncased")` right after
    building the model catches a main layer that silently kept random weights.
    """
    from lint_mainlayer.runtime.checker import assert_pretrained as _assert_pretrained

    _assert_pretrained(layer_or_model, checkpoint, allow_fine_tuned=allow_fine_tuned)
