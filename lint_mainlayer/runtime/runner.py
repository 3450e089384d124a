"""Running a user's script under the recorder, and judging what it built."""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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


def resolve_checkpoint(
    record: Any,
    recorder: Any,
    checkpoint: str | None,
    mapping: Mapping[str, str],
) -> tuple[str | None, str]:
    """The checkpoint to compare a recorded layer with, or None and why there is none.

    Order: `--checkpoint`; the `from_pretrained` that built the layer; the config's
    `name_or_path`; the `from_pretrained` the config came from. `--map NAME=DIR` then
    redirects a name to a local folder.
    """
    from lint_mainlayer.runtime.checker import configured_checkpoint

    name = (
        checkpoint
        or record.loaded_from
        or configured_checkpoint(record.layer)
        or (recorder.config_source(record.config) if record.config is not None else None)
    )
    if name is None:
        return None, (
            "no checkpoint to compare with: the layer's config was not loaded with "
            "from_pretrained in this run and has no name_or_path; pass --checkpoint"
        )
    return mapping.get(name, name), ""


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
    from lint_mainlayer.runtime.checker import FirstUse, compare_layer, evaluate
    from lint_mainlayer.runtime.recorder import Recorder, StopScript, suspended
    from lint_mainlayer.runtime.weights import clear_cache

    mapping = dict(mapping or {})
    script_path = os.path.abspath(script)

    def judge(record: Any, where: str) -> FirstUse | None:
        name, _ = resolve_checkpoint(record, recorder, checkpoint, mapping)
        if name is None:
            return None
        try:
            return FirstUse(where, compare_layer(record.layer, record.entry, name, record.extras))
        except Exception:  # noqa: BLE001 - never break the user's script; the final check reports
            return None

    recorder = Recorder(stop_at_first_use=stop_at_first_use, judge=judge, progress=progress)
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
    with suspended():
        for record in recorder.records:
            name, reason = resolve_checkpoint(record, recorder, checkpoint, mapping)
            reports.append(
                evaluate(
                    record.layer,
                    checkpoint=name,
                    no_checkpoint_reason=reason,
                    location=relative_location(record.location),
                    extras=record.extras,
                    first_use=record.first_use,
                )
            )
    # The references hold a copy of every checkpoint weight; a run is done with them.
    clear_cache()
    return RunResult(tuple(reports), error, recorder.stopped_at)


def _script_traceback(exc: BaseException, script_path: str) -> str:
    # Drop the frames of runpy and of this module, which the user did not write.
    tb = exc.__traceback__
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != script_path:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))
