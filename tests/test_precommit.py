"""The pre-commit hooks, run by the real `pre-commit` in a throwaway git repository.

The hooks repository is a snapshot of this checkout as it is on disk (tracked and untracked,
non-ignored files), committed in a temporary repository: `pre-commit try-repo` would only
see committed and modified tracked files, and would install the hook environment again on
every call. pre-commit installs the package (from PyPI dependencies) once per session, into
a temporary PRE_COMMIT_HOME.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lint_mainlayer import engine

pytest.importorskip("pre_commit", reason="needs pre-commit")

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BUGGY = (
    "from transformers import BertConfig, TFBertMainLayer\n"
    'config = BertConfig.from_pretrained("bert-base-uncased")\n'
    "bert = TFBertMainLayer(config)\n"
)
CLEAN = "import os\n"


def _git_env(home: Path | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        # The user's git config (signing, hooks, templates) must not leak into the test.
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    if home is not None:
        env["PRE_COMMIT_HOME"] = str(home)
    return env


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=_git_env(), check=True, capture_output=True, text=True, timeout=120
    )
    return done.stdout


@pytest.fixture(scope="session")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A git repository holding this checkout's working tree in one commit, and the commit."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    if not (REPO / ".git").exists():
        pytest.skip("not run from a git checkout")
    snapshot = tmp_path_factory.mktemp("hooks-repo")
    names = _git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, names):
        source = REPO / name
        if not source.is_file():  # deleted but still in the index
            continue
        target = snapshot / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    _git(snapshot, "init", "-q")
    _git(snapshot, "add", "-A")
    _git(snapshot, "commit", "-q", "-m", "snapshot")
    return snapshot, _git(snapshot, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory, hooks_repo: tuple[Path, str]) -> Path:
    """PRE_COMMIT_HOME with the hooks' environment installed (once per session)."""
    home = tmp_path_factory.mktemp("pre-commit-home")
    project = _make_project(tmp_path_factory.mktemp("install"), hooks_repo)
    done = _pre_commit(project, home, "install-hooks")
    if done.returncode != 0:
        pytest.fail(f"pre-commit could not install the hooks:\n{done.stdout}\n{done.stderr}")
    return home


def _make_project(folder: Path, hooks_repo: tuple[Path, str]) -> Path:
    path, rev = hooks_repo
    (folder / ".pre-commit-config.yaml").write_text(
        textwrap.dedent(
            f"""\
            repos:
              - repo: {path}
                rev: {rev}
                hooks:
                  - id: lint-mainlayer
                  - id: lint-mainlayer-fix
            """
        ),
        encoding="utf-8",
    )
    _git(folder, "init", "-q")
    return folder


def _pre_commit(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args, "--color", "never"],
        cwd=project,
        env=_git_env(home),
        check=False,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture
def project(tmp_path: Path, hooks_repo: tuple[Path, str]) -> Path:
    folder = _make_project(tmp_path, hooks_repo)
    (folder / "buggy.py").write_text(BUGGY, encoding="utf-8")
    (folder / "clean.py").write_text(CLEAN, encoding="utf-8")
    return folder


def _run(project: Path, home: Path, hook: str, *files: str) -> subprocess.CompletedProcess[str]:
    _git(project, "add", "-A")
    return _pre_commit(project, home, "run", hook, "--files", *files)


def test_check_hook_fails_with_the_finding(project: Path, pre_commit_home: Path) -> None:
    done = _run(project, pre_commit_home, "lint-mainlayer", "buggy.py")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "lint-mainlayer" in done.stdout and "Failed" in done.stdout
    assert "buggy.py:3:8: MLL001 `TFBertMainLayer` built from the config of checkpoint" in done.stdout
    assert (project / "buggy.py").read_text(encoding="utf-8") == BUGGY


def test_check_hook_passes_a_clean_file(project: Path, pre_commit_home: Path) -> None:
    done = _run(project, pre_commit_home, "lint-mainlayer", "clean.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout


def test_fix_hook_rewrites_the_file(project: Path, pre_commit_home: Path) -> None:
    done = _run(project, pre_commit_home, "lint-mainlayer-fix", "buggy.py", "clean.py")
    # pre-commit fails a hook that modified files, so the user can review and stage them.
    assert done.returncode == 1, done.stdout + done.stderr
    assert "files were modified by this hook" in done.stdout
    fixed = (project / "buggy.py").read_text(encoding="utf-8")
    # The hook runs this checkout's snapshot, so it fixes exactly as the engine here does.
    assert fixed == engine.fix_source(BUGGY).source
    assert 'bert = TFBertModel.from_pretrained("bert-base-uncased", config=config).bert\n' in fixed
    assert (project / "clean.py").read_text(encoding="utf-8") == CLEAN
    again = _run(project, pre_commit_home, "lint-mainlayer", "buggy.py")
    assert again.returncode == 0, again.stdout + again.stderr


def test_config_excludes_apply_to_files_pre_commit_names(project: Path, pre_commit_home: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.lint-mainlayer]\nextend-exclude = ["generated/"]\n', encoding="utf-8"
    )
    (project / "generated").mkdir()
    (project / "generated" / "buggy.py").write_text(BUGGY, encoding="utf-8")
    done = _run(project, pre_commit_home, "lint-mainlayer", "generated/buggy.py")
    assert done.returncode == 0, done.stdout + done.stderr
    # The same file outside the excluded folder is still checked.
    assert _run(project, pre_commit_home, "lint-mainlayer", "generated/buggy.py", "buggy.py").returncode == 1


def test_hook_environment_has_no_tensorflow(pre_commit_home: Path) -> None:
    pythons = sorted(pre_commit_home.glob("repo*/py_env-*/bin/python")) + sorted(
        pre_commit_home.glob("repo*/py_env-*/Scripts/python.exe")
    )
    assert pythons, f"no hook environment under {pre_commit_home}"
    listing = subprocess.run(
        [
            str(pythons[0]),
            "-c",
            "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'].lower() for d in m.distributions()))",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.split()
    assert "lint-mainlayer" in listing
    assert {"libcst", "click", "pathspec"} <= set(listing)
    assert not [name for name in listing if name.startswith(("tensorflow", "tf-keras", "transformers", "keras"))]


def test_hooks_declare_serial_runs_and_python_and_jupyter_files() -> None:
    text = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    hooks = [block for block in text.split("- id: ")[1:]]
    assert len(hooks) == 2
    for hook in hooks:
        assert "types_or: [python, jupyter]" in hook and "require_serial: true" in hook


def _notebook(*cells: str) -> str:
    import json

    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": cell}
                for cell in cells
            ],
            "metadata": {"language_info": {"name": "python"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    ) + "\n"


def test_hooks_check_and_fix_a_notebook(project: Path, pre_commit_home: Path) -> None:
    original = _notebook("!pip install transformers\n" + BUGGY.splitlines(keepends=True)[0], "".join(BUGGY.splitlines(keepends=True)[1:]))
    (project / "train.ipynb").write_text(original, encoding="utf-8")
    done = _run(project, pre_commit_home, "lint-mainlayer", "train.ipynb")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "train.ipynb:cell 2:2:8: MLL001" in done.stdout
    done = _run(project, pre_commit_home, "lint-mainlayer-fix", "train.ipynb")
    assert done.returncode == 1 and "files were modified by this hook" in done.stdout
    fixed = (project / "train.ipynb").read_text(encoding="utf-8")
    assert "TFBertModel.from_pretrained" in fixed and "!pip install transformers" in fixed
    assert _run(project, pre_commit_home, "lint-mainlayer", "train.ipynb").returncode == 0


def test_pre_commit_reads_the_projects_transformers_pin(project: Path, pre_commit_home: Path) -> None:
    # The hook's environment has no transformers: without the project's pin, MLL004 would
    # assume the newest 4.x and the fix hook would add a build() that breaks 4.36.
    source = (
        "from transformers import TFBertMainLayer, TFBertPreTrainedModel\n"
        "class Enc(TFBertPreTrainedModel):\n"
        "    def __init__(self, config, *inputs, **kwargs):\n"
        "        super().__init__(config, *inputs, **kwargs)\n"
        '        self.bert = TFBertMainLayer(config, name="bert")\n'
    )
    (project / "enc.py").write_text(source, encoding="utf-8")
    done = _run(project, pre_commit_home, "lint-mainlayer", "enc.py")
    assert done.returncode == 1 and "[assuming the newest transformers 4.x (no version found)]" in done.stdout
    (project / "requirements.txt").write_text("transformers==4.36.2\n", encoding="utf-8")
    done = _run(project, pre_commit_home, "lint-mainlayer-fix", "enc.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (project / "enc.py").read_text(encoding="utf-8") == source


PROJECT_FIXTURES = REPO / "fixtures" / "project"


@pytest.mark.parametrize(
    ("case", "changed", "expected"),
    [
        # The script changed alone: the builder it calls holds the finding.
        ("package_bug", "pkg/train.py", "pkg/modeling.py:7:12: MLL001"),
        ("src_bug", "src/app/train.py", "src/app/modeling.py:8:24: MLL001"),
        # The builder changed alone: its callers on disk decide.
        ("package_bug", "pkg/modeling.py", "pkg/modeling.py:7:12: MLL001"),
        ("package_loaded", "pkg/train.py", None),
        ("src_scratch", "src/app/modeling.py", None),
    ],
)
def test_project_analysis_with_one_changed_file(
    tmp_path: Path, hooks_repo: tuple[Path, str], pre_commit_home: Path, case: str, changed: str, expected: str | None
) -> None:
    folder = _make_project(tmp_path, hooks_repo)
    shutil.copytree(PROJECT_FIXTURES / case, folder, dirs_exist_ok=True)
    before = {p: p.read_bytes() for p in folder.rglob("*.py")}
    for hook in ("lint-mainlayer", "lint-mainlayer-fix"):
        done = _run(folder, pre_commit_home, hook, changed)
        if expected is None:
            assert done.returncode == 0, done.stdout + done.stderr
        else:
            assert done.returncode == 1, done.stdout + done.stderr
            assert expected in done.stdout
    # Only the named file may be rewritten, and none of these has a safe fix.
    assert {p: p.read_bytes() for p in folder.rglob("*.py")} == before
