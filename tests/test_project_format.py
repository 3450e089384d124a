"""The runtime projects (fixtures/runtime/project/, issue 16), checked without TensorFlow
(tests/runtime/test_project_differential.py then runs them): each is a real project (its
own pyproject.toml, a package at its root or under src/, a script `train.py` importing it),
its truth markers parse and sit on construction lines of its package's modules, and its
name says which case it is."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # the project's own dependency there
    import tomli as tomllib

from tests.differential_truth import (
    MarkerError,
    Project,
    call_lines,
    parse_project,
    projects,
)
from tests.runtime.runtime_support import TINY  # constants only: imports no TensorFlow

CASES = ("bug", "scratch", "loaded", "correct")


def _imports(path: Path) -> list[ast.Import | ast.ImportFrom]:
    tree = ast.parse(path.read_text("utf-8"))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def _packages(project: Project) -> set[str]:
    return {p.parent.name for p in project.import_root.glob("*/__init__.py")}


def test_there_are_many_projects_of_every_case_and_shape() -> None:
    parsed = [parse_project(p) for p in projects()]
    assert len(parsed) >= 12
    assert len({p.arch for p in parsed}) >= 5
    assert {p.name.split("_")[0] for p in parsed} == set(CASES)
    assert {p.import_root.name == "src" for p in parsed} == {True, False}, "both package and src layouts"
    relative = absolute_from = module_alias = False
    for project in parsed:
        for module in project.modules:
            for node in _imports(module.path):
                if isinstance(node, ast.ImportFrom) and node.level > 0:
                    relative = True
                elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _packages(project):
                    absolute_from = True
                elif isinstance(node, ast.Import) and any(
                    a.name.split(".")[0] in _packages(project) and "." in a.name and a.asname for a in node.names
                ):
                    module_alias = True
    assert relative and absolute_from and module_alias, "`from .x import`, `from pkg.x import`, `import pkg.x as m`"
    truths = {str(t) for p in parsed for _, t in p.truths}
    assert truths >= {"random", "random deliberate", "pretrained", "fine-tuned", "unbuilt"}


@pytest.mark.parametrize("root", projects(), ids=lambda p: p.name)
def test_project_is_well_formed(root: Path) -> None:
    project = parse_project(root)
    assert root.name.isidentifier(), "test ids and xfail rows name projects by folder"
    assert root.name.split("_")[0] in CASES, f"a project's name starts with its case: {', '.join(CASES)}"
    assert project.arch in TINY, f"LML_CKPT_{project.arch.upper()}: no tiny checkpoint for {project.arch!r}"
    metadata = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    assert metadata["project"]["name"], "pyproject.toml names the project"

    packages = _packages(project)
    assert packages, f"no package (a folder with __init__.py) in {project.import_root}"
    imported = {
        (node.module or "").split(".")[0] if isinstance(node, ast.ImportFrom) else alias.name.split(".")[0]
        for node in _imports(project.script)
        for alias in node.names
    }
    assert imported & packages, f"{project.script.name} imports none of the project's packages {sorted(packages)}"
    # The point of a project: the construction is in another module than the script.
    script = project.module(project.script)
    assert script is not None and not script.truths, f"{project.script.name} constructs nothing: the builder does"
    assert project.truths, "no `# truth:` marker: the project states nothing to check"
    for module, truth in project.truths:
        assert module.path.resolve().is_relative_to(project.import_root.resolve())
        calls = call_lines(module.path.read_text("utf-8"))
        assert truth.line in calls, f"{project.relative(module.path)}:{truth.line}: a marker on a line that constructs nothing"


@pytest.mark.parametrize("root", projects(), ids=lambda p: p.name)
def test_name_says_the_case(root: Path) -> None:
    """bug: random by mistake (a loader helper may be there, unused); scratch: random on
    purpose; loaded: a loader helper in a third module and nothing random; correct: the
    builder loads, no helper, nothing random."""
    project = parse_project(root)
    case = root.name.split("_")[0]
    truths = [t for _, t in project.truths]
    helpers = [m for m in project.modules if m.path.name == "loading.py"]
    if case == "bug":
        assert any(t.wants_finding for t in truths)
    elif case == "scratch":
        assert any(t.status == "random" and t.deliberate for t in truths) and not any(t.wants_finding for t in truths)
    else:
        assert all(t.status != "random" for t in truths)
        assert bool(helpers) == (case == "loaded"), "a loaded project has a loader helper, loading.py; a correct one none"


def _write_project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, "utf-8")
    return root


def test_a_project_reads_one_checkpoint(tmp_path: Path) -> None:
    root = _write_project(tmp_path / "p", {
        "pyproject.toml": '[project]\nname = "p"\n',
        "train.py": 'import os\nfrom pkg.modeling import build\nbuild(os.environ["LML_CKPT_BERT"])\n',
        "pkg/__init__.py": "",
        "pkg/modeling.py": 'import os\ndef build(c):\n    return f(c, os.environ["LML_CKPT_GPT2"])  # truth: random\n',
    })
    with pytest.raises(MarkerError, match="exactly one"):
        parse_project(root)


def test_a_project_has_pyproject_and_script(tmp_path: Path) -> None:
    root = _write_project(tmp_path / "p", {"train.py": 'import os\nos.environ["LML_CKPT_BERT"]\n'})
    with pytest.raises(MarkerError, match="pyproject.toml"):
        parse_project(root)
    (root / "pyproject.toml").write_text('[project]\nname = "p"\n', "utf-8")
    (root / "train.py").rename(root / "main.py")
    with pytest.raises(MarkerError, match="train.py"):
        parse_project(root)


def test_markers_are_found_in_every_module(tmp_path: Path) -> None:
    root = _write_project(tmp_path / "p", {
        "pyproject.toml": '[project]\nname = "p"\n',
        "train.py": 'import os\nfrom pkg import build\nbuild(os.environ["LML_CKPT_BERT"])\n',
        "src/pkg/__init__.py": "from .modeling import build\n",
        "src/pkg/modeling.py": "def build(c):\n    return f(c)  # truth: random deliberate\n",
        "src/pkg/loading.py": "def load(m):\n    m.x = g()  # truth: pretrained\n",
    })
    project = parse_project(root)
    assert project.arch == "bert"
    assert project.import_root == root / "src"
    found = {(project.relative(m.path), t.line, str(t)) for m, t in project.truths}
    assert found == {("src/pkg/modeling.py", 2, "random deliberate"), ("src/pkg/loading.py", 2, "pretrained")}
    with pytest.raises(MarkerError, match="unknown status"):
        (root / "src/pkg/loading.py").write_text("x = g()  # truth: loaded\n", "utf-8")
        parse_project(root)
