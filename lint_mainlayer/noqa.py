"""`# noqa` comments: which findings they silence. The language server writes this syntax too."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Sequence

# Bare, or with codes: `# noqa`, `# noqa: MLL001, MLL002`.
NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)


def silenced(source: str, findings: Sequence[tuple[str, int, int]]) -> set[int]:
    """Indexes of the findings `(code, line, end_line)` silenced by `# noqa` or
    `# noqa: CODE` on a line they span."""
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string
    except (tokenize.TokenError, SyntaxError):
        pass
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
