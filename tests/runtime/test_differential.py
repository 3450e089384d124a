"""The differential test: the linter's verdict against what happens when the code runs.

Every script in fixtures/runtime/differential/ states, on each line that constructs main
layers, what those layers hold at runtime (`# truth: random`, see tests/differential_truth.py).
All scripts run once per session under the runtime checker (`run_script`, what
`lint-mainlayer verify` runs), in two long-lived worker processes, and then:

(a) `test_stated_truth_is_measured`: the checker's status for the layers built on each marked
    line equals the stated truth (so truths are measured, never assumed), and
    `test_every_layer_is_marked`: every layer the script built is on a marked line;
(b) `test_linter_agrees_with_runtime`: a finding (any MLL code) starts on a construction line
    exactly when its layers run with random weights by mistake (random, not deliberate), and
    `test_every_finding_is_on_a_marked_line`: no finding elsewhere;
(c) `test_fix_turns_random_into_pretrained`: for each script with a random-by-mistake
    construction or a safe fix, `--fix` on a copy gives a script that still runs, in which
    each random-by-mistake construction is now pretrained or fine-tuned and every other one
    keeps its truth.

DISAGREEMENTS lists where the current analysis is wrong, each case an xfail(strict=True): when
an analysis change fixes a case, it XPASSes, which fails the run until its row is removed.
A wrong truth (a) is never listed: correct the script instead.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from differential_worker import Job, Run, run_all, same_file
from runtime_support import TINY

from lint_mainlayer import api
from lint_mainlayer.types import Diagnostic
from tests.differential_truth import Script, Truth, parse, scripts

pytestmark = pytest.mark.runtime

SCRIPTS: dict[str, Script] = {s.name: s for s in map(parse, scripts())}
GOOD = {"pretrained", "fine-tuned"}
WORKERS = 2

MISSED = "missed"  # random by mistake, and no finding on the line
FALSE_FINDING = "false finding"  # a finding on a line whose layers are not random by mistake
FIX = "fix"  # after --fix, the construction is not what it should be (or the script fails)

# Where the current analysis disagrees with the runtime: (script, line, kind) -> why.
# Grouped by the classes of issue 12. Remove a row when its case XPASSes.
DISAGREEMENTS: dict[tuple[str, int, str], str] = {
    # 1. A load is a load of pretrained weights into this layer.
    ("load_step_assign_bert", 16, FIX): "MLL001's fix is unsafe (the config is a parameter of `Classifier`: another call may pass another config), and --fix applies safe fixes only",
    # 2. Every construction is seen.
    ("construct_class_variable_bert", 12, FIX): "no fix for a class called through a variable: the fix cannot name its model class safely",
    ("construct_dict_of_classes_roberta", 12, FIX): "no fix for a class taken from a dict of classes: which model class is unknown",
    ("construct_tuple_loop_distilbert", 13, FIX): "no fix for a class from a loop over classes",
    ("construct_getattr_module_albert", 11, FIX): "no fix for a class reached through `getattr`",
    ("construct_user_subclass_bert", 18, FIX): "no fix for a user subclass of a main layer: the model's `from_pretrained(...).bert` would drop the subclass",
    ("construct_clone_model_bert", 15, FIX): "no fix for a copy made by `clone_model`: copy the weights after cloning by hand",
    ("construct_from_config_gpt2", 12, FIX): "no fix for a copy made by `from_config`",
    ("construct_comprehension_bert", 11, FIX): "no fix for layers built in a comprehension: one extraction would name them all alike, and the several-layers fix needs a name to build and load each",
    # 3. Config origins.
    ("config_parameter_callers_bert", 13, FIX): "MLL001's fix is unsafe (the config is a parameter: another call may pass another config), and --fix applies safe fixes only",
    # 4. Intent.
    ("intent_flag_ignored_bert", 13, FIX): "MLL002 (the config is a conditional expression) has only an unsafe fix",
    # 6. Subclasses.
    ("subclass_inner_keras_layer_roberta", 16, FIX): "MLL003 has no fix for a main layer inside a wrapper layer: store it on the model itself",
    ("subclass_name_kwargs_albert", 16, FIX): "MLL003 has no fix for a name passed in `**{...}`: `name=` would be passed twice",
}


@dataclass(frozen=True)
class Case:
    script: Script
    truth: Truth
    kind: str  # the disagreement this case would be: MISSED, FALSE_FINDING or FIX

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.script.name, self.truth.line, self.kind)

    @property
    def id(self) -> str:
        return f"{self.script.name}:{self.truth.line}"


def _lint(path: Path) -> tuple[Diagnostic, ...]:
    [result] = api.check_paths([path], api.Options())
    assert result.error is None, result.error
    return result.diagnostics


_FINDINGS = {name: _lint(script.path) for name, script in SCRIPTS.items()}


def _has_safe_fix(name: str) -> bool:
    return any(d.fix is not None and d.fix.applicability == "safe" for d in _FINDINGS[name])


#: Scripts whose fixed copy is run: a construction random by mistake, or a safe fix offered.
FIXED = [n for n, s in SCRIPTS.items() if any(t.wants_finding for t in s.truths) or _has_safe_fix(n)]


def _params(cases: list[Case]) -> list[object]:
    return [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(strict=True, raises=AssertionError, reason=DISAGREEMENTS[case.key])] if case.key in DISAGREEMENTS else [],
        )
        for case in cases
    ]


LINT_CASES = [
    Case(s, t, MISSED if t.wants_finding else FALSE_FINDING) for s in SCRIPTS.values() for t in s.truths
]
FIX_CASES = [Case(SCRIPTS[n], t, FIX) for n in FIXED for t in SCRIPTS[n].truths]


@dataclass(frozen=True)
class Runs:
    """Every script's run, and the run of its fixed copy (None: --fix changed nothing)."""

    original: dict[str, Run]
    fixed: dict[str, tuple[Script, Run] | None]


@pytest.fixture(scope="session")
def differential_runs(
    checkpoints: dict[str, Path], tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Runs]:
    environment = {
        "TF_USE_LEGACY_KERAS": "1",
        "HF_HUB_OFFLINE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TRANSFORMERS_VERBOSITY": "error",
        **{f"LML_CKPT_{arch.upper()}": str(checkpoints[arch]) for arch in TINY},
    }
    # Only the scripts the selected tests need (`-k load_step` runs one script, not all).
    selected = [item.callspec.params for item in request.session.items if hasattr(item, "callspec")]
    cases = [params["case"] for params in selected if isinstance(params.get("case"), Case)]
    needed = {case.script.name for case in cases} | {params["name"] for params in selected if params.get("name") in SCRIPTS}
    jobs = [
        Job(str(s.path), str(checkpoints[s.arch]), str(tmp_path_factory.mktemp(f"run-{s.name}")))
        for s in SCRIPTS.values()
        if s.name in needed
    ]
    fixed: dict[str, Script | None] = {}
    for name in sorted({case.script.name for case in cases if case.kind == FIX}):
        script = SCRIPTS[name]
        copy = tmp_path_factory.mktemp(f"fixed-{name}") / script.path.name
        shutil.copy(script.path, copy)
        [result] = api.check_paths([copy], api.Options(fix=True))
        assert result.error is None, f"{name}: --fix failed: {result.error}"
        if copy.read_bytes() == script.path.read_bytes():
            fixed[name] = None  # nothing fixed: the original's run stands for it
            continue
        fixed[name] = parse(copy)
        jobs.append(Job(str(copy), str(checkpoints[script.arch]), str(copy.parent)))

    start = time.monotonic()
    runs = run_all(jobs, environment, workers=WORKERS)
    elapsed = time.monotonic() - start
    # Shown even under output capture: the harness's time is worth watching as scripts multiply.
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    message = (
        f"differential: {len(jobs)} script runs ({len(needed)} scripts, {len(jobs) - len(needed)} fixed copies) "
        f"in {elapsed:.0f} s on {min(WORKERS, len(jobs))} worker(s); slowest: "
        + ", ".join(f"{Path(r.script).stem} {r.seconds:.1f} s" for r in sorted(runs.values(), key=lambda r: -r.seconds)[:3])
    )
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(message)
    else:
        print(message, file=sys.stderr)
    yield Runs(
        original={name: runs[str(s.path)] for name, s in SCRIPTS.items() if name in needed},
        fixed={name: None if f is None else (f, runs[str(f.path)]) for name, f in fixed.items()},
    )


def test_disagreements_table_is_current() -> None:
    """Every row names a case that exists: a stale row (line moved, case gone) must go."""
    keys = {c.key for c in LINT_CASES} | {c.key for c in FIX_CASES}
    assert not sorted(set(DISAGREEMENTS) - keys)


@pytest.mark.parametrize("case", _params([Case(s, t, "") for s in SCRIPTS.values() for t in s.truths]))
def test_stated_truth_is_measured(case: Case, differential_runs: Runs) -> None:
    run = differential_runs.original[case.script.name]
    assert run.error is None, run.failure()
    statuses = run.statuses(case.script.path, case.truth.line)
    assert statuses, f"{case.id}: marked `{case.truth}` but no main layer was constructed on that line"
    assert set(statuses) == {case.truth.status}, (
        f"{case.id}: the script says `{case.truth}`, the checker measured {statuses}; correct the script\n"
        + run.explain(case.script.path, case.truth.line)
    )


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_every_layer_is_marked(name: str, differential_runs: Runs) -> None:
    script = SCRIPTS[name]
    run = differential_runs.original[name]
    unmarked = [
        f"{layer.file}:{layer.line} {layer.class_name} ({layer.status})"
        for layer in run.layers
        if not same_file(layer.file, script.path) or script.truth_at(layer.line) is None
    ]
    assert not unmarked, "main layers built on lines without a `# truth:` marker:\n" + "\n".join(unmarked)


@pytest.mark.parametrize("case", _params(LINT_CASES))
def test_linter_agrees_with_runtime(case: Case, differential_runs: Runs) -> None:
    run = differential_runs.original[case.script.name]
    statuses = run.statuses(case.script.path, case.truth.line)
    random_by_mistake = bool(statuses) and set(statuses) == {"random"} and not case.truth.deliberate
    findings = [d for d in _FINDINGS[case.script.name] if d.line == case.truth.line]
    shown = "; ".join(f"{d.code} {d.message}" for d in findings) or "no finding"
    assert bool(findings) == random_by_mistake, (
        f"{case.id}: runtime {statuses} (`{case.truth}`), linter: {shown}"
    )


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_every_finding_is_on_a_marked_line(name: str) -> None:
    """(b) checks marked lines; a finding anywhere else points at no layer the script builds."""
    script = SCRIPTS[name]
    stray = [f"{d.line}: {d.code} {d.message}" for d in _FINDINGS[name] if script.truth_at(d.line) is None]
    assert not stray, "findings on lines that construct no main layer:\n" + "\n".join(stray)


@pytest.mark.parametrize("case", _params(FIX_CASES))
def test_fix_turns_random_into_pretrained(case: Case, differential_runs: Runs) -> None:
    fixed = differential_runs.fixed[case.script.name]
    script, run = (case.script, differential_runs.original[case.script.name]) if fixed is None else fixed
    assert run.error is None, run.failure()
    # Markers are comments, which fixes keep: the n-th marker of the copy is the n-th of the original.
    assert len(script.truths) == len(case.script.truths), "--fix dropped or added a `# truth:` marker"
    line = script.truths[case.script.truths.index(case.truth)].line
    statuses = run.statuses(script.path, line)
    want = GOOD if case.truth.wants_finding else {case.truth.status}
    assert statuses and set(statuses) <= want, (
        f"{case.id} (`{case.truth}`): after --fix {statuses}, want {' or '.join(sorted(want))}"
        + ("" if fixed is not None else " (--fix changed nothing)")
        + "\n"
        + run.explain(script.path, line)
    )
