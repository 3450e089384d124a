"""Runs differential scripts under the runtime checker, many scripts per process.

TensorFlow and transformers take seconds to import: a pool of long-lived worker
processes (`run_all`) imports them once each, then runs script after script in process
through `lint_mainlayer.runtime.runner.run_script` (what `lint-mainlayer verify` runs).
Workers are spawned, not forked: the parent (pytest) may have imported TensorFlow, which
does not survive a fork. The pool outlives one `run_all`: every runtime test module that
runs scripts with the same environment shares its workers (and their TensorFlow import).

A project's script (fixtures/runtime/project/) imports its own package: its job names the
folders to import from (`paths`, as an editable install would), and every module imported
from the script's folder or those paths is dropped from `sys.modules` after the job, so
that the next project's `modeling` is its own.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import io
import multiprocessing
import os
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Recorded:
    """One main layer the script constructed, as the checker judged it."""

    file: str  # the file of the construction's call site ("" when unknown)
    line: int  # 0 when unknown
    class_name: str
    status: str
    detail: str


@dataclass(frozen=True)
class Run:
    """One script's run: the layers it built, its failure if any, its output and time."""

    script: str
    layers: tuple[Recorded, ...]
    error: str | None
    output: str
    seconds: float

    def on_line(self, path: str | Path, line: int) -> list[Recorded]:
        """The layers built on `line` of the file at `path`."""
        return [layer for layer in self.layers if layer.line == line and same_file(layer.file, path)]

    def statuses(self, path: str | Path, line: int) -> list[str]:
        return [layer.status for layer in self.on_line(path, line)]

    def explain(self, path: str | Path, line: int) -> str:
        details = [f"  {layer.class_name}: {layer.status}: {layer.detail}" for layer in self.on_line(path, line)]
        return "\n".join(details) or "  (nothing recorded on that line)"

    def failure(self) -> str:
        return f"{self.script} failed:\n{self.error}\n--- its output ---\n{self.output}"


@dataclass(frozen=True)
class Job:
    script: str
    checkpoint: str  # every layer the script builds is compared with this folder
    workdir: str  # the script's working directory (empty, its own)
    paths: tuple[str, ...] = ()  # folders its imports are found in, besides the script's own


def worker_environment(checkpoints: Mapping[str, Path]) -> dict[str, str]:
    """The workers' environment: Keras 2, offline, quiet, and `LML_CKPT_<ARCH>` for every
    tiny checkpoint (the differential test builds the same one, so the two share workers)."""
    from runtime_support import TINY

    return {
        "TF_USE_LEGACY_KERAS": "1",
        "HF_HUB_OFFLINE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TRANSFORMERS_VERBOSITY": "error",
        **{f"LML_CKPT_{arch.upper()}": str(checkpoints[arch]) for arch in TINY},
    }


def _start(environment: Mapping[str, str]) -> None:
    os.environ.update(environment)
    # Imported project modules must not leave __pycache__ folders in the fixtures.
    sys.dont_write_bytecode = True
    import tensorflow  # noqa: F401 - once per worker, which is the point
    import transformers

    transformers.logging.set_verbosity_error()


def run_one(job: Job) -> Run:
    """Run one script in this (worker) process and report what it built."""
    import tf_keras

    from lint_mainlayer.runtime.runner import run_script

    # Keras numbers unnamed layers per session (tf_bert_main_layer_1, ...): each script
    # starts from a fresh session, as it would in its own process.
    tf_keras.backend.clear_session()
    output = io.StringIO()
    start = time.monotonic()
    here = os.getcwd()
    roots = (os.path.dirname(os.path.abspath(job.script)), *job.paths)
    forget_modules(roots)
    saved_path = sys.path[:]
    sys.path[:0] = job.paths  # run_script puts the script's own folder before them
    os.chdir(job.workdir)
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            result = run_script(job.script, checkpoint=job.checkpoint)
    finally:
        os.chdir(here)
        sys.path[:] = saved_path
        forget_modules(roots)
    layers = []
    for report in result.reports:
        file, _, line = (report.location or "").rpartition(":")
        layers.append(
            Recorded(
                file=os.path.abspath(os.path.join(job.workdir, file)) if file else "",
                line=int(line) if line.isdigit() else 0,
                class_name=report.class_name,
                status=report.status,
                detail=report.detail,
            )
        )
    return Run(job.script, tuple(layers), result.error, output.getvalue()[-6000:], time.monotonic() - start)


def forget_modules(roots: Sequence[str]) -> None:
    """Drop every module imported from below `roots` (a project's own), and the finders'
    cached folder listings."""
    # Modules found on a sys.path entry carry that entry's spelling: no realpath per module.
    prefixes = tuple({os.path.join(f(root), "") for root in roots for f in (os.path.abspath, os.path.realpath)})
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.startswith(prefixes):
            del sys.modules[name]
    importlib.invalidate_caches()


# Worker pools by (environment, size), kept for the session.
_POOLS: dict[tuple[tuple[tuple[str, str], ...], int], ProcessPoolExecutor] = {}


def _pool(environment: Mapping[str, str], workers: int) -> ProcessPoolExecutor:
    key = (tuple(sorted(environment.items())), workers)
    if key not in _POOLS:
        context = multiprocessing.get_context("spawn")
        _POOLS[key] = ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=(dict(environment),))
    return _POOLS[key]


def _drop(pool: ProcessPoolExecutor) -> None:
    """Forget the pool and kill its workers (one may be stuck in a script)."""
    for key, value in list(_POOLS.items()):
        if value is pool:
            del _POOLS[key]
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()


@atexit.register
def shutdown_pools() -> None:
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


def run_all(
    jobs: Sequence[Job], environment: Mapping[str, str], workers: int = 2, timeout: float = 1200
) -> dict[str, Run]:
    """Run every job in `workers` spawned processes; results by script path.

    A script that hangs (or a worker that dies) cannot hang the test session: after
    `timeout` seconds the workers are killed and TimeoutError names the unfinished scripts.
    """
    if not jobs:
        return {}
    pool = _pool(environment, workers)
    try:
        futures = {pool.submit(run_one, job): job for job in jobs}
        _, pending = wait(futures, timeout=timeout)
        if pending:
            _drop(pool)  # a hung script never returns: its worker must go
            unfinished = ", ".join(Path(futures[f].script).name for f in pending)
            raise TimeoutError(f"differential scripts unfinished after {timeout:.0f} s: {unfinished}")
        runs = [future.result() for future in futures]
    except BrokenProcessPool:
        _drop(pool)  # a worker died: the next run starts a new pool
        raise
    return {run.script: run for run in runs}


def same_file(a: str, b: str | Path) -> bool:
    return bool(a) and os.path.realpath(a) == os.path.realpath(b)
