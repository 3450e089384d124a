"""What the runtime checker reports about one main layer, and how reports are shown.

Nothing here imports TensorFlow: reports are plain frozen records, picklable, so that a
command can print them and a test can compare them without the runtime extra.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["pretrained", "fine-tuned", "random", "unbuilt", "incomplete", "unknown"]

#: Statuses that mean the layer holds (or was trained from) its checkpoint's weights.
GOOD_STATUSES: frozenset[str] = frozenset({"pretrained", "fine-tuned"})


@dataclass(frozen=True)
class LayerReport:
    """The verdict on one transformers main layer.

    `location` is the `file:line` of the user's code that constructed the layer (None when
    the layer was handed to `check()` rather than recorded while a script ran).
    `detail` says how the verdict was reached, or why there is none (`unknown`).
    `checkpoint` is the checkpoint the layer was judged against: where its weights were
    found (`source`) when they were, else the one its config names.

    Provenance, beyond the status (whose values stay a small fixed set):
    `source` the checkpoint the layer's weights were found in (None when they were found in
    none); `config_checkpoint` the checkpoint its config came from (differs from `source`
    for a layer built from A's config and filled from B); `sources` every checkpoint that
    supplied some of its tensors; `remapped` how many tensors equal a checkpoint tensor at
    another position or name (a permutation, a layer-to-layer copy) and `mapping` a summary
    of those moves ("encoder/layer_._0 <- encoder/layer_._1 (16 tensors)"); `history` the
    layer's story in order ("pretrained at first use (fit at train.py:40)",
    "re-initialised at train.py:52", "random at the end"); `informative`, `equal`,
    `correlated` the tensor counts behind the verdict; `model` the transformers model whose
    constructor built the layer (`location` is then that model's construction in the
    user's code), None for a layer built on its own.
    """

    class_name: str
    location: str | None
    name: str
    trainable: bool
    status: Status
    detail: str
    checkpoint: str | None
    source: str | None = None
    config_checkpoint: str | None = None
    sources: tuple[str, ...] = ()
    remapped: int = 0
    mapping: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    informative: int = 0
    equal: int = 0
    correlated: int = 0
    model: str | None = None

    @property
    def ok(self) -> bool:
        """True when the layer holds its checkpoint's weights, or was trained from them."""
        return self.status in GOOD_STATUSES

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (keys as in the dataclass)."""
        return asdict(self)


def relative_location(location: str | None) -> str | None:
    """`file:line` with the file relative to the working directory when it is below it."""
    if location is None:
        return None
    path, _, line = location.rpartition(":")
    try:
        shown = os.path.relpath(path)
    except ValueError:  # another drive, on Windows
        shown = path
    if shown.startswith(os.pardir):
        shown = path
    return f"{shown}:{line}"


def exit_code(reports: Sequence[LayerReport]) -> int:
    """0 when every built main layer is `pretrained` or `fine-tuned`, else 1.

    Unbuilt layers hold no weights, so they cannot run with random ones: they do not count.
    An `incomplete` layer (built only in part) counts as not pretrained.
    """
    return 0 if all(r.ok for r in reports if r.status != "unbuilt") else 1


_COLUMNS = ("STATUS", "CLASS", "NAME", "TRAINABLE", "LOCATION", "CHECKPOINT")


def format_table(reports: Sequence[LayerReport]) -> str:
    """An aligned table, one row per layer, each followed by its indented detail line."""
    if not reports:
        return "no transformers main layer was constructed\n"
    rows = [
        (
            r.status,
            r.class_name if r.model is None else f"{r.class_name} (in {r.model})",
            r.name,
            "yes" if r.trainable else "no",
            r.location or "-",
            r.checkpoint or "-",
        )
        for r in reports
    ]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(_COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(_COLUMNS, widths)).rstrip()]
    for row, report in zip(rows, reports):
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
        lines.append(f"    {report.detail}")
    return "\n".join(lines) + "\n"


def to_json(
    reports: Sequence[LayerReport],
    *,
    script: str | None = None,
    exit_status: int | None = None,
    stopped_at: str | None = None,
    error: str | None = None,
) -> str:
    """The reports and how the run ended, as one JSON document."""
    payload: dict[str, Any] = {
        "script": script,
        "exit_code": exit_status,
        "stopped_at": stopped_at,
        "error": error,
        "layers": [r.to_dict() for r in reports],
    }
    return json.dumps(payload, indent=2) + "\n"
