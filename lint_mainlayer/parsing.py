"""Parsing with libcst without crashing the process: a result, never an exception.

libcst's native parser recurses on the C stack: nesting that CPython itself refuses, or a
long flat chain (`a and a and ...`), overflows the main thread's 8 MB and kills the process.
Such sources are refused up front (Python's own parse says so), and the rest is parsed on a
thread with a big stack, which is only reserved address space until used.
"""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

import libcst as cst

from lint_mainlayer.prefilter import python_facts, too_large

T = TypeVar("T")
_PARSE_STACK_BYTES = 1 << 30


def parse(source: str) -> cst.Module | str:
    """The libcst module of `source`, or a one-line reason it cannot be parsed."""
    reason = too_large(source)
    if reason is not None:
        return reason
    facts = python_facts(source)
    if facts.too_nested:
        return "too deeply nested to parse"
    try:
        return _on_a_big_stack(cst.parse_module, source)
    except cst.ParserSyntaxError as exc:
        return facts.syntax_error or f"cannot parse: {exc.message}"
    except RecursionError:
        return "too deeply nested to parse"
    except Exception as exc:  # libcst raises a few non-syntax errors on odd input
        return f"cannot parse: {exc}".splitlines()[0]


def _on_a_big_stack(function: Callable[[str], T], argument: str) -> T:
    result: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(function(argument))
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    try:
        previous = threading.stack_size(_PARSE_STACK_BYTES)
    except (ValueError, RuntimeError):
        return function(argument)
    try:
        thread = threading.Thread(target=run, name="lint-mainlayer-parse")
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    if error:
        raise error[0]
    return result[0]
