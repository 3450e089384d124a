"""Rule codes as users type them (`--select`, `select = [...]`), and where each rule is documented.

Kept apart from `rules/` so that checking a command line or a config never imports the rules:
`tests/test_codes.py` checks that `RULE_NAMES` matches the rules themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

# code -> name, as in `rules/` (checked by a test).
RULE_NAMES: dict[str, str] = {
    "MLL001": "pretrained-config-without-weights",
    "MLL002": "unknown-config-without-weights",
    "MLL003": "main-layer-name-mismatch",
    "MLL004": "pretrained-subclass-without-build",
    "MLL005": "pretrained-config-model-without-weights",
    "MLL006": "discarded-from-pretrained",
}
#: Selects every rule, as in ruff.
ALL = "ALL"

#: The one place naming where the documentation lives: the README's rule sections (there is
#: no hosted site). Every "see the docs" link (LSP `codeDescription`, SARIF `helpUri`) is built
#: from it.
DOCS_URL = "https://github.com/lint-mainlayer/lint-mainlayer/blob/main/README.md"


class UnknownCodeError(ValueError):
    """A rule code or prefix that selects no rule; the message names the valid ones."""


def is_valid(code: str) -> bool:
    """Whether `code` is `ALL` or a prefix of some rule code (`M`, `MLL`, `MLL00`, `MLL001`)."""
    return code == ALL or (bool(code) and any(rule.startswith(code) for rule in RULE_NAMES))


def parse(values: Iterable[str], where: str) -> frozenset[str]:
    """Upper-cased codes from `values` (each may be comma-separated); raises
    `UnknownCodeError` naming `where` (e.g. `--select`) for a code that selects nothing."""
    codes = frozenset(c.strip().upper() for v in values for c in v.split(",") if c.strip())
    unknown = sorted(c for c in codes if not is_valid(c))
    if unknown:
        raise UnknownCodeError(
            f"invalid rule code{'s' if len(unknown) > 1 else ''} in {where}: {', '.join(unknown)} "
            f"(valid: {', '.join(RULE_NAMES)}, a prefix of them such as MLL, or ALL)"
        )
    return codes


def doc_anchor(code: str) -> str:
    """The README heading's anchor for a rule, as GitHub derives it."""
    return f"{code.lower()}-{RULE_NAMES[code]}"


def doc_url(code: str) -> str | None:
    """Where the rule `code` is documented, or None for an unknown code."""
    if code not in RULE_NAMES:
        return None
    return f"{DOCS_URL}#{doc_anchor(code)}"
