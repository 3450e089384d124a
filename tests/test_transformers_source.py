"""transformers' own TF models hold their main layers the legitimate way: zero findings."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from lint_mainlayer import engine


def _modeling_files() -> list[Path]:
    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    return sorted(root.rglob("modeling_tf_*.py"))


FILES = _modeling_files()


@pytest.mark.skipif(not FILES, reason="transformers is not installed")
def test_transformers_tf_models_have_no_findings() -> None:
    findings = {}
    for path in FILES:
        diagnostics = engine.lint_source(path.read_text("utf-8"))
        if diagnostics:
            findings[path.name] = [f"{d.line}: {d.code}" for d in diagnostics]
    assert len(FILES) >= 60
    assert findings == {}
