"""Positions from Python's `ast` (code-point columns, an expression's own parentheses) equal
libcst's PositionProvider over the module, which the linter used before it analysed on `ast`."""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from lint_mainlayer import positions
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
        "own_parentheses": "from transformers import BertConfig, TFBertMainLayer\nc = BertConfig.from_pretrained('x')\nb = ( (TFBertMainLayer(c) ) )\nkeep((TFBertMainLayer(c)), (TFBertMainLayer(c)))\nt = (TFBertMainLayer(c), )\nu = [(\n    TFBertMainLayer(c)\n)]\n",
        "wide_characters": "from transformers import BertConfig, TFBertMainLayer\nc = BertConfig.from_pretrained('é')\nd = {'ü🤗': TFBertMainLayer(c)}; é = TFBertMainLayer(c)\n",
    }
)


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
def test_positions_equal_libcsts(source: str) -> None:
    facts = collect(ast.parse(source), source)
    wanted: list[ast.AST | object] = []
    for site in facts.sites:
        wanted.append(site.call)
        if site.statement is not None:
            wanted.append(site.statement)
        if site.klass is not None:
            wanted.append(site.klass.node)
    ours = positions.locate(facts.source, wanted)  # type: ignore[arg-type]
    module = cst.parse_module(source)
    full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    kinds = {ast.Call: cst.Call, ast.ClassDef: cst.ClassDef}
    for node in wanted:
        kind = kinds.get(type(node), cst.SimpleStatementLine)  # type: ignore[arg-type]
        theirs = {
            (r.start.line, r.start.column, r.end.line, r.end.column) for n, r in full.items() if isinstance(n, kind)
        }
        span = ours[node]  # type: ignore[index]
        assert (span.start.line, span.start.column, span.end.line, span.end.column) in theirs
