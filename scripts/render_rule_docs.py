"""Render each rule's docstring into README.md between the rule-docs markers.

Usage: python scripts/render_rule_docs.py [--check]
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from lint_mainlayer.rules import ALL_RULES

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- rule-docs:start -->", "<!-- rule-docs:end -->"


def render() -> str:
    """The rules section: one subsection per rule, headings shifted below `## Rules`."""
    parts = []
    for rule in ALL_RULES:
        doc = inspect.cleandoc(rule.__doc__ or "")
        summary, _, body = doc.partition("\n")
        body = body.strip().replace("\n## ", "\n#### ")
        if body.startswith("## "):
            body = "#### " + body[3:]
        fix = {"always": "always", "sometimes": "sometimes", "never": "never"}[rule.fixable]
        parts.append(f"### {rule.code} `{rule.name}`\n\n*{summary}* (fix: {fix})\n\n{body}\n")
    return "\n".join(parts)


def updated(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{render()}{END}{tail}"


def main(argv: list[str]) -> int:
    text = README.read_text("utf-8")
    new = updated(text)
    if "--check" in argv:
        if new != text:
            print("README.md rule docs are stale: run python scripts/render_rule_docs.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
