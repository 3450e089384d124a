"""The transformers version MLL004 assumes comes from the project's own files, and every
MLL004 message (and --show-settings) says which version and where it came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from lint_mainlayer import project_version
from lint_mainlayer.cli import main
from lint_mainlayer.config import clear_caches

SUBCLASS = (
    "import tensorflow as tf\n"
    "from transformers import TFBertMainLayer, TFBertPreTrainedModel\n"
    "class Enc(TFBertPreTrainedModel):\n"
    "    def __init__(self, config, *inputs, **kwargs):\n"
    "        super().__init__(config, *inputs, **kwargs)\n"
    '        self.bert = TFBertMainLayer(config, name="bert")\n'
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()  # the project root: the search stops here
    (tmp_path / "enc.py").write_text(SUBCLASS)
    clear_caches()
    yield tmp_path
    clear_caches()


@pytest.mark.parametrize(
    "name, text, version, source",
    [
        pytest.param(
            "uv.lock",
            'version = 1\n[[package]]\nname = "numpy"\nversion = "2.0.0"\n[[package]]\nname = "transformers"\nversion = "4.36.2"\n',
            (4, 36), "uv.lock: transformers 4.36.2", id="uv.lock",
        ),
        pytest.param(
            "poetry.lock", '[[package]]\nname = "transformers"\nversion = "4.40.0"\n',
            (4, 40), "poetry.lock: transformers 4.40.0", id="poetry.lock",
        ),
        pytest.param(
            "pdm.lock", '[[package]]\nname = "transformers"\nversion = "4.31.0"\n',
            (4, 31), "pdm.lock: transformers 4.31.0", id="pdm.lock",
        ),
        pytest.param(
            "Pipfile.lock", '{"default": {"transformers": {"version": "==4.35.0"}}, "develop": {}}',
            (4, 35), "Pipfile.lock: transformers 4.35.0", id="Pipfile.lock",
        ),
        pytest.param(
            "requirements.txt", "numpy\n# transformers==4.50\ntransformers[tf]==4.36.2 ; python_version >= '3.8'\n",
            (4, 36), "requirements.txt: transformers==4.36.2", id="requirements",
        ),
        pytest.param(
            "requirements-dev.txt", "transformers~=4.33.0\n",
            (4, 33), "requirements-dev.txt: transformers~=4.33.0", id="compatible-release",
        ),
        pytest.param(
            "constraints.txt", "transformers<4.37\n",
            (4, 36), "constraints.txt: transformers<4.37", id="constraints-upper-bound",
        ),
        pytest.param(
            "pyproject.toml", '[project]\nname = "x"\ndependencies = ["numpy"]\n[project.optional-dependencies]\ntf = ["transformers>=4.38,<4.45"]\n',
            (4, 44), "pyproject.toml: transformers>=4.38,<4.45", id="pyproject-optional",
        ),
        pytest.param(
            "setup.cfg", "[options]\ninstall_requires =\n    numpy\n    transformers==4.30.0\n",
            (4, 30), "setup.cfg: transformers==4.30.0", id="setup.cfg",
        ),
        pytest.param(
            "environment.yml", "name: x\ndependencies:\n  - python=3.10\n  - transformers=4.36\n",
            (4, 36), "environment.yml: transformers=4.36", id="conda-prefix",
        ),
        pytest.param(
            "environment.yml", "dependencies:\n  - pip:\n    - transformers==5.0.0\n",
            None, "environment.yml: transformers==5.0.0", id="5.x-means-newest-4.x",
        ),
    ],
)
def test_pins_read_from_project_files(
    name: str, text: str, version: tuple[int, int] | None, source: str, project: Path
) -> None:
    (project / name).write_text(text)
    found = project_version.find(project)
    assert found == project_version.ProjectVersion(version, source)


def test_unpinned_is_passed_over_and_a_lock_wins(project: Path) -> None:
    (project / "requirements.txt").write_text("transformers\n")
    assert project_version.find(project) is None
    (project / "requirements.txt").write_text("transformers>=4.20,<4.40\n")
    (project / "uv.lock").write_text('[[package]]\nname = "transformers"\nversion = "4.39.1"\n')
    clear_caches()
    assert project_version.find(project) == project_version.ProjectVersion((4, 39), "uv.lock: transformers 4.39.1")


def test_nearest_folder_wins_and_the_search_stops_at_the_project_root(project: Path, tmp_path: Path) -> None:
    (project / "requirements.txt").write_text("transformers==4.36.0\n")
    sub = project / "app"
    sub.mkdir()
    assert project_version.find(sub) == project_version.ProjectVersion((4, 36), "requirements.txt: transformers==4.36.0")
    (sub / "requirements.txt").write_text("transformers==4.40.0\n")
    clear_caches()
    assert project_version.find(sub).version == (4, 40)  # type: ignore[union-attr]
    # A subproject with its own pyproject.toml does not read its parent's files.
    other = project / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "other"\n')
    assert project_version.find(other) is None


def test_a_range_across_4_37_is_named_not_guessed(project: Path) -> None:
    (project / "requirements.txt").write_text("transformers>=4.30,<4.40\n")
    found = project_version.find(project)
    assert found is not None and found.ambiguous == ">=4.30,<4.40" and found.version == (4, 39)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--no-cache", *argv])
    return code, capsys.readouterr().out


def test_pin_below_4_37_silences_mll004_where_the_installed_version_would_not(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(["enc.py"], capsys)
    # The installed transformers (4.57 in the test environment) or the newest 4.x.
    assert code == 1 and "MLL004" in out
    assert "[assuming transformers 4." in out or "[assuming the newest transformers 4.x" in out
    (project / "requirements.txt").write_text("transformers==4.36.2\n")
    clear_caches()
    code, out = _run(["enc.py"], capsys)
    assert code == 0, out
    # The fix hook (pre-commit's isolated environment has no transformers) adds no build().
    assert _run(["--fix", "enc.py"], capsys)[0] == 0
    assert (project / "enc.py").read_text() == SUBCLASS


def test_every_mll004_message_names_the_version_and_its_source(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "uv.lock").write_text('[[package]]\nname = "transformers"\nversion = "4.41.0"\n')
    code, out = _run(["enc.py"], capsys)
    assert code == 1
    assert out.splitlines()[0].endswith("[assuming transformers 4.41 (uv.lock: transformers 4.41.0)] [*]")
    code, out = _run(["--target-transformers", "4.45", "enc.py"], capsys)
    assert "[assuming transformers 4.45 (--target-transformers)]" in out
    (project / "pyproject.toml").write_text('[tool.lint-mainlayer]\ntarget-transformers = "4.50"\n')
    clear_caches()
    code, out = _run(["enc.py"], capsys)
    assert f"[assuming transformers 4.50 (target-transformers in {project / 'pyproject.toml'})]" in out
    # The command line outranks the setting.
    assert _run(["--target-transformers", "4.36", "enc.py"], capsys)[0] == 0


def test_a_range_across_4_37_gets_a_finding_that_says_so_and_no_fix(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "requirements.txt").write_text("transformers>=4.30,<4.40\n")
    code, out = _run(["enc.py"], capsys)
    assert code == 1
    assert "[requirements.txt: transformers>=4.30,<4.40 allows transformers on both sides of 4.37" in out
    assert "[*]" not in out
    assert _run(["--fix", "enc.py"], capsys)[0] == 1
    assert (project / "enc.py").read_text() == SUBCLASS


def test_show_settings_names_the_version_and_its_source(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "requirements.txt").write_text("transformers==4.36.2\n")
    code, out = _run(["--show-settings", "enc.py"], capsys)
    assert code == 0
    assert "Resolved settings for: enc.py" in out
    assert 'target-transformers = "4.36"  # requirements.txt: transformers==4.36.2' in out
