"""Every fixture: findings match the markers, the fix gives the expected file, a second fix
changes nothing, the fixed file has no fixable finding, and CRLF/BOM files keep them.

A marker `# error: MLL001:8` says a finding of that code starts on its line at column 8
(1-based, in characters), as flake8-bugbear's eval files do. A fix keeps the comments of the
line it rewrites, markers among them, so fixed sources are compared with the expected ones
without markers; an expected file's own markers are the findings left in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lint_mainlayer import api, engine
from lint_mainlayer.types import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# `runtime/` holds runnable scripts, `project/` multi-module projects (tests/test_project.py).
CASES = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name not in ("runtime", "project"))
FIXABLE = [c for c in CASES if (c / "expected.py").exists()]
_MARKER = re.compile(r"#\s*error:\s*(?P<codes>MLL\d{3}:\d+(?:\s*,\s*MLL\d{3}:\d+)*)\s*$")
_MARKER_COMMENT = re.compile(r"[ \t]*#\s*error:[^\r\n]*")


def markers(source: str) -> set[tuple[int, int, str]]:
    """(line, column, code) of every marker."""
    found = set()
    for number, line in enumerate(source.splitlines(), 1):
        match = _MARKER.search(line)
        if match:
            for item in match.group("codes").split(","):
                code, column = item.strip().split(":")
                found.add((number, int(column), code))
    return found


def findings(source: str) -> set[tuple[int, int, str]]:
    return {(d.line, d.column, d.code) for d in engine.lint_source(source)}


def without_markers(source: str) -> str:
    return _MARKER_COMMENT.sub("", source)


def expected(case: Path, name: str) -> str:
    path = case / name
    return path.read_text("utf-8") if path.exists() else (case / "input.py").read_text("utf-8")


def test_fixtures_exist() -> None:
    assert len(CASES) >= 20 and len(FIXABLE) >= 12


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_findings_match_markers(case: Path) -> None:
    source = (case / "input.py").read_text("utf-8")
    malformed = [line for line in source.splitlines() if "# error:" in line and not _MARKER.search(line)]
    assert malformed == [], "markers need a column: # error: MLL001:8"
    assert findings(source) == markers(source)


EXPECTED = sorted(p for c in CASES for p in c.glob("expected*.py"))


@pytest.mark.parametrize("path", EXPECTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_expected_files_mark_the_findings_left(path: Path) -> None:
    source = path.read_text("utf-8")
    assert findings(source) == markers(source)


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_fix_gives_expected_and_is_idempotent(case: Path, unsafe: bool) -> None:
    source = (case / "input.py").read_text("utf-8")
    want = expected(case, "expected.py")
    if unsafe:
        want = expected(case, "expected_unsafe.py") if (case / "expected_unsafe.py").exists() else want
    first = engine.fix_source(source, unsafe=unsafe)
    assert without_markers(first.source) == without_markers(want)
    second = engine.fix_source(first.source, unsafe=unsafe)
    assert second.source == first.source and second.applied == ()
    left = engine.lint_source(first.source)
    assert not [d for d in left if d.fix is not None and (unsafe or d.fix.applicability == "safe")]


@pytest.mark.parametrize("case", FIXABLE, ids=lambda c: c.name)
@pytest.mark.parametrize(
    "prefix, newline",
    [(b"", b"\r\n"), (b"\xef\xbb\xbf", b"\n"), (b"\xef\xbb\xbf", b"\r\n")],
    ids=["crlf", "bom", "bom-crlf"],
)
def test_fix_keeps_bom_and_line_endings(case: Path, prefix: bytes, newline: bytes) -> None:
    def shaped(text: str) -> bytes:
        return prefix + text.encode("utf-8").replace(b"\n", newline)

    data = shaped((case / "input.py").read_text("utf-8"))
    result, new = api.check_source(data, "x.py", Settings(), api.Options(fix=True))
    assert result.error is None
    assert new is not None
    assert without_markers(new.decode("utf-8")) == without_markers(shaped(expected(case, "expected.py")).decode("utf-8"))
