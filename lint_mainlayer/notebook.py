"""Jupyter notebooks and IPython syntax: one Python source for the rules, and back.

A notebook's code cells are joined into one source, a boundary comment between cells, so the
rules see the whole program (a config built in cell 2 and a main layer in cell 5). IPython
syntax the parser would reject is *masked*: each such line is replaced, with its indentation,
by the comment `# lint-mainlayer-ipython:N` (`pass  # ...` in an indented block, so the
block keeps a body), and a cell whose first line is a cell magic that does not run Python (`%%bash`,
`%%html`...) is masked whole, as comments. Python-running cell magics (`%%time`,
`%%capture`...) mask only their first line. Masked are, at the start of a statement:
`%magic`, `%%magic`, `!shell`, `x = !cmd`, `x = %magic`, and `?`/`??` help (`obj?`, `?obj`).
A masked line holds no code the rules could flag, so no finding is ever on one; and the line
count is unchanged, so positions map back to cells line for line.

After a fix, the fixed source is split at the boundaries, each masked line gets its original
text back, and only the cells whose text changed are rewritten in the notebook's bytes: the
JSON is spliced, not re-serialised, so outputs, metadata, key order, indentation, escaping
and the final newline stay byte for byte what they were. A fix that cannot be mapped back
(a boundary moved or lost) is refused, never written.

`.py` files exported from notebooks (`!pip install`, `%%time`) get the same masking.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any, Callable

from lint_mainlayer.prefilter import mentions_main_layer
from lint_mainlayer.records import record
from lint_mainlayer.source import DecodedSource, DecodeError, EncodeError, decode, encode, may_hold_ipython
from lint_mainlayer.types import CellIndex, FileResult

SUFFIX = ".ipynb"
MARK = "lint-mainlayer-ipython:"
BOUNDARY = "# lint-mainlayer-cell-boundary"
# Cell magics whose body is Python (IPython runs it): only the magic line is masked.
PYTHON_CELL_MAGICS = frozenset(
    {"time", "timeit", "capture", "prun", "debug", "python", "python3", "pypy", "writefile_py", "px", "tensorboard"}
)

_MASKED = re.compile(rf"^[ \t]*(?:pass  )?# {MARK}(\d+)$")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def is_notebook(path: str) -> bool:
    """Whether `path` names a Jupyter notebook (by its suffix, as ruff decides)."""
    return path.endswith(SUFFIX)


# -- masking -------------------------------------------------------------------------------


def _ipython_line(code: str) -> bool:
    """Whether a logical line's text (indentation stripped) is IPython, not Python."""
    if code.startswith(("%", "!", "?")):
        return True
    if re.fullmatch(r"[A-Za-z_][\w.]*[ \t]*\?\??[ \t]*(#.*)?", code):
        return True
    # `x = !ls`, `files = %sx ls`: an assignment from a shell escape or a line magic.
    return re.fullmatch(r"[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*=[ \t]*[!%][A-Za-z_].*", code) is not None


class _Scanner:
    """Tracks, line by line, whether the next line starts a statement (outside brackets,
    strings and backslash continuations)."""

    def __init__(self) -> None:
        self.depth = 0
        self.string: str | None = None  # the open triple quote
        self.continued = False

    @property
    def at_statement(self) -> bool:
        return self.depth == 0 and self.string is None and not self.continued

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        self.continued = False
        while i < n:
            if self.string is not None:
                end = line.find(self.string, i)
                while end > 0 and _escaped(line, end):
                    end = line.find(self.string, end + 1)
                if end < 0:
                    return
                i = end + 3
                self.string = None
                continue
            char = line[i]
            if char == "#":
                break
            if char in "'\"":
                if line.startswith(char * 3, i):
                    self.string = char * 3
                    i += 3
                    continue
                j = i + 1
                while j < n and line[j] != char:
                    j += 2 if line[j] == "\\" else 1
                i = j + 1
                continue
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            i += 1
        stripped = line.rstrip("\r\n")
        self.continued = self.string is None and stripped.endswith("\\") and not stripped.lstrip().startswith("#")


def _escaped(line: str, index: int) -> bool:
    backslashes = 0
    while index - 1 - backslashes >= 0 and line[index - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


@record(frozen=True)
class Masked:
    """A source with its IPython lines masked; `originals[N]` is masked line N's text."""

    text: str
    originals: tuple[str, ...]


def _split_ending(line: str) -> tuple[str, str]:
    body = line.rstrip("\r\n")
    return body, line[len(body) :]


def mask_lines(lines: list[str], originals: list[str], *, cell_start: bool) -> list[str]:
    """`lines` (each with its line ending) with IPython syntax masked; masked texts are
    appended to `originals`. `cell_start`: the first line may be a cell magic."""
    out: list[str] = []
    if cell_start and lines:
        first, _ = _split_ending(lines[0])
        match = re.match(r"[ \t]*%%([A-Za-z_]\w*)", first)
        if match is not None and match.group(1) not in PYTHON_CELL_MAGICS:
            for line in lines:
                body, ending = _split_ending(line)
                originals.append(body)
                out.append(f"# {MARK}{len(originals) - 1}{ending}")
            return out
    scanner = _Scanner()
    for line in lines:
        body, ending = _split_ending(line)
        code = body.lstrip(" \t")
        if scanner.at_statement and code and _ipython_line(code):
            originals.append(body)
            indent = body[: len(body) - len(code)]
            # At the top level a comment will do (imports after it still count as the
            # module's first); in a block, `pass` keeps the block's body.
            statement = "pass  " if indent else ""
            out.append(f"{indent}{statement}# {MARK}{len(originals) - 1}{ending}")
            continue
        scanner.feed(line)
        out.append(line)
    return out


def mask(text: str) -> Masked | None:
    """`text` with IPython lines masked, or None when it has none (the common case)."""
    if not may_hold_ipython(text):
        return None
    originals: list[str] = []
    lines = _LINE.findall(text)
    masked = "".join(mask_lines(lines, originals, cell_start=True))
    return Masked(masked, tuple(originals)) if originals else None


def unmask(text: str, originals: tuple[str, ...]) -> str:
    """`text` (a masked source, maybe fixed) with every masked line's text restored."""
    out = []
    for line in _LINE.findall(text):
        body, ending = _split_ending(line)
        match = _MASKED.match(body)
        if match is not None and int(match.group(1)) < len(originals):
            out.append(originals[int(match.group(1))] + ending)
        else:
            out.append(line)
    return "".join(out)


@record(frozen=True)
class MaskedSource(DecodedSource):
    """A `.py` file's decoded text with IPython lines masked (`originals` restores them)."""

    originals: tuple[str, ...] = ()


def decode_python(decoded: DecodedSource) -> DecodedSource:
    """`decoded` with its IPython lines masked (itself when it has none)."""
    # Only a source the rules could flag is worth the scan (the prefilter's first stage:
    # a main layer, and since the model rules a TF model class or a copy).
    masked = mask(decoded.text) if mentions_main_layer(decoded.text) else None
    if masked is None:
        return decoded
    return MaskedSource(masked.text, decoded.encoding, masked.originals)


# -- notebooks -----------------------------------------------------------------------------

_DECODER = json.JSONDecoder()
_WS = " \t\n\r"


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _members(text: str, i: int) -> list[tuple[str, int, int]]:
    """The members of the JSON object at `text[i]`: (key, value start, value end)."""
    if text[i] != "{":
        raise ValueError("expected an object")
    out: list[tuple[str, int, int]] = []
    i = _skip(text, i + 1)
    if text[i] == "}":
        return out
    while True:
        if text[i] != '"':
            raise ValueError("expected a key")
        key, i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        if text[i] != ":":
            raise ValueError("expected ':'")
        start = _skip(text, i + 1)
        _, end = _DECODER.raw_decode(text, start)
        out.append((key, start, end))
        i = _skip(text, end)
        if text[i] == ",":
            i = _skip(text, i + 1)
            continue
        if text[i] == "}":
            return out
        raise ValueError("expected ',' or '}'")


def _elements(text: str, i: int) -> list[tuple[int, int]]:
    """The spans of the elements of the JSON array at `text[i]`."""
    if text[i] != "[":
        raise ValueError("expected an array")
    out: list[tuple[int, int]] = []
    i = _skip(text, i + 1)
    if text[i] == "]":
        return out
    while True:
        _, end = _DECODER.raw_decode(text, i)
        out.append((i, end))
        i = _skip(text, end)
        if text[i] == ",":
            i = _skip(text, i + 1)
            continue
        if text[i] == "]":
            return out
        raise ValueError("expected ',' or ']'")


@record(frozen=True)
class _Cell:
    number: int  # 1-based among all cells, as ruff numbers them
    span: tuple[int, int]  # the `source` value's span in the notebook's text
    text: str  # the cell's source as one string
    as_list: bool  # `source` is a list of lines (nbformat's usual form), not one string
    first_line: int  # 1-based line of its first line in the joined source
    line_count: int  # lines in the joined source, the final newline added if it lacked one


@record(frozen=True)
class DecodedNotebook(DecodedSource):
    """A notebook's code cells as one masked Python source, and what maps it back."""

    notebook: str = ""  # the notebook's whole text
    cells: tuple[_Cell, ...] = ()
    originals: tuple[str, ...] = ()

    @property
    def index(self) -> CellIndex:
        """Where each code cell starts in the joined source."""
        return CellIndex(tuple(c.number for c in self.cells), tuple(c.first_line for c in self.cells))


def _is_python(members: dict[str, Any]) -> bool:
    metadata = members.get("metadata")
    if not isinstance(metadata, dict):
        return True
    language = (metadata.get("language_info") or {}).get("name") or (metadata.get("kernelspec") or {}).get("language")
    return not isinstance(language, str) or language.lower() in ("python", "python3", "ipython", "")


def _cell_lines(source: str) -> list[str]:
    lines = _LINE.findall(source)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"  # the boundary must start a line of its own
    return lines


def join(cells: list[str]) -> tuple[str, tuple[int, ...]]:
    """Code cells' texts as one masked source (as a notebook file is read), and the line
    each cell starts at: what the language server lints for a notebook document."""
    originals: list[str] = []
    joined: list[str] = []
    starts = []
    line = 1
    for source in cells:
        lines = _cell_lines(source)
        starts.append(line)
        joined += mask_lines(lines, originals, cell_start=True)
        joined.append(BOUNDARY + "\n")
        line += len(lines) + 1
    return "".join(joined), tuple(starts)


def decode_notebook(data: bytes) -> DecodedNotebook:
    """The notebook's code cells, joined and masked; raises `DecodeError` (one line) for
    bytes that are not a notebook."""
    try:
        text = data.decode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"notebook is not UTF-8: byte {exc.start}: {exc.reason}") from None
    if not mentions_main_layer(text):
        # Nothing the rules could flag (the prefilter's first stage), so no need to parse it.
        return DecodedNotebook("", "utf-8", notebook=text)
    try:
        start = _skip(text, 0)
        top = _members(text, start)
        top_values = {key: _DECODER.raw_decode(text, s)[0] for key, s, _ in top if key == "metadata"}
        cells_span = next(((s, e) for key, s, e in top if key == "cells"), None)
        if cells_span is None:
            raise DecodeError("not a notebook: no `cells`")
        if not _is_python(top_values):
            return DecodedNotebook("", "utf-8", notebook=text)
        cells: list[_Cell] = []
        originals: list[str] = []
        joined: list[str] = []
        line = 1
        for number, (cell_start, _) in enumerate(_elements(text, cells_span[0]), start=1):
            members = {key: (s, e) for key, s, e in _members(text, cell_start)}
            if "cell_type" not in members or "source" not in members:
                raise DecodeError(f"not a notebook: cell {number} has no cell_type or source")
            kind = _DECODER.raw_decode(text, members["cell_type"][0])[0]
            if kind != "code":
                continue
            source_span = members["source"]
            value = _DECODER.raw_decode(text, source_span[0])[0]
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                source, as_list = "".join(value), True
            elif isinstance(value, str):
                source, as_list = value, False
            else:
                raise DecodeError(f"not a notebook: cell {number}'s source is not text")
            lines = _cell_lines(source)
            masked = mask_lines(lines, originals, cell_start=True)
            cells.append(_Cell(number, source_span, source, as_list, line, len(lines)))
            joined += masked
            joined.append(BOUNDARY + "\n")
            line += len(lines) + 1
    except (ValueError, IndexError) as exc:
        # json.JSONDecodeError is a ValueError.
        raise DecodeError(f"not a valid notebook: {str(exc).splitlines()[0]}") from None
    return DecodedNotebook("".join(joined), "utf-8", notebook=text, cells=tuple(cells), originals=tuple(originals))


class NotebookWriteError(ValueError):
    """A fixed source could not be mapped back to the notebook's cells; nothing is written."""


def cell_texts(decoded: DecodedNotebook, fixed: str) -> list[str]:
    """The fixed source split back into the code cells' texts, masked lines restored."""
    parts = fixed.split(BOUNDARY + "\n")
    if len(parts) != len(decoded.cells) + 1 or parts[-1] != "":
        raise NotebookWriteError("the fix moved a cell boundary; the notebook was not changed")
    out = []
    for cell, part in zip(decoded.cells, parts):
        restored = unmask(part, decoded.originals)
        if not cell.text.endswith(("\n", "\r")) and restored.endswith("\n"):
            restored = restored[:-1]  # the newline added to join the cells
        out.append(restored)
    return out


_NON_ASCII_ESCAPE = re.compile(r"\\u(?:00[89a-f][0-9a-f]|0[1-9a-f][0-9a-f]{2}|[1-9a-f][0-9a-f]{3})", re.IGNORECASE)


def _style(notebook: str, span: tuple[int, int]) -> tuple[str, str, str, bool]:
    """How the notebook writes a source list: (after '[', between items, before ']'),
    and whether it escapes non-ASCII (`ensure_ascii`)."""
    # nbformat writes `json.dumps(..., indent=1, ensure_ascii=False)`; follow what the file does.
    ensure_ascii = notebook.isascii() and _NON_ASCII_ESCAPE.search(notebook) is not None
    value = notebook[span[0] : span[1]]
    items = _elements(value, 0) if value.startswith("[") else []
    if len(items) >= 2:
        return value[1 : items[0][0]], value[items[0][1] : items[1][0]], value[items[-1][1] : -1], ensure_ascii
    if "\n" not in notebook:
        return "", ", ", "", ensure_ascii  # written on one line
    newline = "\r\n" if "\r\n" in notebook else "\n"
    line_start = notebook.rfind("\n", 0, span[0]) + 1
    key_line = notebook[line_start : span[0]]
    key_indent = key_line[: len(key_line) - len(key_line.lstrip(" \t"))]
    inner = newline + key_indent + _indent_unit(notebook)
    return inner, "," + inner, newline + key_indent, ensure_ascii


def _indent_unit(notebook: str) -> str:
    match = re.search(r"\{\r?\n([ \t]+)\"", notebook)
    return match.group(1) if match else " "


def encode_notebook(decoded: DecodedNotebook, fixed: str) -> bytes:
    """The notebook's bytes with the fixed cells' sources spliced in, all else unchanged."""
    texts = cell_texts(decoded, fixed)
    notebook = decoded.notebook
    pieces = []
    at = 0
    for cell, text in zip(decoded.cells, texts):
        if text == cell.text:
            continue
        first, between, last, ensure_ascii = _style(notebook, cell.span)
        if cell.as_list:
            lines = _LINE.findall(text)
            body = between.join(json.dumps(line, ensure_ascii=ensure_ascii) for line in lines)
            value = f"[{first}{body}{last}]" if lines else "[]"
        else:
            value = json.dumps(text, ensure_ascii=ensure_ascii)
        pieces.append(notebook[at : cell.span[0]])
        pieces.append(value)
        at = cell.span[1]
    pieces.append(notebook[at:])
    return "".join(pieces).encode("utf-8")


def decode_path(data: bytes, path: str) -> DecodedSource:
    """The api's hook: a notebook's joined cells, or a Python file (`decode(data)`) with its
    IPython lines masked. Raises `DecodeError`."""
    if is_notebook(path):
        return decode_notebook(data)
    return decode_python(decode(data))


def encode_path(decoded: DecodedSource, fixed: str) -> bytes:
    """The api's hook, the way back: bytes for `fixed` (the masked source after a fix).
    Raises `EncodeError` (as `encode` does) when they cannot be written."""
    if isinstance(decoded, DecodedNotebook):
        try:
            return encode_notebook(decoded, fixed)
        except NotebookWriteError as exc:
            raise EncodeError(str(exc)) from None
    if isinstance(decoded, MaskedSource):
        return encode(unmask(fixed, decoded.originals), decoded.encoding)
    return encode(fixed, decoded.encoding)


def diff(decoded: DecodedSource, fixed: str, path: str, unified_diff: Callable[[str, str, str], str]) -> str:
    """The api's hook for `--diff`: for a notebook, one unified diff per changed cell, headed
    `path:cell N` as ruff's; for a `.py` file, `unified_diff` of the texts as written."""
    if isinstance(decoded, MaskedSource):
        return unified_diff(unmask(decoded.text, decoded.originals), unmask(fixed, decoded.originals), path)
    if not isinstance(decoded, DecodedNotebook):
        return unified_diff(decoded.text, fixed, path)
    import difflib

    out = []
    for cell, text in zip(decoded.cells, cell_texts(decoded, fixed)):
        if text == cell.text:
            continue
        name = f"{path}:cell {cell.number}"
        for line in difflib.unified_diff(
            cell.text.splitlines(keepends=True), text.splitlines(keepends=True), name, name
        ):
            out.append(line)
            if not line.endswith(("\n", "\r")):
                out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def with_cells(result: FileResult, data: bytes | None) -> FileResult:
    """The api's hook for positions: a notebook's result with the `CellIndex` of `data` (the
    bytes its findings' lines refer to); any other result unchanged."""
    if data is None or not result.diagnostics or not is_notebook(result.path):
        return result
    try:
        decoded = decode_notebook(data)
    except DecodeError:
        return result
    return replace(result, cells=decoded.index)
