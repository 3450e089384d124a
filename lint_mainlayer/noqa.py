"""`# noqa` comments: which findings they silence (`silenced`, for the engine), and adding
them for `--add-noqa` as ruff writes them (`add_noqa`), with the same edits the language
server offers (`noqa_edits`).

Pure: source text in, an answer or new source text out. `add_noqa` puts the comment at the
end of the first line of the finding that can hold one (not a line continued by a backslash
or inside a string), where `silenced` honours it: codes are added to an existing
`# noqa: ...` comment, a bare `# noqa` already silences everything, and any other comment
keeps its text.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Sequence

from lint_mainlayer.records import record
from lint_mainlayer.types import LINE_BREAK, Diagnostic

# Bare, or with codes: `# noqa`, `# noqa: MLL001, MLL002`.
NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)


def _line_facts(source: str) -> tuple[set[int], dict[int, tuple[int, str]]]:
    """Lines that end where a comment may be added, and each line's comment (its code-point
    column, its text)."""
    endings: set[int] = set()
    comments: dict[int, tuple[int, str]] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.NEWLINE, tokenize.NL):
                endings.add(token.start[0])
            elif token.type == tokenize.COMMENT:
                comments[token.start[0]] = (token.start[1], token.string)
    except (tokenize.TokenError, SyntaxError):
        pass
    return endings, comments


def silenced(source: str, findings: Sequence[tuple[str, int, int]]) -> set[int]:
    """Indexes of the findings `(code, line, end_line)` silenced by `# noqa` or
    `# noqa: CODE` on a line they span."""
    # Tokenizing a long module costs more than its analysis: only when a line a finding
    # spans says `noqa` at all can a comment on it silence the finding.
    lines = LINE_BREAK.split(source)
    if not any("noqa" in lines[n - 1].lower() for _, line, end in findings for n in range(line, end + 1) if 0 < n <= len(lines)):
        return set()
    _, comments = _line_facts(source)
    out = set()
    for index, (code, line, end_line) in enumerate(findings):
        for number in range(line, end_line + 1):
            match = NOQA.search(comments.get(number, (0, ""))[1])
            if match is None:
                continue
            codes = match.group("codes")
            if codes is None or code in re.split(r"[\s,]+", codes.upper()):
                out.add(index)
                break
    return out


@record(frozen=True)
class NoqaEdit:
    """Replace columns `start`..`end` (code points) of `line` (1-based) with `text`."""

    line: int
    start: int
    end: int
    text: str


def noqa_edits(source: str, findings: Sequence[tuple[str, int, int]]) -> list[NoqaEdit]:
    """The edits that add `# noqa: CODE` for the findings `(code, line, end_line)`, one per
    line, in line order: codes join an existing `# noqa: ...`, a bare `# noqa` needs none,
    any other comment keeps its text."""
    endings, comments = _line_facts(source)
    wanted: dict[int, set[str]] = {}
    for code, line, end_line in findings:
        target = next((n for n in range(line, end_line + 1) if n in endings), line)
        wanted.setdefault(target, set()).add(code)
    lines = LINE_BREAK.split(source)
    edits = []
    for number, codes in sorted(wanted.items()):
        if not 1 <= number <= len(lines):
            continue
        text = lines[number - 1]
        column, comment = comments.get(number, (0, ""))
        match = NOQA.search(comment)
        if match is not None and match.group("codes") is None:
            continue  # a bare noqa silences every code already
        if match is not None:
            new = sorted(codes - set(re.split(r"[\s,]+", match.group("codes").upper())))
            if new:
                at = column + match.end("codes")
                edits.append(NoqaEdit(number, at, at, "".join(f", {c}" for c in new)))
            continue
        content_end = len(text.rstrip(" \t\f"))
        edits.append(NoqaEdit(number, content_end, len(text), f"  # noqa: {', '.join(sorted(codes))}"))
    return edits


def add_noqa(source: str, diagnostics: Sequence[Diagnostic]) -> tuple[str, int]:
    """`source` with `# noqa: CODE` added for `diagnostics`; and how many lines got a directive."""
    edits = noqa_edits(source, [(d.code, d.line, d.end_line) for d in diagnostics])
    parts = LINE_BREAK.split(source)
    breaks = LINE_BREAK.findall(source)
    for edit in edits:
        text = parts[edit.line - 1]
        parts[edit.line - 1] = text[: edit.start] + edit.text + text[edit.end :]
    out = [p + b for p, b in zip(parts, breaks)]
    out.append(parts[-1])
    return "".join(out), len(edits)
