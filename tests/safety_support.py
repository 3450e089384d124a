"""Helpers shared by the robustness tests (fuzzing, real code, data safety, security)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import libcst

from lint_mainlayer import api
from lint_mainlayer.source import decode
from lint_mainlayer.types import Diagnostic, Settings

BUGGY = (
    "from transformers import BertConfig, TFBertMainLayer\n"
    'config = BertConfig.from_pretrained("bert-base-uncased")\n'
    "bert = TFBertMainLayer(config)\n"
)


def fixed(source: str, encoding: str = "utf-8") -> str:
    """What `--fix` makes of `source` (the import layout is the engine's business, not these tests')."""
    result, new_data = api.check_source(source.encode(encoding), "x.py", Settings(), api.Options(fix=True))
    assert result.error is None, result.error
    return new_data.decode(encoding) if new_data is not None else source


FIXED = fixed(BUGGY)
assert 'bert = TFBertModel.from_pretrained("bert-base-uncased", config=config).bert\n' in FIXED

# libcst counts lines as the tokenizer does: only CR, LF and CRLF end one (not the form
# feeds and Unicode separators that str.splitlines also splits on).
_LINE_END = re.compile(r"\r\n|\r|\n")


def physical_lines(text: str) -> list[str]:
    """The file's lines without their endings, as positions count them."""
    return _LINE_END.split(text)


def range_problems(text: str, diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> list[str]:
    """Why some finding's (or fix's) range does not lie inside `text`; empty when all do."""
    lines = physical_lines(text)
    problems = []
    for d in diagnostics:
        spans = [("finding", d.line, d.column, d.end_line, d.end_column)]
        if d.fix is not None:
            f = d.fix
            spans.append(("fix", f.line, f.column, f.end_line, f.end_column))
        for what, line, column, end_line, end_column in spans:
            ok = (
                1 <= line <= end_line <= len(lines)
                and 1 <= column <= len(lines[line - 1]) + 1
                and 1 <= end_column <= len(lines[end_line - 1]) + 1
                and (line < end_line or column <= end_column)
            )
            if not ok:
                problems.append(f"{d.code} {what} {line}:{column}-{end_line}:{end_column} outside the file")
    return problems


def fixable(diagnostic: Diagnostic, unsafe: bool) -> bool:
    """Whether `--fix` (with `--unsafe-fixes` when `unsafe`) would apply this finding's fix."""
    fix = diagnostic.fix
    return fix is not None and (unsafe or fix.applicability == "safe")


def python_parses(text: str) -> bool:
    """Whether CPython's own parser accepts `text`."""
    try:
        compile(text, "<fuzz>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def run_cli(
    args: list[str],
    cwd: Path,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    memory_mb: int | None = None,
    python_args: tuple[str, ...] = ("-m", "lint_mainlayer"),
) -> Run:
    """`lint-mainlayer ARGS` in a fresh interpreter (a crash there cannot take pytest down),
    its address space capped at `memory_mb` when given."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}

    def cap() -> None:
        import resource

        limit = memory_mb * 2**20  # type: ignore[operator]
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run(
        [sys.executable, *python_args, *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        env=full_env,
        preexec_fn=cap if memory_mb is not None else None,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def no_traceback(run: Run) -> bool:
    """Whether the run ended on its own terms: an exit status of ours and no Python traceback."""
    return run.returncode in (0, 1, 2) and "Traceback (most recent call last)" not in run.stderr


def fix_properties(data: bytes, unsafe: bool) -> str:
    """Assert what must hold for any file: no internal error; valid Python is analysed;
    findings lie inside the file; the fixed file keeps its encoding and parses; a second
    fix changes nothing; the fixed file has no finding a fix would still apply. Returns
    what happened: "error", "clean" or "fixed"."""
    settings = Settings()
    decoded = decode(data)
    text = decoded.text
    linted, _ = api.check_source(data, "fuzz.py", settings, api.Options())
    if linted.error is not None:
        assert not linted.error.startswith("internal error"), linted.error
        assert not python_parses(text), f"valid Python refused: {linted.error}"
        return "error"
    assert range_problems(text, linted.diagnostics) == []
    fixed_result, new_data = api.check_source(data, "fuzz.py", settings, api.Options(fix=True, unsafe_fixes=unsafe))
    assert fixed_result.error is None, fixed_result.error
    if new_data is None:
        assert not any(fixable(d, unsafe) for d in fixed_result.diagnostics), fixed_result.diagnostics
        return "clean"
    again_decoded = decode(new_data)
    new_text = again_decoded.text
    assert again_decoded.encoding == decoded.encoding
    assert python_parses(new_text), new_text
    libcst.parse_module(new_text)
    assert range_problems(new_text, fixed_result.diagnostics) == []
    again, newer = api.check_source(new_data, "fuzz.py", settings, api.Options(fix=True, unsafe_fixes=unsafe))
    assert again.error is None, again.error
    assert newer is None, f"a second --fix changed the file again:\n{new_text}"
    relinted, _ = api.check_source(new_data, "fuzz.py", settings, api.Options())
    assert not any(fixable(d, unsafe) for d in relinted.diagnostics), relinted.diagnostics
    return "fixed"
