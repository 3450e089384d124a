"""The inline VALID/INVALID cases every rule carries, and its documentation."""

from __future__ import annotations

import pytest

from lint_mainlayer import engine
from lint_mainlayer.rules import ALL_RULES
from lint_mainlayer.types import Settings

VALID = [
    pytest.param(rule, source, id=f"{rule.code}-valid-{i}")
    for rule in ALL_RULES
    for i, source in enumerate(rule.VALID)
]
INVALID = [
    pytest.param(rule, source, id=f"{rule.code}-invalid-{i}")
    for rule in ALL_RULES
    for i, source in enumerate(rule.INVALID)
]


@pytest.mark.parametrize("rule, source", VALID)
def test_valid_cases_are_clean(rule: type, source: str) -> None:
    assert engine.lint_source(source) == []


@pytest.mark.parametrize("rule, source", INVALID)
def test_invalid_cases_are_flagged_by_their_rule(rule: type, source: str) -> None:
    codes = [d.code for d in engine.lint_source(source)]
    assert rule.code in codes
    only_others = Settings(ignore=frozenset({rule.code}))
    assert rule.code not in [d.code for d in engine.lint_source(source, only_others)]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_rule_is_documented(rule: type) -> None:
    doc = rule.__doc__ or ""
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Fix safety"):
        assert heading in doc, heading
    assert rule.VALID and rule.INVALID


def test_codes_are_unique_and_stable() -> None:
    assert [r.code for r in ALL_RULES][:3] == ["MLL001", "MLL002", "MLL003"]
    assert len({r.code for r in ALL_RULES}) == len(ALL_RULES)
