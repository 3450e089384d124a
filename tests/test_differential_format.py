"""The differential scripts' truth markers, checked without TensorFlow (the runtime test,
tests/runtime/test_differential.py, then measures them): well-formed, at least one per
script, each on a line that calls something, one checkpoint per script."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.differential_truth import STATUSES, MarkerError, call_lines, parse, scripts
from tests.runtime.runtime_support import TINY  # constants only: imports no TensorFlow


def test_there_are_many_scripts_over_several_architectures() -> None:
    parsed = [parse(p) for p in scripts()]
    assert len(parsed) >= 30
    assert len({s.arch for s in parsed}) >= 5
    truths = [t for s in parsed for t in s.truths]
    # Both sides of every verdict: random by mistake, random on purpose, and loaded.
    assert {str(t) for t in truths} >= {"random", "random deliberate", "pretrained", "fine-tuned"}


@pytest.mark.parametrize("path", scripts(), ids=lambda p: p.stem)
def test_markers_are_well_formed(path: Path) -> None:
    source = path.read_text("utf-8")
    script = parse(path)
    assert script.arch in TINY, f"LML_CKPT_{script.arch.upper()}: no tiny checkpoint for {script.arch!r}"
    assert script.truths, "no `# truth:` marker: the script states nothing to check"
    calls = call_lines(source)
    for truth in script.truths:
        assert truth.line in calls, f"line {truth.line}: a `# truth:` marker on a line that constructs nothing"
    assert not path.name.startswith("test_"), "pytest would collect it"
    assert path.stem.isidentifier(), "test ids and xfail rows name scripts by stem"


@pytest.mark.parametrize(
    ("comment", "problem"),
    [
        ("# truth: randm", "unknown status"),
        ("# truth: pretrained deliberate", "only `random` can be deliberate"),
        ("# truth: random, deliberate", "malformed marker"),
        ("# truth random", None),  # not a marker at all: no colon
    ],
)
def test_malformed_markers_are_errors(tmp_path: Path, comment: str, problem: str | None) -> None:
    path = tmp_path / "case.py"
    path.write_text(f'import os\nCKPT = os.environ["LML_CKPT_BERT"]\nx = f(CKPT)  {comment}\n', "utf-8")
    if problem is None:
        assert parse(path).truths == ()
        return
    with pytest.raises(MarkerError, match=problem):
        parse(path)


def test_a_marker_inside_a_string_is_not_a_marker(tmp_path: Path) -> None:
    path = tmp_path / "case.py"
    path.write_text('import os\nCKPT = os.environ["LML_CKPT_BERT"]\nx = "# truth: randm"\ny = f()  # truth: random deliberate\n', "utf-8")
    [truth] = parse(path).truths
    assert (truth.line, truth.status, truth.deliberate, truth.wants_finding) == (4, "random", True, False)


def test_call_lines() -> None:
    source = "x = 1\ny = f(\n    g(x),\n)\n"
    assert call_lines(source) == {2, 3}


def test_exactly_one_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "case.py"
    path.write_text('import os\nA = os.environ["LML_CKPT_BERT"]\nB = os.environ["LML_CKPT_GPT2"]\n', "utf-8")
    with pytest.raises(MarkerError, match="exactly one"):
        parse(path)


def test_statuses_are_the_checkers() -> None:
    from lint_mainlayer.runtime.report import GOOD_STATUSES, Status

    assert set(STATUSES) | {"unknown"} == set(Status.__args__)  # type: ignore[attr-defined]
    assert GOOD_STATUSES <= set(STATUSES)
