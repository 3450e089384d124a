"""`# noqa` comments: which findings they silence (`silenced`, for the engine), and adding
them for `--add-noqa` as ruff writes them (`add_noqa`). The language server writes the same
syntax.

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

from lint_mainlayer.rules.tree import LINE_BREAK
from lint_mainlayer.types import Diagnostic

# Bare, or with codes: `# noqa`, `# noqa: MLL001, MLL002`.
NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)


def _line_facts(source: str) -> tuple[set[int], dict[int, str]]:
    endings: set[int] = set()
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.NEWLINE, tokenize.NL):
                endings.add(token.start[0])
            elif token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string
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
            match = NOQA.search(comments.get(number, ""))
            if match is None:
                continue
            codes = match.group("codes")
            if codes is None or code in re.split(r"[\s,]+", codes.upper()):
                out.add(index)
                break
    return out


def add_noqa(source: str, diagnostics: Sequence[Diagnostic]) -> tuple[str, int]:
    """`source` with `# noqa: CODE` added for `diagnostics`; and how many lines got a directive."""
    endings, comments = _line_facts(source)
    wanted: dict[int, set[str]] = {}
    for d in diagnostics:
        target = next((n for n in range(d.line, d.end_line + 1) if n in endings), d.line)
        wanted.setdefault(target, set()).add(d.code)
    parts = LINE_BREAK.split(source)
    breaks = LINE_BREAK.findall(source)
    added = 0
    for number, codes in sorted(wanted.items()):
        if not 1 <= number <= len(parts):
            continue
        text = parts[number - 1]
        match = NOQA.search(comments.get(number, ""))
        if match is not None and match.group("codes") is None:
            continue  # a bare noqa silences every code already
        if match is not None:
            have = set(re.split(r"[\s,]+", match.group("codes").upper()))
            new = sorted(codes - have)
            if not new:
                continue
            comment = comments[number]
            at = text.rindex(comment) + match.end("codes")
            parts[number - 1] = text[:at] + "".join(f", {c}" for c in new) + text[at:]
        else:
            stripped = text.rstrip(" \t\f")
            parts[number - 1] = f"{stripped}  # noqa: {', '.join(sorted(codes))}"
        added += 1
    out = [p + b for p, b in zip(parts, breaks)]
    out.append(parts[-1])
    return "".join(out), added
