"""The inline VALID/INVALID cases every rule carries, and its documentation."""

from __future__ import annotations

import pytest

from lint_mainlayer import engine
from lint_mainlayer.rules import ALL_RULES
from lint_mainlayer.rules.base import Invalid, Rule, Valid
from lint_mainlayer.types import Settings

VALID = [pytest.param(case, id=f"{rule.code}-{case.name}") for rule in ALL_RULES for case in rule.VALID]
INVALID = [pytest.param(rule, case, id=f"{rule.code}-{case.name}") for rule in ALL_RULES for case in rule.INVALID]


@pytest.mark.parametrize("case", VALID)
def test_valid_cases_are_clean(case: Valid) -> None:
    assert engine.lint_source(case.code) == []


@pytest.mark.parametrize("rule, case", INVALID)
def test_invalid_cases_are_flagged_and_fixed_by_their_rule(rule: type[Rule], case: Invalid) -> None:
    codes = [d.code for d in engine.lint_source(case.code)]
    assert rule.code in codes
    only_others = Settings(ignore=frozenset({rule.code}))
    assert rule.code not in [d.code for d in engine.lint_source(case.code, only_others)]
    only_this = Settings(select=frozenset({rule.code}))
    fixed = engine.fix_source(case.code, only_this, unsafe=True)
    assert fixed.error is None
    assert fixed.source == (case.expected_fix if case.expected_fix is not None else case.code)


def test_case_names_are_unique_per_rule() -> None:
    for rule in ALL_RULES:
        names = [c.name for c in (*rule.VALID, *rule.INVALID)]
        assert len(names) == len(set(names)), rule.code


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_rule_is_documented(rule: type) -> None:
    doc = rule.__doc__ or ""
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Fix safety"):
        assert heading in doc, heading
    assert rule.VALID and rule.INVALID


def test_codes_are_unique_and_stable() -> None:
    assert [r.code for r in ALL_RULES][:3] == ["MLL001", "MLL002", "MLL003"]
    assert len({r.code for r in ALL_RULES}) == len(ALL_RULES)
