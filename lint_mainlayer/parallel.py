"""Run one function over many items in worker processes, results in the items' order.

An exception in the function, or a worker process that dies (a crash in a native parser,
the out-of-memory killer), becomes a `Failed` result for that item alone: a dead worker
breaks the whole pool, so the items that were in flight when it died are run again one per
fresh process, and only the item that kills its process again is marked failed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

from lint_mainlayer.records import record

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")
R = TypeVar("R")


@record(frozen=True)
class Failed:
    """An item whose function raised or whose worker process died; `reason` is one line."""

    reason: str


def call_safely(fn: Callable[[T], R], item: T) -> R | Failed:
    """`fn(item)`, or `Failed` with the exception's type and first line."""
    try:
        return fn(item)
    except Exception as exc:  # noqa: BLE001 - a bug becomes one item's error, not the run's
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return Failed(f"{type(exc).__name__}: {first}" if first else type(exc).__name__)


@record
class _Run(Generic[T, R]):
    fn: Callable[[T], R]
    items: Sequence[T]
    results: list[R | Failed | None]


def map_ordered(fn: Callable[[T], R], items: Sequence[T], jobs: int) -> list[R | Failed]:
    """`[fn(item) for item in items]` over `jobs` processes; `fn` must be picklable (a
    module-level function), as must the items and results."""
    run: _Run[T, R] = _Run(fn, items, [None] * len(items))
    todo = deque(range(len(items)))
    while todo:
        before = len(todo)
        suspects = _pool_round(run, todo, jobs)
        if not suspects and len(todo) == before:
            # No process could even start (fork refused): do the rest here.
            while todo:
                index = todo.popleft()
                run.results[index] = call_safely(fn, items[index])
            break
        for index in suspects:
            alone = deque([index])
            if _pool_round(run, alone, 1) or alone:
                run.results[index] = Failed("the worker process checking it died")
    return [r if r is not None else Failed("no result") for r in run.results]


def _pool_round(run: _Run[T, R], todo: deque[int], jobs: int) -> list[int]:
    """Run items from `todo` in one pool until it is empty or the pool breaks; return the
    items that were in flight when it broke."""
    # Imported here: most runs never start a worker, and the import is not free.
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    in_flight: dict[Future[R | Failed], int] = {}
    broken: list[int] = []
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(todo)))) as pool:
        while (todo or in_flight) and not broken:
            # Two per worker keep them busy while bounding what a crash puts in doubt.
            while todo and len(in_flight) < 2 * jobs:
                index = todo[0]
                try:
                    future = pool.submit(call_safely, run.fn, run.items[index])
                except BrokenProcessPool:
                    broken.extend(in_flight.values())
                    return broken
                todo.popleft()
                in_flight[future] = index
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                index = in_flight.pop(future)
                try:
                    run.results[index] = future.result()
                except BrokenProcessPool:
                    broken.append(index)
                except Exception as exc:  # noqa: BLE001 - a result that could not be pickled back
                    run.results[index] = Failed(f"{type(exc).__name__}: {exc}".splitlines()[0])
            if broken:
                broken.extend(in_flight.values())
    return broken
