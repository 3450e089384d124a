"""Bytes <-> text for Python files, keeping what a fix must not change.

Encoding follows PEP 263 (coding cookie) and PEP 3120 (UTF-8 default); a UTF-8 BOM is
remembered through the `utf-8-sig` codec. Text is decoded without newline translation, so
CRLF and mixed line endings reach libcst, and so the fixed file, unchanged.
"""

from __future__ import annotations

import codecs
import io
import tokenize
from dataclasses import dataclass


class DecodeError(Exception):
    """The bytes cannot be read as Python source; the message is one line."""


@dataclass(frozen=True)
class DecodedSource:
    text: str
    encoding: str


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
        text = data.decode(encoding)
    except LookupError:
        raise DecodeError(f"unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        raise DecodeError(f"cannot decode as {encoding}: byte {exc.start}: {exc.reason}") from None
    if "\x00" in text:
        raise DecodeError("source contains a NUL byte")
    return DecodedSource(text, encoding)


def encode(text: str, encoding: str) -> bytes:
    """Encode fixed text back in the file's own encoding (and BOM)."""
    return text.encode(encoding)


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "undecodable source"
