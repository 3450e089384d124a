"""Positions from one statement at a time equal libcst's PositionProvider over the module."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from lint_mainlayer import positions
from lint_mainlayer.prefilter import python_facts
from lint_mainlayer.rules.facts import collect

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SOURCES = {
    p.parent.name: p.read_text("utf-8")
    for p in sorted(FIXTURES.glob("*/input.py"))
    if "runtime" not in p.parts and "MainLayer(" in p.read_text("utf-8")
}
SOURCES.update(
    {
        "header_comment_and_semicolons": "#!/usr/bin/env python\n# licence\n\nimport os; from transformers import BertConfig, TFBertMainLayer\nc = BertConfig.from_pretrained('x'); b = TFBertMainLayer(c)\n",
        "decorated": "from transformers import BertConfig, TFBertMainLayer\n\n@decorator\n# between\n@other(1)\ndef f():\n    c = BertConfig.from_pretrained('x')\n    return TFBertMainLayer(c)\n",
        "main_block_with_emoji": "from transformers import BertConfig, TFBertMainLayer\nif __name__ == '__main__':\n    c = BertConfig.from_pretrained('x')  # 🤗\n    s = '🤗'; b = TFBertMainLayer(c)\n",
        "continuation": "from transformers import BertConfig, TFBertMainLayer\nc = (\n    BertConfig.from_pretrained('x')\n)\nb = \\\n    TFBertMainLayer(\n        c)\n",
    }
)


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
def test_statement_positions_equal_the_full_provider(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module = cst.parse_module(source)
    facts = collect(module)
    wanted = []
    for site in facts.sites:
        wanted += [(site.call, site.top)]
        if site.statement is not None:
            wanted.append((site.statement, site.top))
        if site.klass is not None:
            wanted.append((site.klass.node, site.top))

    def no_fallback(module: cst.Module) -> object:
        raise AssertionError("fell back to the full PositionProvider")

    monkeypatch.setattr(positions, "_full", no_fallback)
    fast = positions.locate(module, source, wanted, python_facts(source).statement_lines)
    full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    for node, _ in wanted:
        assert fast[node] == full[node]


def test_unlocatable_falls_back_to_the_full_provider() -> None:
    source = "from transformers import TFBertMainLayer\nTFBertMainLayer(c)\n"
    module = cst.parse_module(source)
    call = collect(module).sites[0].call
    full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lines = python_facts(source).statement_lines
    assert positions.locate(module, source, [(call, None)], lines)[call] == full[call]
