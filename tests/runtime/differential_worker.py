"""Runs differential scripts under the runtime checker, many scripts per process.

TensorFlow and transformers take seconds to import: a pool of long-lived worker
processes (`run_all`) imports them once each, then runs script after script in process
through `lint_mainlayer.runtime.runner.run_script` (what `lint-mainlayer verify` runs).
Workers are spawned, not forked: the parent (pytest) may have imported TensorFlow, which
does not survive a fork.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
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


@dataclass(frozen=True)
class Job:
    script: str
    checkpoint: str  # every layer the script builds is compared with this folder
    workdir: str  # the script's working directory (empty, its own)


def _start(environment: Mapping[str, str]) -> None:
    os.environ.update(environment)
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
    os.chdir(job.workdir)
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            result = run_script(job.script, checkpoint=job.checkpoint)
    finally:
        os.chdir(here)
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


def run_all(
    jobs: Sequence[Job], environment: Mapping[str, str], workers: int = 2, timeout: float = 1200
) -> dict[str, Run]:
    """Run every job in `workers` spawned processes; results by script path.

    A script that hangs (or a worker that dies) cannot hang the test session: after
    `timeout` seconds the workers are killed and TimeoutError names the unfinished scripts.
    """
    if not jobs:
        return {}
    context = multiprocessing.get_context("spawn")
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(
        min(workers, len(jobs)), mp_context=context, initializer=_start, initargs=(dict(environment),)
    )
    try:
        futures = {pool.submit(run_one, job): job for job in jobs}
        _, pending = wait(futures, timeout=timeout)
        if pending:
            for child in set(multiprocessing.active_children()) - before:
                child.kill()
            unfinished = ", ".join(Path(futures[f].script).name for f in pending)
            raise TimeoutError(f"differential scripts unfinished after {timeout:.0f} s: {unfinished}")
        runs = [future.result() for future in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return {run.script: run for run in runs}


def same_file(a: str, b: str | Path) -> bool:
    return bool(a) and os.path.realpath(a) == os.path.realpath(b)
