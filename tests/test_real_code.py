"""Real code: the standard library and every installed package's source.

Linting it must not crash, must report no error but for files Python itself cannot compile,
and must find nothing in transformers' own `modeling_tf_*.py`. Real files also serve as hosts
for main-layer snippets, so the rules and fixes meet real-world syntax.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import re
import site
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lint_mainlayer import api, engine
from tests.generated_programs import FUZZ, check_fix_properties, programs
from tests.safety_support import python_parses


def _roots() -> list[Path]:
    candidates = {sysconfig.get_paths()["stdlib"], *site.getsitepackages()}
    for key in ("purelib", "platlib"):
        candidates.add(sysconfig.get_paths()[key])
    # Skip what is absent, and roots inside other roots (site-packages under stdlib).
    present = sorted(Path(p).resolve() for p in candidates if Path(p).is_dir())
    return [p for p in present if not any(p != q and q in p.parents for q in present)]


def _python_files(roots: list[Path]) -> list[Path]:
    files = []
    for root in roots:
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            files.extend(Path(folder, name) for name in sorted(names) if name.endswith(".py"))
    return files


@functools.lru_cache(maxsize=1)
def real_files() -> list[Path]:
    """Every installed Python source: walked on first use, not when the module is collected
    (a run with `-m "not slow"` never pays for it)."""
    return _python_files(_roots())


def _python_rejects(path: Path) -> str | None:
    """Why CPython cannot compile the file (its own decoding included), or None."""
    try:
        compile(path.read_bytes(), str(path), "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    except (RecursionError, MemoryError) as exc:
        return type(exc).__name__
    return None


@pytest.mark.slow
def test_stdlib_and_site_packages() -> None:
    files = real_files()
    assert len(files) > 1000, _roots()
    errors: dict[str, str] = {}
    findings: dict[str, list[str]] = {}
    count = 0
    for result in api.check_paths(files, api.Options(jobs=2)):
        count += 1
        if result.error is not None:
            errors[result.path] = result.error
        if result.diagnostics:
            findings[result.path] = [f"{d.line}:{d.column} {d.code}" for d in result.diagnostics]
    assert count == len(files)
    internal = {p: e for p, e in errors.items() if "internal error" in e}
    assert internal == {}
    # An error is fine only for a file Python cannot compile either.
    wrongly_refused = {p: e for p, e in errors.items() if _python_rejects(Path(p)) is None}
    assert wrongly_refused == {}
    in_transformers = {p: f for p, f in findings.items() if re.search(r"transformers/.*modeling_tf_\w+\.py$", p)}
    assert in_transformers == {}


def _transformers_root() -> Path | None:
    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


_RELATIVE = re.compile(r"^(?P<indent>[ \t]*)from (?P<dots>\.+)(?P<module>[\w.]*) import", re.MULTILINE)


def _absolute_imports(root: Path, path: Path, text: str) -> str:
    """`text` with its relative imports spelled from `transformers`, as user code would."""
    package = ["transformers", *path.relative_to(root).parent.parts]

    def spell(match: re.Match[str]) -> str:
        base = package[: len(package) - (len(match["dots"]) - 1)]
        module = ".".join(base + ([match["module"]] if match["module"] else []))
        return f"{match['indent']}from {module} import"

    return _RELATIVE.sub(spell, text)


@pytest.mark.skipif(_transformers_root() is None, reason="transformers is not installed")
@pytest.mark.parametrize("spelling", ["as-shipped", "absolute-imports"])
def test_transformers_tf_models_have_no_findings(spelling: str) -> None:
    """transformers' own TF models hold their main layers the legitimate way. As shipped,
    their relative imports hide the main layers from the rules; spelled absolutely, as user
    code would, the rules see every one (DPR builds a `TFBertMainLayer` inside a Keras
    layer) and still find nothing."""
    root = _transformers_root()
    assert root is not None
    paths = sorted(root.rglob("modeling_tf_*.py"))
    assert len(paths) >= 60
    findings = {}
    reached = 0
    for path in paths:
        text = path.read_text("utf-8")
        if spelling == "absolute-imports":
            text = _absolute_imports(root, path, text)
        reached += "from transformers.models" in text and "MainLayer(" in text
        diagnostics = engine.lint_source(text)
        if diagnostics:
            findings[str(path.relative_to(root))] = [f"{d.line}: {d.code}" for d in diagnostics]
    if spelling == "absolute-imports":
        assert reached >= 60
    assert findings == {}


@functools.lru_cache(maxsize=1)
def _hosts(limit: int = 400) -> list[str]:
    """Small real modules, spread over the whole list."""
    small = [p for p in real_files() if 500 < p.stat().st_size < 12_000]
    step = max(1, len(small) // limit)
    hosts = []
    for path in small[::step]:
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if python_parses(text) and "\r" not in text:
            hosts.append(text)
    return hosts


@pytest.mark.slow
@settings(FUZZ, max_examples=40)
@given(data=st.data(), unsafe=st.booleans())
def test_real_modules_with_main_layers_spliced_in(data: st.DataObject, unsafe: bool) -> None:
    program = data.draw(programs(st.sampled_from(_hosts())))
    check_fix_properties(program.encode(), unsafe)
