"""`--format github`: workflow-command annotations, escaped as the Actions runner expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from lint_mainlayer import engine
from lint_mainlayer.cli import main
from lint_mainlayer.formats import github
from lint_mainlayer.types import Diagnostic, FileResult

BUGGY = (
    "from transformers import BertConfig, TFBertMainLayer\n"
    'config = BertConfig.from_pretrained("bert-base-uncased")\n'
    "bert = TFBertMainLayer(config)\n"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "buggy.py").write_text(BUGGY, encoding="utf-8")
    (tmp_path / "clean.py").write_text("import os\n", encoding="utf-8")
    return tmp_path


def test_cli_prints_one_annotation_per_finding(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--format", "github", "pkg", "clean.py"]) == 1
    out = capsys.readouterr().out
    (line,) = out.splitlines()
    (finding,) = engine.lint_source(BUGGY)
    # The message's `:` and `,` need no escaping (only properties' do).
    assert ":" in finding.message and "," in finding.message
    assert line == f"::error file=pkg/buggy.py,line=3,col=8,endLine=3,endColumn=31,title=MLL001::{finding.message}"


def test_clean_prints_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--format", "github", "clean.py"]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        pytest.param("100%", "100%25", "100%25", id="percent"),
        pytest.param("a\r\nb", "a%0D%0Ab", "a%0D%0Ab", id="newlines"),
        pytest.param("a:b,c", "a:b,c", "a%3Ab%2Cc", id="colon-comma"),
        pytest.param("%0A", "%250A", "%250A", id="already-escaped-looking"),
    ],
)
def test_escaping(text: str, data: str, prop: str) -> None:
    assert github.escape_data(text) == data
    assert github.escape_property(text) == prop


def test_properties_and_message_are_escaped() -> None:
    diagnostic = Diagnostic("MLL001", "50% of\nweights", 2, 1, 2, 4)
    assert github.annotation("dir,1/a:b.py", diagnostic) == (
        "::error file=dir%2C1/a%3Ab.py,line=2,col=1,endLine=2,endColumn=4,title=MLL001::50%25 of%0Aweights"
    )


def test_multiline_span_has_no_columns() -> None:
    diagnostic = Diagnostic("MLL002", "m", 3, 5, 6, 2)
    assert github.annotation("m.py", diagnostic) == "::error file=m.py,line=3,endLine=6,title=MLL002::m"


def test_files_that_could_not_be_checked_are_annotated() -> None:
    rendered = github.render([FileResult("bad.py", error="syntax error at 1:5: bad")])
    assert rendered == "::error file=bad.py,title=lint-mainlayer::cannot check: syntax error at 1:5: bad"
