"""The walk's own pieces (`rules/tree.py`): the per-type `children` must give what the
generic field walk gives (but for the node types whose source order differs from their
fields'), and `identifiers` what each node spells, on real code."""

from __future__ import annotations

import ast
import importlib.util
import sysconfig
from pathlib import Path

import pytest

from lint_mainlayer import engine
from lint_mainlayer.rules import tree
from tests.conftest import FIXTURES

# Node types whose children `children` puts in source order, unlike their fields.
_REORDERED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Call, ast.Dict, ast.IfExp, ast.arguments)


def _sources() -> list[Path]:
    files = sorted(FIXTURES.rglob("*.py"))
    spec = importlib.util.find_spec("transformers")
    if spec is not None and spec.origin is not None:
        files += sorted(Path(spec.origin).parent.glob("models/*/modeling_tf_*.py"))[:20]
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    # Syntax the fixtures and transformers lack: async, match, walrus, star-except, globals.
    files += [stdlib / name for name in ("asyncio/tasks.py", "ast.py", "dataclasses.py", "typing.py", "inspect.py")]
    return [f for f in files if f.is_file()]


def _trees() -> list[tuple[str, ast.Module]]:
    out = []
    for path in _sources():
        try:
            out.append((path.name, ast.parse(path.read_text("utf-8"))))
        except (SyntaxError, ValueError, UnicodeDecodeError):
            continue
    out.append(("match", ast.parse("match x:\n    case [a, *b] if a: pass\n    case {'k': v, **r}: nonlocal_ = v\n")))
    out.append(("try_star", ast.parse("try:\n    pass\nexcept* ValueError as e:\n    global g\n")))
    out.append(("parameters", ast.parse("def f(a, /, b=1, *c, d, e=2, f, **g): pass\nlambda x, *, y=3, **z: 0\n")))
    return out


def test_children_match_the_field_walk_on_real_code() -> None:
    checked: set[type[ast.AST]] = set()
    for name, module in _trees():
        for node in ast.walk(module):
            if isinstance(node, _REORDERED):
                continue
            got, want = tree.children(node), tree.field_children(node)
            assert [id(n) for n in got] == [id(n) for n in want], (name, ast.dump(node)[:200])
            checked.add(type(node))
    # Every type with its own function was met, so each was compared.
    assert {t for t in tree._CHILDREN if not issubclass(t, _REORDERED)} <= checked


def test_reordered_children_are_the_fields_children_in_source_order() -> None:
    for _, module in _trees():
        for node in ast.walk(module):
            if not isinstance(node, _REORDERED):
                continue
            got = tree.children(node)
            assert sorted(map(id, got)) == sorted(map(id, tree.field_children(node)))
            if isinstance(node, ast.arguments):
                # Parameters and defaults interleave in the source: sorted by position.
                want = sorted(ast.iter_child_nodes(node), key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
                assert [id(n) for n in got] == [id(n) for n in want]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param("x", ["x"], id="name"),
        pytest.param("a.b", ["b"], id="attribute"),
        pytest.param("def f(a): pass", ["f"], id="function"),
        pytest.param("async def f(): pass", ["f"], id="async-function"),
        pytest.param("class C: pass", ["C"], id="class"),
        pytest.param("import a.b as c", [], id="import"),
        pytest.param("from a.b import c", ["a", "b"], id="import-from"),
        pytest.param("from . import c", [], id="relative-import"),
        pytest.param("global a, b", ["a", "b"], id="global"),
        pytest.param("1 + 2", [], id="binop"),
    ],
)
def test_identifiers_of_a_statement(code: str, expected: list[str]) -> None:
    statement = ast.parse(code).body[0]
    node = statement.value if isinstance(statement, ast.Expr) else statement
    assert tree.identifiers(node) == expected


def test_identifiers_of_inner_nodes() -> None:
    call = ast.parse("f(a, k=1, **rest)").body[0].value  # type: ignore[attr-defined]
    assert [tree.identifiers(k) for k in call.keywords] == [["k"], []]
    alias = ast.parse("import a.b as c").body[0].names[0]  # type: ignore[attr-defined]
    assert tree.identifiers(alias) == ["a", "b", "c"]
    function = ast.parse("def f(x): pass").body[0]
    assert tree.identifiers(function.args.args[0]) == ["x"]  # type: ignore[attr-defined]
    handler = ast.parse("try:\n    pass\nexcept E as e:\n    pass").body[0].handlers[0]  # type: ignore[attr-defined]
    assert tree.identifiers(handler) == ["e"]


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param("a" + ".b" * 600, id="attributes"),
        pytest.param(" + ".join(["a"] * 600), id="operators"),
        pytest.param("a" + "[0]" * 600, id="subscripts"),
    ],
)
def test_the_walk_takes_deep_expressions(expression: str) -> None:
    # One frame per level of the tree: a helper between two levels would halve the nesting
    # analysed before Python's recursion limit (about 990 levels from a shallow stack; at
    # two frames a level, these 600 fail).
    source = (
        "from transformers import BertConfig, TFBertMainLayer\n"
        'config = BertConfig.from_pretrained("bert-base-uncased")\n'
        "layer = TFBertMainLayer(config)\n"
        f"x = {expression}\n"
    )
    analysis = engine.analyse(source)
    assert analysis.error is None
    assert [d.code for d in analysis.diagnostics] == ["MLL001"]
