"""The project differential test (issue 16): the linter's verdict on multi-module projects
against what happens when their script runs.

Every project in fixtures/runtime/project/ is a tiny runnable project: a package (at its root
or under `src/`) whose builder module constructs main layers or models from a `config`
parameter, a script `train.py` that makes the config and calls the builder, and in some a
loader helper in a third module. The `# truth:` markers (tests/differential_truth.py) sit in
the module holding each construction. Every script runs once per session under the runtime
checker (`run_script`, what `lint-mainlayer verify` runs) in the differential test's
long-lived workers, with its project's import root on `sys.path` as an editable install
would put it, and then:

(a) `test_stated_truth_is_measured`: the checker's status for the layers built on each marked
    line, in whichever module holds it, equals the stated truth, and
    `test_every_layer_is_marked`: every layer the script built is on a marked line of a module
    of its project;
(b) `test_linter_agrees_with_runtime`: linting the project through the command line
    (`--output-format json`) reports a finding on a construction line, in the file holding
    it, exactly when its layers run with random weights by mistake. Three ways of linting:
    the project folder (`folder`), only its script (`script`: the construction is in
    another file, where the finding must be reported), and only the module holding the
    construction (`module`: what pre-commit passes when that module changed). And
    `test_every_finding_is_on_a_marked_line`: no finding elsewhere;
(c) `test_fix_turns_random_into_pretrained`: `--fix` on a copy of each project folder gives a
    project whose script still runs, in which each random-by-mistake construction is now
    pretrained or fine-tuned and every other one keeps its truth (a fix in the builder
    module must not break the script of another).

DISAGREEMENTS lists where the linter is wrong today, each case an xfail(strict=True), as in
tests/runtime/test_differential.py: when the project analysis (issue 16) fixes a case, it
XPASSes, which fails the run until its row is removed. A wrong truth (a) is never listed:
correct the project instead. Rows that the project analysis should fix say so
(`NEEDS_PROJECT`); the others say why they stay.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from differential_worker import (
    Job,
    Run,
    forget_modules,
    run_all,
    worker_environment,
)
from runtime_support import REPO, subprocess_env

from lint_mainlayer.cli import main
from tests.differential_truth import (
    PROJECT_SCRIPT,
    Project,
    Script,
    Truth,
    parse_project,
    projects,
)

pytestmark = pytest.mark.runtime

PROJECTS: dict[str, Project] = {p.name: p for p in map(parse_project, projects())}
WORKERS = 2  # the differential test's: both share one pool of workers

MISSED = "missed"  # random by mistake, and no finding on the line
FALSE_FINDING = "false finding"  # a finding on a line whose layers are not random by mistake
FIX = "fix"  # after --fix on the folder, the construction is not what it should be (or the script fails)
GOOD = {"pretrained", "fine-tuned"}

FOLDER = "folder"  # `lint-mainlayer <project>`
SCRIPT = "script"  # `lint-mainlayer <project>/train.py`
MODULE = "module"  # `lint-mainlayer <the module holding the construction>`
TARGETS = (FOLDER, SCRIPT, MODULE)

NEEDS_PROJECT = "needs the project analysis (issue 16)"
_NO_FIX = (
    "no safe fix: the builder has only its `config` parameter, and the checkpoint is named by a caller in another "
    "module (MLL002's fix, `from_pretrained(config.name_or_path, ...)`, is unsafe: 4.x leaves `name_or_path` empty)"
)
_NO_MODEL_FIX = (
    "no safe fix: a whole model's fix loads `from_pretrained(<checkpoint>, config=config)`, and the checkpoint is "
    "named by a caller in another module"
)

# Where the linter disagrees with the runtime: (project, "module:line", kind, target) -> why.
# Remove a row when its case XPASSes.
DISAGREEMENTS: dict[tuple[str, str, str, str], str] = {
    # Fixes (`--fix` on the folder: safe fixes only).
    ("bug_by_name_unnamed_distilbert", "textenc/modeling.py:9", FIX, FOLDER): _NO_FIX,
    ("bug_class_pkg_bert", "classifier/modeling.py:10", FIX, FOLDER): _NO_FIX,
    ("bug_class_reexport_albert", "qa/modeling.py:10", FIX, FOLDER): _NO_FIX,
    ("bug_function_src_distilbert", "src/textenc/modeling.py:7", FIX, FOLDER): _NO_FIX,
    ("bug_import_as_roberta", "tagger/modeling.py:9", FIX, FOLDER): _NO_FIX,
    ("bug_keras_layer_gpt2", "scorer/layers.py:10", FIX, FOLDER): _NO_FIX,
    ("bug_loader_not_called_bert", "classifier/modeling.py:10", FIX, FOLDER): _NO_FIX,
    ("bug_model_chain_src_gpt2", "src/lm/modeling.py:7", FIX, FOLDER): _NO_MODEL_FIX,
}

# (project, target) -> why, for `test_every_finding_is_on_a_marked_line`.
STRAY: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Case:
    project: Project
    module: Script  # the module holding the construction
    truth: Truth
    kind: str  # the disagreement this case would be: MISSED, FALSE_FINDING or FIX
    target: str  # what is linted: FOLDER, SCRIPT or MODULE

    @property
    def where(self) -> str:
        return f"{self.project.relative(self.module.path)}:{self.truth.line}"

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.project.name, self.where, self.kind, self.target)

    @property
    def id(self) -> str:
        return f"{self.project.name}:{self.where}" + (f"[{self.target}]" if self.target else "")


def _xfail(reason: str | None) -> list[pytest.MarkDecorator]:
    return [] if reason is None else [pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)]


MEASURED_CASES = [Case(p, m, t, "", "") for p in PROJECTS.values() for m, t in p.truths]
LINT_CASES = [
    Case(p, m, t, MISSED if t.wants_finding else FALSE_FINDING, target)
    for p in PROJECTS.values()
    for m, t in p.truths
    for target in TARGETS
]
FIX_CASES = [Case(p, m, t, FIX, FOLDER) for p in PROJECTS.values() for m, t in p.truths]


@dataclass(frozen=True)
class Finding:
    path: Path  # resolved
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path.name}:{self.line}: {self.code} {self.message}"


LINT_OPTIONS = ("--output-format", "json", "--no-cache", "-j", "1")


def _findings(output: str, cwd: Path) -> tuple[Finding, ...]:
    found: list[dict[str, Any]] = json.loads(output)
    return tuple(Finding((cwd / f["path"]).resolve(), int(f["line"]), str(f["code"]), str(f["message"])) for f in found)


def _project_of(target: Path) -> Project:
    return next(p for p in PROJECTS.values() if target.resolve().is_relative_to(p.root.resolve()))


def _copy_of(project: Project, module: Script) -> Script:
    """The module of the same path in (a copy of) the project."""
    found = project.module(project.root / _project_of(module.path).relative(module.path))
    assert found is not None, f"{module.path.name}: gone from the fixed copy"
    return found


def _main(root: Path, *argv: str) -> tuple[int, str, str]:
    """`lint-mainlayer ARGV` run from `root`, in this process (`main(argv)`: no interpreter
    start per target; `test_command_line_in_a_process_agrees` checks that a real process says
    the same): exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(list(argv))
    finally:
        os.chdir(here)
    return status, out.getvalue(), err.getvalue()


@cache
def _lint(target: Path) -> tuple[Finding, ...]:
    """`lint-mainlayer --output-format json TARGET` from the project's root, as pre-commit or
    a user runs it."""
    root = _project_of(target).root
    status, out, err = _main(root, *LINT_OPTIONS, str(target))
    assert status in (0, 1), f"lint-mainlayer {target} exited {status}:\n{err}"
    return _findings(out, root)


def _targets(project: Project, target: str, module: Script | None = None) -> list[Path]:
    if target == FOLDER:
        return [project.root]
    if target == SCRIPT:
        return [project.script]
    if module is not None:
        return [module.path]
    return [m.path for m in project.modules if m.truths]  # every module holding a construction


@dataclass(frozen=True)
class Runs:
    """Every selected project's run, and the run of its fixed copy (None: --fix changed
    nothing), by project name."""

    runs: dict[str, Run]
    fixed: dict[str, tuple[Project, Run] | None]


@pytest.fixture(scope="session")
def project_runs(
    checkpoints: dict[str, Path], tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Runs]:
    # Only the projects the selected tests need (`-k bug_class` runs one script, not all).
    # Other modules' parameters may be named `case` or `name` too: only this module's count.
    selected = [
        item.callspec.params
        for item in request.session.items
        if hasattr(item, "callspec") and getattr(item, "module", None) is sys.modules[__name__]
    ]
    cases = [params["case"] for params in selected if isinstance(params.get("case"), Case)]
    needed = {case.project.name for case in cases} | {params["name"] for params in selected if "name" in params}
    jobs = [_job(p, checkpoints, tmp_path_factory.mktemp(f"project-{p.name}")) for p in PROJECTS.values() if p.name in needed]
    fixed: dict[str, Project | None] = {}
    for name in sorted({case.project.name for case in cases if case.kind == FIX}):
        copy = fixed[name] = _fixed_copy(PROJECTS[name], tmp_path_factory.mktemp(f"fixed-{name}"))
        if copy is not None:
            jobs.append(_job(copy, checkpoints, tmp_path_factory.mktemp(f"run-fixed-{name}")))
    start = time.monotonic()
    runs = run_all(jobs, worker_environment(checkpoints), workers=WORKERS)
    elapsed = time.monotonic() - start
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    message = (
        f"project differential: {len(jobs)} project scripts ({len(jobs) - len(needed)} fixed copies) in {elapsed:.0f} s on {min(WORKERS, len(jobs))} "
        "worker(s); slowest: "
        + ", ".join(f"{Path(r.script).parent.name} {r.seconds:.1f} s" for r in sorted(runs.values(), key=lambda r: -r.seconds)[:3])
    )
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(message)
    else:
        print(message, file=sys.stderr)
    yield Runs(
        runs={name: runs[str(p.script)] for name, p in PROJECTS.items() if name in needed},
        fixed={name: None if f is None else (f, runs[str(f.script)]) for name, f in fixed.items()},
    )


def _job(project: Project, checkpoints: dict[str, Path], workdir: Path) -> Job:
    # A src layout's package is importable as an editable install makes it.
    paths = (str(project.import_root),) if project.import_root != project.root else ()
    return Job(str(project.script), str(checkpoints[project.arch]), str(workdir), paths=paths)


def _fixed_copy(project: Project, folder: Path) -> Project | None:
    """`lint-mainlayer --fix` on a copy of the project folder; None when it changed nothing."""
    copy = folder / project.name
    shutil.copytree(project.root, copy, ignore=shutil.ignore_patterns("__pycache__"))
    status, _, err = _main(copy, "--fix", "--no-cache", "-j", "1", "--quiet", ".")
    assert status in (0, 1), f"{project.name}: --fix exited {status}:\n{err}"
    changed = [
        m for m in project.modules if (copy / project.relative(m.path)).read_bytes() != m.path.read_bytes()
    ]
    return parse_project(copy) if changed else None


def test_disagreements_table_is_current() -> None:
    """Every row names a case that exists: a stale row (line moved, case gone) must go."""
    assert not sorted(set(DISAGREEMENTS) - {c.key for c in LINT_CASES + FIX_CASES})
    assert not sorted(set(STRAY) - {(name, target) for name in PROJECTS for target in TARGETS})


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in MEASURED_CASES])
def test_stated_truth_is_measured(case: Case, project_runs: Runs) -> None:
    run = project_runs.runs[case.project.name]
    assert run.error is None, run.failure()
    statuses = run.statuses(case.module.path, case.truth.line)
    assert statuses, f"{case.id}: marked `{case.truth}` but no main layer was constructed on that line"
    assert set(statuses) == {case.truth.status}, (
        f"{case.id}: the project says `{case.truth}`, the checker measured {statuses}; correct the project\n"
        + run.explain(case.module.path, case.truth.line)
    )


@pytest.mark.parametrize("name", list(PROJECTS))
def test_every_layer_is_marked(name: str, project_runs: Runs) -> None:
    project = PROJECTS[name]
    run = project_runs.runs[name]
    assert run.error is None, run.failure()
    assert run.layers, "the script built no main layer"
    unmarked = []
    for layer in run.layers:
        module = project.module(layer.file) if layer.file else None
        if module is None or module.truth_at(layer.line) is None:
            unmarked.append(f"{layer.file or '?'}:{layer.line} {layer.class_name} ({layer.status})")
    assert not unmarked, "main layers built on lines without a `# truth:` marker:\n" + "\n".join(unmarked)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=_xfail(DISAGREEMENTS.get(c.key))) for c in LINT_CASES])
def test_linter_agrees_with_runtime(case: Case, project_runs: Runs) -> None:
    run = project_runs.runs[case.project.name]
    statuses = run.statuses(case.module.path, case.truth.line)
    random_by_mistake = bool(statuses) and set(statuses) == {"random"} and not case.truth.deliberate
    [target] = _targets(case.project, case.target, case.module)
    findings = [f for f in _lint(target) if f.line == case.truth.line and f.path == case.module.path.resolve()]
    shown = "; ".join(f"{f.code} {f.message}" for f in findings) or "no finding"
    assert bool(findings) == random_by_mistake, (
        f"{case.id}: runtime {statuses} (`{case.truth}`), `lint-mainlayer {os.path.relpath(target, REPO)}`: {shown}"
    )


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=_xfail(DISAGREEMENTS.get(c.key))) for c in FIX_CASES])
def test_fix_turns_random_into_pretrained(case: Case, project_runs: Runs) -> None:
    fixed = project_runs.fixed[case.project.name]
    project, run = (case.project, project_runs.runs[case.project.name]) if fixed is None else fixed
    assert run.error is None, run.failure()
    module = _copy_of(project, case.module)
    # Markers are comments, which fixes keep: the n-th marker of the copy is the n-th of the original.
    assert len(module.truths) == len(case.module.truths), "--fix dropped or added a `# truth:` marker"
    line = module.truths[case.module.truths.index(case.truth)].line
    statuses = run.statuses(module.path, line)
    want = GOOD if case.truth.wants_finding else {case.truth.status}
    assert statuses and set(statuses) <= want, (
        f"{case.id} (`{case.truth}`): after --fix {statuses}, want {' or '.join(sorted(want))}"
        + ("" if fixed is not None else " (--fix changed nothing)")
        + "\n"
        + run.explain(module.path, line)
    )


@pytest.mark.parametrize(
    ("name", "target"),
    [pytest.param(n, t, id=f"{n}[{t}]", marks=_xfail(STRAY.get((n, t)))) for n in PROJECTS for t in TARGETS],
)
def test_every_finding_is_on_a_marked_line(name: str, target: str) -> None:
    """(b) checks marked lines; a finding anywhere else points at no layer the script builds."""
    project = PROJECTS[name]
    stray = []
    for path in _targets(project, target):
        for finding in _lint(path):
            module = project.module(finding.path)
            if module is None or module.truth_at(finding.line) is None:
                stray.append(str(finding))
    assert not stray, "findings on lines that construct no main layer:\n" + "\n".join(stray)


def test_command_line_in_a_process_agrees() -> None:
    """`_lint` runs the command line in this process; a real `python -m lint_mainlayer` on a
    project folder reports the same findings."""
    project = PROJECTS["bug_class_pkg_bert"]
    result = subprocess.run(
        [sys.executable, "-m", "lint_mainlayer", *LINT_OPTIONS, "."],
        cwd=project.root,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert _findings(result.stdout, project.root) == _lint(project.root)


def test_verify_names_the_builder_module(
    checkpoints: dict[str, Path], verify_in_process: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lint-mainlayer verify train.py` reports a layer built in another module of the
    project at that module's line (what (a) relies on), relative to the working folder."""
    project = PROJECTS["bug_class_reexport_albert"]  # no fit: the cheapest run
    [(module, truth)] = project.truths
    monkeypatch.chdir(project.root)
    monkeypatch.setenv("LML_CKPT_ALBERT", str(checkpoints["albert"]))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no __pycache__ in the fixtures
    try:
        result = verify_in_process(PROJECT_SCRIPT)
    finally:
        forget_modules([str(project.root)])
    assert result.exit_code == 1, result.stderr
    [layer] = result.layers
    assert (layer["location"], layer["status"]) == (f"{project.relative(module.path)}:{truth.line}", "random")


def test_a_project_imports_its_own_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two projects with a package of the same name, one after the other in one worker: the
    second imports its own modules, not the first's left in `sys.modules`."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(sys, "path", list(sys.path))
    values = []
    for value in ("first", "second"):
        root = tmp_path / value / "src"
        (root / "lml_probe_pkg").mkdir(parents=True)
        (root / "lml_probe_pkg" / "__init__.py").write_text("from .modeling import VALUE\n", "utf-8")
        (root / "lml_probe_pkg" / "modeling.py").write_text(f"VALUE = {value!r}\n", "utf-8")
        sys.path.insert(0, str(root))
        try:
            values.append(importlib.import_module("lml_probe_pkg").VALUE)
        finally:
            sys.path.remove(str(root))
            forget_modules([str(root)])
        assert not any(name.startswith("lml_probe_pkg") for name in sys.modules)
    assert values == ["first", "second"]
