"""The layering the README describes, read from the package's imports (at any depth:
imports inside functions count too).

Layers, top to bottom: the transports (`cli`, `lsp`, the output formats), `api`, the
engine and its stages, the rules, and the data (`types`, `registry`, and `records`, the
decorator that makes their classes). A module imports only its own layer or those below; the
transports take nothing from the core but `api` (and the records in `types`, and `record`); only `runtime/` imports TensorFlow, tf-keras or transformers, and the
core never imports `runtime/`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lint_mainlayer"

TRANSPORT, API, ENGINE, RULES, DATA, RUNTIME = "transport", "api", "engine", "rules", "data", "runtime"
# Lower number: higher layer.
RANK = {TRANSPORT: 0, API: 1, ENGINE: 2, RULES: 3, DATA: 4}
HEAVY = ("tensorflow", "tf_keras", "keras", "transformers")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    rest = module.removeprefix("lint_mainlayer").lstrip(".")
    head = rest.split(".")[0]
    if head in ("cli", "cli_options", "cli_click", "console", "entry", "lsp", "lsp_command", "__main__", "formats", "add_noqa", "show",
                "rule_command"):
        return TRANSPORT
    if head == "api":
        return API
    if head == "rules":
        return RULES
    if head == "runtime":
        return RUNTIME
    if head in ("", "types", "registry", "records"):
        return DATA
    return ENGINE


def imports(path: Path) -> set[str]:
    """Every module `path` imports, absolute, at any depth."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module is not None and not node.level:
            found.add(node.module)
            # `from lint_mainlayer import api` imports the module `lint_mainlayer.api`.
            if node.module == "lint_mainlayer" or node.module.startswith("lint_mainlayer."):
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _ours(name: str) -> bool:
    return name == "lint_mainlayer" or name.startswith("lint_mainlayer.")


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (PACKAGE.parent / relative).with_suffix(".py").exists() or (PACKAGE.parent / relative).is_dir()


MODULES = sorted(PACKAGE.rglob("*.py"))
EDGES = [
    (module_name(path), target)
    for path in MODULES
    for target in sorted(imports(path))
    if _ours(target) and _is_module(target)
]


def test_the_graph_is_not_empty() -> None:
    assert len(MODULES) > 30 and len(EDGES) > 60
    assert ("lint_mainlayer.cli", "lint_mainlayer.api") in EDGES


@pytest.mark.parametrize(("source", "target"), EDGES, ids=[f"{s}->{t}" for s, t in EDGES])
def test_imports_go_down(source: str, target: str) -> None:
    here, there = layer(source), layer(target)
    if here == RUNTIME or there == RUNTIME:
        # The checker stands apart: it may use the data, and only the CLI starts it.
        assert there in (RUNTIME, DATA) or (source == "lint_mainlayer.cli" and there == RUNTIME)
        return
    assert RANK[there] >= RANK[here], f"{source} ({here}) imports {target} ({there})"
    if here == TRANSPORT and there != TRANSPORT:
        assert target in ("lint_mainlayer", "lint_mainlayer.api", "lint_mainlayer.types", "lint_mainlayer.records"), (
            f"{source} reaches past api into {target}"
        )


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_only_runtime_imports_tensorflow_or_transformers(path: Path) -> None:
    heavy = {name for name in imports(path) if name.split(".")[0] in HEAVY}
    if layer(module_name(path)) == RUNTIME:
        return
    assert heavy == set()


def test_the_test_would_see_an_upward_import() -> None:
    # The checks above are not vacuous: an engine module importing the api is caught.
    assert RANK[layer("lint_mainlayer.api")] < RANK[layer("lint_mainlayer.engine")]
    assert imports(PACKAGE / "cli.py") >= {"lint_mainlayer.api"}
