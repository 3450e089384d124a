"""Bytes <-> text for Python files, keeping what a fix must not change.

Encoding follows PEP 263 (coding cookie) and PEP 3120 (UTF-8 default); a UTF-8 BOM is
remembered through the `utf-8-sig` codec. Text is decoded without newline translation, so
CRLF and mixed line endings reach libcst, and so the fixed file, unchanged.

A fix must leave every byte it does not mean to change as it was. So a file is read only
when its coding maps the text back to exactly the bytes it came from (UTF-8 and Latin-1
always do; `unicode_escape` or `utf-7` may not), and a fixed text is written only when the
bytes read back, through the same cookie, as exactly that text.
"""

from __future__ import annotations

import codecs
import io
import re
import tokenize
import warnings

from lint_mainlayer.records import record

# A line that may start IPython syntax (`%magic`, `!shell`, `obj?`, `x = !ls`): cheap enough
# to run on every `.py` file first, so that `notebook` is imported only for those that may.
_MAYBE_IPYTHON = r"^[ \t]*(?:[%!?]|[A-Za-z_][\w.]*[ \t]*\?\??[ \t]*$|[A-Za-z_][\w., \t]*=[ \t]*[!%][A-Za-z_])"


_IPYTHON_CHARS = re.compile(r"[%!?]")


def may_hold_ipython(text: str) -> bool:
    """Whether `text` may hold IPython syntax (False only when `notebook.mask` finds none)."""
    # Every match holds one of `%!?` and no line break, so only the lines with one are
    # tried: searching the whole text tries the pattern at every offset (~1.4 ms for a
    # 2,000-line module; the lines with such a character are few).
    pattern = re.compile(_MAYBE_IPYTHON, re.MULTILINE)  # compiled on first use (re caches it)
    tried = -1
    for char in _IPYTHON_CHARS.finditer(text):
        start = text.rfind("\n", 0, char.start()) + 1
        if start != tried:
            tried = start
            if pattern.match(text, start) is not None:
                return True
    return False


class DecodeError(Exception):
    """The bytes cannot be read as Python source; the message is one line."""


@record(frozen=True)
class DecodedSource:
    text: str
    encoding: str


# Strict UTF-8 is one-to-one, so the round-trip check is skipped for almost every file.
_FAITHFUL = frozenset({"utf-8", "utf-8-sig"})


def decode(data: bytes) -> DecodedSource:
    """Decode Python source bytes as the interpreter would."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if "invalid or missing encoding declaration" in str(exc):
            raise DecodeError("cannot decode as utf-8, and no coding declaration says otherwise") from None
        raise DecodeError(_first_line(str(exc))) from None
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DecodeError(f"unknown encoding {encoding!r}") from None
    try:
        text = _decode_quietly(data, encoding)
    except LookupError:
        # rot13, hex and the like: codecs, but not from bytes to text.
        raise DecodeError(f"coding {encoding!r} is not a text encoding") from None
    except UnicodeDecodeError as exc:
        raise DecodeError(f"cannot decode as {encoding}: byte {exc.start}: {exc.reason}") from None
    except Exception as exc:  # noqa: BLE001 - a third-party codec may raise anything
        raise DecodeError(f"cannot decode as {encoding}: {_first_line(str(exc))}") from None
    if "\x00" in text:
        raise DecodeError("source contains a NUL byte")
    if encoding not in _FAITHFUL and not _encodes_to(text, encoding, data):
        raise DecodeError(
            f"coding {encoding!r} does not map the text back to the same bytes; cannot be honoured"
        )
    return DecodedSource(text, encoding)


class EncodeError(ValueError):
    """Fixed text that cannot be written in its file's encoding; the message says why."""


def encode(text: str, encoding: str) -> bytes:
    """Encode fixed text back in the file's own encoding (and BOM).

    Raises `EncodeError` when the text cannot be encoded (naming the character and its
    line), or when the bytes would not read back as this text (a fix that moved the coding
    cookie, for instance).
    """
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        raise EncodeError(f"{encoding} cannot encode {text[exc.start:exc.end]!r} (line {line})") from None
    try:
        again = decode(data).text
    except DecodeError as exc:
        raise EncodeError(f"the result would not read back: {exc}") from None
    if again != text:
        raise EncodeError("the result would not read back as the same text")
    return data


def _decode_quietly(data: bytes, encoding: str) -> str:
    if encoding in _FAITHFUL:
        return data.decode(encoding)
    # unicode_escape and the like warn about escapes: a file's contents are not our warnings.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return data.decode(encoding)


def _encodes_to(text: str, encoding: str, data: bytes) -> bool:
    try:
        return text.encode(encoding) == data
    except Exception:  # noqa: BLE001 - any codec failure means "cannot be honoured"
        return False


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "undecodable source"
