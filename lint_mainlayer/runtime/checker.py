"""Judging live main layers against the checkpoints their weights could have come from.

A layer is compared with each candidate checkpoint's files one tensor at a time
(`sources`): by name first, then, for a tensor equal to none of its name-paired tensors and
correlated with none, by value (a remapped copy). The verdict follows
`lint_mainlayer.runtime.compare`; which checkpoints supplied the tensors is the layer's
*source*.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lint_mainlayer import registry
from lint_mainlayer.runtime import weights
from lint_mainlayer.runtime.compare import (
    CORRELATION_THRESHOLD,
    Comparison,
    Outcome,
    is_constant,
    relate,
    tally,
)
from lint_mainlayer.runtime.report import LayerReport
from lint_mainlayer.runtime.sources import Checkpoint, Library, SourceError, from_reference, sample, split_name

# A layer counts as re-initialised when at least this share of its informative tensors
# was assigned after its first use and no longer correlates with its values then.
REINITIALISED_FRACTION = 0.5
_MAPPING_LINES = 8


@dataclass(frozen=True)
class Judgement:
    """A comparison with candidate checkpoints, and where the matching tensors were."""

    comparison: Comparison
    source: str | None = None
    sources: tuple[str, ...] = ()
    mapping: tuple[str, ...] = ()
    # Per tensor of the layer (in `weights.ordered_weights` order): its variable's id and a
    # small fixed sample of its values (kept at first use, to tell training from re-init).
    variable_ids: tuple[int, ...] = ()
    samples: tuple[Any, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FirstUse:
    """The verdict taken when a model holding the layer was first used."""

    where: str  # "fit at train.py:40"
    comparison: Comparison
    source: str | None = None
    variable_ids: tuple[int, ...] = ()
    samples: tuple[Any, ...] = field(default=(), repr=False)

    @classmethod
    def of(cls, where: str, judgement: Judgement) -> FirstUse:
        """The first-use record of a judgement (its samples are compact: ~0.5 kB a tensor)."""
        return cls(where, judgement.comparison, judgement.source, judgement.variable_ids, judgement.samples)


def configured_checkpoint(layer: Any) -> str | None:
    """The config's `name_or_path`, when set (AutoConfig and PyTorch loading set it)."""
    config = weights.layer_config(layer)
    name = getattr(config, "name_or_path", None) if config is not None else None
    return str(name) if name else None


def open_candidates(
    labels: Sequence[str],
    layer: Any,
    entry: registry.MainLayer,
    extras: dict[str, Any] | None,
    library: Library,
) -> tuple[list[Checkpoint], list[str]]:
    """The candidate checkpoints that can be read, and why the others cannot.

    Files are read directly; the first candidate alone may fall back to loading through
    the model class (a hub name not in the cache, a PyTorch-only folder), as that costs a
    second model.
    """
    opened: list[Checkpoint] = []
    problems: list[str] = []
    for position, label in enumerate(dict.fromkeys(labels)):
        try:
            opened.append(library.get(label))
            continue
        except SourceError as exc:
            problem = str(exc)
        if position == 0:
            key = f"reference:{label}:{entry.name}:{weights._config_key(weights.layer_config(layer))}"
            cached = library.opened.get(key)
            if isinstance(cached, Checkpoint):
                opened.append(cached)
                continue
            try:
                reference = weights.load_reference(entry, label, layer, extras)
            except weights.NoReferenceError as exc:
                problem = str(exc)
            else:
                checkpoint = from_reference(label, reference.names, reference.values, reference.loaded)
                library.add(key, checkpoint)
                opened.append(checkpoint)
                continue
        problems.append(problem)
    return opened, problems


def judge(layer: Any, checkpoints: Sequence[Checkpoint], *, keep_samples: bool = False) -> Judgement:
    """Compare a built layer's current weights with `checkpoints` (preferred first)."""
    outcomes: list[Outcome] = []
    equal_from: collections.Counter[str] = collections.Counter()
    related_from: collections.Counter[str] = collections.Counter()
    moves: collections.Counter[tuple[str, str]] = collections.Counter()
    samples: list[Any] = []
    variables = weights.ordered_weights(layer)
    prefix = _common_prefix([split_name(v.name) for v in variables])
    for variable in variables:
        value = weights.read_value(variable)
        path = split_name(variable.name)
        if keep_samples:
            samples.append(sample(value))
        outcome, label, moved_from = _judge_tensor(value, path, checkpoints)
        outcomes.append(outcome)
        if label is not None:
            (equal_from if outcome.kind == "equal" else related_from)[label] += 1
        if moved_from is not None:
            moves[_move(path[len(prefix):], moved_from)] += 1
        del value
    comparison = tally(outcomes)
    ranked = [label for label, _ in (equal_from + related_from).most_common()]
    order = {c.label: i for i, c in enumerate(checkpoints)}
    best = sorted(ranked, key=lambda lb: (-(equal_from[lb] + related_from[lb]), order.get(lb, 0)))
    mapping = [f"{mine} <- {theirs} ({n} tensor{'s' if n > 1 else ''})" for (mine, theirs), n in moves.most_common()]
    if len(mapping) > _MAPPING_LINES:
        mapping[_MAPPING_LINES - 1:] = [f"... {len(moves) - _MAPPING_LINES + 1} more moves"]
    return Judgement(
        comparison=comparison,
        source=best[0] if best and comparison.status in ("pretrained", "fine-tuned") else None,
        sources=tuple(sorted(equal_from, key=lambda lb: (-equal_from[lb], order.get(lb, 0)))),
        mapping=tuple(mapping),
        variable_ids=tuple(id(v) for v in variables),
        samples=tuple(samples),
    )


def _judge_tensor(value: Any, path: tuple[str, ...], checkpoints: Sequence[Checkpoint]) -> tuple[Outcome, str | None, str | None]:
    """The outcome for one tensor, the checkpoint it came from, and the name it was moved
    from when it equals a checkpoint tensor other than its name pair."""
    best: tuple[Outcome, str] | None = None
    paired: dict[str, str] = {}
    other_shape = False
    for checkpoint in checkpoints:
        name = checkpoint.pair(path)
        if name is None:
            continue
        if checkpoint.shapes[name] != tuple(value.shape):
            other_shape = True
            continue
        paired[checkpoint.label] = name
        reference = checkpoint.read(name)
        if is_constant(reference):
            # Zero biases and unit scales equal any fresh layer's: no evidence either way.
            return Outcome("constant"), None, None
        same, r = relate(value, reference)
        del reference
        if same:
            return Outcome("equal", r), checkpoint.label, None
        if best is None or r > best[0].r:
            outcome = Outcome("correlated" if r >= CORRELATION_THRESHOLD else "unrelated", r)
            best = (outcome, checkpoint.label)
    if best is not None and best[0].kind == "correlated":
        return best[0], best[1], None
    if not is_constant(value):
        for checkpoint in checkpoints:
            own = paired.get(checkpoint.label)
            found = checkpoint.find_by_value(value, exclude=own)
            if found is not None:
                moved = own is not None
                origin = "/".join(checkpoint.path_of(found)) if moved else None
                return Outcome("equal", 1.0, remapped=moved), checkpoint.label, origin
    if best is not None:
        return best[0], None, None
    return Outcome("mismatched" if other_shape else "absent"), None, None


def _common_prefix(paths: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    if not paths:
        return ()
    first = paths[0]
    length = 0
    while all(len(p) > length + 1 and p[length] == first[length] for p in paths):
        length += 1
    return first[:length]


def _move(mine: tuple[str, ...], theirs: str) -> tuple[str, str]:
    # "encoder/layer_._0 <- encoder/layer_._1": drop the shared tail (attention/.../kernel)
    # and keep the two last differing components, which name the block that moved.
    other = tuple(theirs.split("/"))
    shared = 0
    while shared < min(len(mine), len(other)) - 1 and mine[-1 - shared] == other[-1 - shared]:
        shared += 1
    head_mine = mine[: len(mine) - shared] or mine
    head_other = other[: len(other) - shared] or other
    return "/".join(head_mine[-2:]), "/".join(head_other[-2:])


def evaluate(
    layer: Any,
    *,
    checkpoint: str | None,
    no_checkpoint_reason: str,
    location: str | None = None,
    extras: dict[str, Any] | None = None,
    first_use: FirstUse | None = None,
    candidates: Sequence[str] = (),
    config_checkpoint: str | None = None,
    library: Library | None = None,
    events: Sequence[tuple[str, str, str | None]] = (),
    reassigned: Mapping[int, str] | None = None,
    failed: bool = False,
) -> LayerReport:
    """The report on one main layer, never raising for a layer it cannot judge.

    `checkpoint` is the preferred candidate (the one `--checkpoint` names, or the one the
    layer's weights were loaded from); `candidates` are the others the run named.
    `events` and `reassigned` come from the recorder: what happened to the weights, and
    which variables were assigned after the first use.
    """
    entry = weights.main_layer_entry(layer)
    class_name = type(layer).__name__
    history = [_event_text(kind, text, where, first_use) for kind, text, where in events if kind != "assign"]

    def report(status: Any, detail: str, judgement: Judgement | None = None, end: list[str] | None = None) -> LayerReport:
        comparison = judgement.comparison if judgement is not None else None
        source = judgement.source if judgement is not None else None
        return LayerReport(
            class_name=class_name,
            location=location,
            name=str(getattr(layer, "name", "?")),
            trainable=bool(getattr(layer, "trainable", True)),
            status=status,
            detail=detail,
            checkpoint=source or checkpoint or config_checkpoint,
            source=source,
            config_checkpoint=config_checkpoint,
            sources=judgement.sources if judgement is not None else (),
            remapped=comparison.remapped if comparison is not None else 0,
            mapping=judgement.mapping if judgement is not None else (),
            history=tuple(end if end is not None else history),
            informative=comparison.informative if comparison is not None else 0,
            equal=comparison.equal if comparison is not None else 0,
            correlated=comparison.correlated if comparison is not None else 0,
        )

    if not getattr(layer, "built", False) or not weights.ordered_weights(layer):
        return report("unbuilt", "never called or built: it holds no weights")
    missing = weights.unbuilt_parts(layer)
    if missing:
        shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        why = "the script failed while it was being built" if failed else "its build did not finish"
        return report("incomplete", f"only part of it holds weights ({shown} not built): {why}")
    if entry is None:
        return report("unknown", f"{class_name} is not in the main-layer registry")
    labels = [label for label in dict.fromkeys([checkpoint, *candidates]) if label]
    if not labels:
        return report("unknown", no_checkpoint_reason)
    own_library = library is None
    library = library if library is not None else Library()
    try:
        opened, problems = open_candidates(labels, layer, entry, extras, library)
        if not opened:
            return report("unknown", f"cannot compare: {problems[0]}")
        judgement = judge(layer, opened, keep_samples=first_use is not None and bool(first_use.samples))
    finally:
        if own_library:
            library.close()
    comparison = judgement.comparison
    origin = _origin(judgement.source, config_checkpoint, judgement)
    detail = comparison.detail + origin
    if first_use is None:
        return report(comparison.status, detail, judgement, history + _end(comparison.status, events))
    earlier = first_use.comparison
    then = f"; at its first use ({first_use.where}) it was {earlier.status}"
    if comparison.status in ("pretrained", "fine-tuned", "unknown") or earlier.status not in ("pretrained", "fine-tuned"):
        return report(comparison.status, detail + then, judgement, history + _end(comparison.status, events))
    reinitialised = _reinitialised(first_use, judgement, reassigned or {})
    if reinitialised is not None:
        where = reinitialised
        end = [
            *(
                f"re-initialised at {_rel(w)}" if k == "assign" and w == where else _event_text(k, t, w, first_use)
                for k, t, w in events
                if k != "assign" or w == where
            ),
            "random at the end",
        ]
        return report(
            "random",
            f"re-initialised at {_rel(where)} after its first use ({first_use.where}), where it was "
            f"{earlier.status}: {comparison.detail}",
            judgement,
            end,
        )
    # Watched: equal to the checkpoint when training began, so whatever training did since,
    # the weights derive from it.
    trained = Judgement(
        Comparison(
            "fine-tuned", comparison.detail, comparison.informative, comparison.equal,
            comparison.correlated, comparison.median_correlation, comparison.remapped,
        ),
        first_use.source, judgement.sources, judgement.mapping,
    )
    return report(
        "fine-tuned",
        f"equal to the checkpoint at its first use ({first_use.where}), trained far from "
        f"it since: {comparison.detail}{_origin(first_use.source, config_checkpoint, trained)}",
        trained,
        history + ["fine-tuned at the end"],
    )


def _reinitialised(first_use: FirstUse, judgement: Judgement, reassigned: Mapping[int, str]) -> str | None:
    """Where the layer was re-initialised after its first use, or None if it was not:
    most of its tensors were assigned eagerly since and no longer correlate with their
    values at first use (training keeps them correlated; fresh random values do not)."""
    if not reassigned or not first_use.samples or not judgement.samples:
        return None
    then = dict(zip(first_use.variable_ids, first_use.samples))
    counted = 0
    fresh: collections.Counter[str] = collections.Counter()
    for variable_id, now in zip(judgement.variable_ids, judgement.samples):
        before = then.get(variable_id)
        if before is None or is_constant(before):
            continue
        counted += 1
        where = reassigned.get(variable_id)
        if where is not None and relate(before, now)[1] < CORRELATION_THRESHOLD:
            fresh[where] += 1
    if counted and sum(fresh.values()) >= REINITIALISED_FRACTION * counted:
        return fresh.most_common(1)[0][0]
    return None


def _origin(source: str | None, config_checkpoint: str | None, judgement: Judgement) -> str:
    parts = []
    if source is not None:
        parts.append(f"from {source}")
        if config_checkpoint is not None and config_checkpoint != source:
            parts.append(f"its config came from {config_checkpoint}")
        others = [s for s in judgement.sources if s != source]
        if others:
            parts.append(f"some tensors from {', '.join(others)}")
    if judgement.mapping:
        parts.append(f"remapped: {'; '.join(judgement.mapping)}")
    return f"; {'; '.join(parts)}" if parts else ""


def _end(status: str, events: Sequence[tuple[str, str, str | None]]) -> list[str]:
    return [f"{status} at the end"] if events else []


def _event_text(kind: str, text: str, where: str | None, first_use: FirstUse | None) -> str:
    if kind == "use":
        if first_use is not None:
            return f"{first_use.comparison.status} at first use ({text})"
        return f"first use ({text})"
    return f"{text} at {_rel(where)}"


def _rel(where: str | None) -> str:
    from lint_mainlayer.runtime.report import relative_location

    return relative_location(where) or "?"


def check(layer_or_model: Any, checkpoint: str | None = None) -> list[LayerReport]:
    """Report, for each transformers main layer in `layer_or_model`, whether it holds the
    weights of `checkpoint`.

    `checkpoint` is a hub name (from the local cache), a local folder or a weights file;
    when omitted, the layer's `config.name_or_path` is used (empty for configs loaded with
    `XConfig.from_pretrained` in transformers 4.57, so pass it). Each layer is compared
    with the checkpoint's files tensor by tensor (see `lint_mainlayer.runtime.compare`
    for the rule); checkpoints that are no files of TF weights are loaded through
    `<BaseModel>.from_pretrained(checkpoint).<field>` instead. Status is one of
    `pretrained`, `fine-tuned`, `random`, `unbuilt`, `incomplete`, `unknown` (with the
    reason in `detail`).
    """
    from lint_mainlayer.runtime.recorder import suspended

    reports = []
    library = Library()
    try:
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
                        library=library,
                    )
                )
    finally:
        library.close()
        weights.clear_cache()
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


def candidate_order(
    checkpoint: str | None,
    loads: Sequence[str],
    loaded_from: str | None,
    config_checkpoint: str | None,
    seen: Sequence[str],
    resolve: Callable[[str], str],
) -> list[str]:
    """The checkpoints to judge a recorded layer against, preferred first: `--checkpoint`
    alone when given; else the files loaded into it (latest first), the `from_pretrained`
    that built it, its config's checkpoint, and every other checkpoint the run named."""
    if checkpoint:
        return [resolve(checkpoint)]
    ordered = [*reversed(loads), loaded_from, config_checkpoint, *reversed(seen)]
    return list(dict.fromkeys(resolve(n) for n in ordered if n))
