"""Printing for the lint path without importing click (~14 ms of a ~0.1 s cold run).

`echo` and `style` give the bytes `click.echo` and `click.style` give for what we print
(text, `err=True`, `nl=False`, `color=`), so the fast path and the click fallback print
the same; the CLI tests compare the two.
"""

from __future__ import annotations

import codecs
import errno
import io
import re
import sys
from typing import IO, Any

# click's `_ansi_re`: the escape sequences `click.echo` strips off a terminal.
_ANSI = re.compile(r"\033\[[0-?]*[ -/]*[@-~]")
_RESET = "\033[0m"
_COLORS = {"red": 31, "cyan": 36}


def style(text: str, *, fg: str | None = None, bold: bool | None = None) -> str:
    """`click.style(text, fg=..., bold=...)` for the colours we use."""
    bits = []
    if fg is not None:
        bits.append(f"\033[{_COLORS[fg]}m")
    if bold is not None:
        bits.append(f"\033[{1 if bold else 22}m")
    return "".join([*bits, text, _RESET])


def _isatty(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except Exception:  # noqa: BLE001 - click's isatty: a stream that cannot tell is no terminal
        return False


def _ascii(stream: IO[Any]) -> bool:
    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "ascii").name == "ascii"
    except LookupError:
        return False


def _write(stream: IO[Any], out: str) -> None:
    # As click's text streams: a stream left in ASCII (PYTHONIOENCODING=ascii, some test
    # harnesses) is written as UTF-8 with replacement through its buffer, never raising.
    buffer = getattr(stream, "buffer", None)
    if buffer is not None and _ascii(stream):
        stream.flush()
        writer = io.TextIOWrapper(buffer, encoding="utf-8", errors="replace", write_through=True)
        writer.write(out)
        writer.flush()
        writer.detach()
        return
    stream.write(out)
    stream.flush()


def echo(message: str = "", *, err: bool = False, nl: bool = True, color: bool | None = None) -> None:
    """`click.echo(message, err=..., nl=..., color=...)` outside a click context: a newline
    unless `nl=False`, ANSI codes stripped when `color` is False or (None) the stream is no
    terminal, and flushed."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    out = message + "\n" if nl else message
    if not out:
        stream.flush()
        return
    strip = not _isatty(stream) if color is None else not color
    if strip:
        out = _ANSI.sub("", out)
    _write(stream, out)


class _PacifyFlushWrapper:
    # click's: after a broken pipe, flushing the standard streams at exit stays quiet.
    def __init__(self, wrapped: IO[Any]) -> None:
        self.wrapped = wrapped

    def flush(self) -> None:
        try:
            self.wrapped.flush()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.wrapped, attr)


def pacify_broken_pipe() -> None:
    """What click does when the reader of stdout goes away (`| head`): later flushes of the
    standard streams ignore EPIPE, so the process ends with its status, not a traceback."""
    sys.stdout = _PacifyFlushWrapper(sys.stdout)
    sys.stderr = _PacifyFlushWrapper(sys.stderr)
