"""Running a user's script under the recorder, and judging what it built."""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from lint_mainlayer.runtime.report import LayerReport, relative_location

if TYPE_CHECKING:
    from typing_extensions import Self


@dataclass(frozen=True)
class RunResult:
    """How the script ended and the verdict on each main layer it constructed."""

    reports: tuple[LayerReport, ...]
    # The script's traceback (or "exited with status N") when it failed, else None.
    error: str | None = None
    # "fit at train.py:40" when `stop_at_first_use` stopped it there.
    stopped_at: str | None = None


class Progress:
    """Progress lines on stderr, only when it is a terminal, plus a heartbeat for long runs."""

    def __init__(self, enabled: bool, interval: float = 30.0) -> None:
        self.enabled = enabled
        self.interval = interval
        self.start = time.monotonic()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.layers = 0

    def __call__(self, message: str) -> None:
        if "constructed" in message:
            self.layers += 1
        if self.enabled:
            print(f"[verify {self._elapsed()}] {message}", file=sys.stderr, flush=True)

    def _elapsed(self) -> str:
        seconds = int(time.monotonic() - self.start)
        return f"{seconds // 60}:{seconds % 60:02d}"

    def __enter__(self) -> Self:
        if self.enabled:
            self._thread = threading.Thread(target=self._beat, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()

    def _beat(self) -> None:
        while not self._done.wait(self.interval):
            self(f"still running; {self.layers} main layer(s) recorded so far")


def config_checkpoint(record: Any, recorder: Any) -> str | None:
    """The checkpoint a recorded layer's config came from: its `name_or_path`, the
    `from_pretrained` that read it, or the folder of the `config.json` it equals."""
    from lint_mainlayer.runtime.checker import configured_checkpoint

    config = record.config
    return (
        configured_checkpoint(record.layer)
        or (recorder.config_source(config) if config is not None else None)
        or (recorder.config_file_source(config) if config is not None else None)
    )


def resolve_checkpoint(
    record: Any,
    recorder: Any,
    checkpoint: str | None,
    mapping: Mapping[str, str],
) -> tuple[list[str], str | None, str]:
    """The checkpoints to judge a recorded layer against (preferred first), its config's
    checkpoint, and why there is no candidate when there is none.

    Order: `--checkpoint` alone when given; else the files loaded into a model holding the
    layer (latest first), the `from_pretrained` that built it, its config's checkpoint,
    then every other checkpoint the run named (latest first). `--map NAME=DIR` redirects a
    name to a local folder.
    """
    from lint_mainlayer.runtime.checker import candidate_order

    def resolve(name: str) -> str:
        return mapping.get(name, name)

    from_config = config_checkpoint(record, recorder)
    labels = candidate_order(checkpoint, record.loads, record.loaded_from, from_config, recorder.checkpoints, resolve)
    reason = "" if labels else (
        "no checkpoint to compare with: the script loaded no checkpoint and the layer's config "
        "names none; pass --checkpoint"
    )
    return labels, resolve(from_config) if from_config else None, reason


def run_script(
    script: str,
    args: Sequence[str] = (),
    *,
    checkpoint: str | None = None,
    mapping: Mapping[str, str] | None = None,
    stop_at_first_use: bool = False,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Run `script` as `python script args...` would, then judge every main layer it built.

    The script runs in this process (`runpy`, `__name__ == "__main__"`, `sys.argv` and
    `sys.path[0]` set as Python sets them); all patches are undone afterwards.
    """
    # transformers' TF classes need Keras 2 (tf-keras); the script may still set it itself.
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    from lint_mainlayer.runtime.checker import FirstUse, evaluate, judge, open_candidates
    from lint_mainlayer.runtime.recorder import Recorder, StopScript, suspended
    from lint_mainlayer.runtime.sources import Library
    from lint_mainlayer.runtime.weights import clear_cache, in_fresh_thread

    mapping = dict(mapping or {})
    script_path = os.path.abspath(script)
    library = Library()

    def judge_first_use(record: Any, where: str) -> FirstUse | None:
        labels, _, _ = resolve_checkpoint(record, recorder, checkpoint, mapping)
        if not labels:
            return None

        def first_use() -> FirstUse | None:
            opened, _ = open_candidates(labels, record.layer, record.entry, record.extras, library)
            if not opened:
                return None
            return FirstUse.of(where, judge(record.layer, opened, keep_samples=True))

        try:
            # A first use may be deep inside a tf.function being traced: in this thread,
            # autograph would convert the checker's own code and graph scopes would apply.
            return in_fresh_thread(first_use)
        except Exception:  # noqa: BLE001 - never break the user's script; the final check reports
            return None

    recorder = Recorder(stop_at_first_use=stop_at_first_use, judge=judge_first_use, progress=progress)
    error: str | None = None
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(script_path))
    try:
        with recorder:
            if progress is not None:
                progress(f"running {script}")
            try:
                runpy.run_path(script_path, run_name="__main__")
            except StopScript:
                pass
            except SystemExit as exc:
                if exc.code not in (None, 0):
                    error = f"the script exited with status {exc.code}"
            except BaseException as exc:  # noqa: BLE001 - the script's failure is reported
                error = _script_traceback(exc, script_path)
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path

    reports = []
    try:
        with suspended():
            for record in recorder.records:
                labels, from_config, reason = resolve_checkpoint(record, recorder, checkpoint, mapping)
                report = evaluate(
                    record.layer,
                    checkpoint=labels[0] if labels else None,
                    candidates=labels[1:],
                    config_checkpoint=from_config,
                    no_checkpoint_reason=reason,
                    location=relative_location(record.location),
                    extras=record.extras,
                    first_use=record.first_use,
                    library=library,
                    events=record.events,
                    reassigned=record.reassigned,
                    failed=error is not None,
                )
                reports.append(replace(report, model=record.model))
    finally:
        # Open files, fingerprints and any fallback reference model: a run is done with them.
        library.close()
        clear_cache()
    return RunResult(tuple(reports), error, recorder.stopped_at)


def _script_traceback(exc: BaseException, script_path: str) -> str:
    # Drop the frames of runpy and of this module, which the user did not write.
    tb = exc.__traceback__
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != script_path:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))
