"""ruff's conventions at the command line: selection errors, `ALL`, `extend-select`,
`per-file-ignores`, path errors that never stop the run, a `--diff` that `git apply` takes,
summaries worded as ruff's, standard input, `check`/`rule`, statistics, settings, colour."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lint_mainlayer import codes
from lint_mainlayer.cli import main
from lint_mainlayer.config import clear_caches
from lint_mainlayer.rules import ALL_RULES

BUGGY = (
    "from transformers import BertConfig, TFBertMainLayer\n"
    'config = BertConfig.from_pretrained("bert-base-uncased")\n'
    "bert = TFBertMainLayer(config)\n"
)
FIXED = (
    "from transformers import BertConfig, TFBertModel\n"
    'config = BertConfig.from_pretrained("bert-base-uncased")\n'
    'bert = TFBertModel.from_pretrained("bert-base-uncased", config=config).bert\n'
)
# MLL002, whose fix (through name_or_path) is unsafe.
UNSAFE = "from transformers import TFBertMainLayer\ndef f(config):\n    return TFBertMainLayer(config)\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "buggy.py").write_text(BUGGY)
    clear_caches()
    yield tmp_path
    clear_caches()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--no-cache", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_rule_names_match_the_rules() -> None:
    assert codes.RULE_NAMES == {rule.code: rule.name for rule in ALL_RULES}


@pytest.mark.parametrize(
    "argv, where",
    [
        pytest.param(["--select", "MLL0O1"], "--select", id="select-typo"),
        pytest.param(["--ignore", "MLL001,XYZ"], "--ignore", id="ignore"),
        pytest.param(["--extend-select", "E501"], "--extend-select", id="extend-select"),
    ],
)
def test_unknown_code_on_the_command_line_is_an_error(
    argv: list[str], where: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([*argv, "buggy.py"], capsys)
    assert code == 2 and out == ""
    assert where in err and "invalid rule code" in err
    assert "valid: MLL001, MLL002, MLL003, MLL004" in err


@pytest.mark.parametrize("key", ["select", "extend-select", "ignore"])
def test_unknown_code_in_the_config_is_an_error(key: str, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text(f'[tool.lint-mainlayer]\n{key} = ["XYZ"]\n')
    code, out, err = run(["buggy.py"], capsys)
    assert code == 2
    assert f"[tool.lint-mainlayer] {key}: XYZ" in err and "valid: MLL001" in err


def test_unknown_code_in_per_file_ignores_is_an_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text('[tool.lint-mainlayer.per-file-ignores]\n"*.py" = ["MLL01"]\n')
    code, _, err = run(["buggy.py"], capsys)
    assert code == 2 and "invalid rule code" in err and "MLL01" in err


def test_noqa_with_an_unknown_code_is_ignored_as_in_ruff(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "buggy.py").write_text(BUGGY.replace("(config)\n", "(config)  # noqa: XYZ123\n"))
    code, out, _ = run(["buggy.py"], capsys)
    assert code == 1 and "MLL001" in out


def test_all_selects_every_rule(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text('[tool.lint-mainlayer]\nselect = ["MLL002"]\n')
    assert run(["buggy.py"], capsys)[0] == 0
    code, out, _ = run(["--select", "ALL", "buggy.py"], capsys)
    assert code == 1 and "MLL001" in out
    code, out, _ = run(["--select", "all", "--ignore", "MLL001", "buggy.py"], capsys)
    assert code == 0


def test_extend_select_adds_to_the_config(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text('[tool.lint-mainlayer]\nselect = ["MLL002"]\n')
    assert run(["buggy.py"], capsys)[0] == 0
    code, out, _ = run(["--extend-select", "MLL001", "buggy.py"], capsys)
    assert code == 1 and "MLL001" in out
    (project / "pyproject.toml").write_text('[tool.lint-mainlayer]\nselect = ["MLL002"]\nextend-select = ["MLL00"]\n')
    clear_caches()
    assert run(["buggy.py"], capsys)[0] == 1


def test_per_file_ignores(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "tests").mkdir()
    (project / "tests" / "test_x.py").write_text(BUGGY)
    (project / "pyproject.toml").write_text(
        '[tool.lint-mainlayer.per-file-ignores]\n"tests/*" = ["MLL001"]\n"other.py" = ["ALL"]\n'
    )
    code, out, _ = run(["."], capsys)
    assert code == 1
    assert "buggy.py:3:8: MLL001" in out and "test_x.py" not in out
    # Named explicitly (as pre-commit does), and under --select (which keeps them, as in ruff).
    assert run(["tests/test_x.py"], capsys)[0] == 0
    assert run(["--select", "MLL001", "tests/test_x.py"], capsys)[0] == 0


def test_unreadable_folder_in_a_walk_is_one_error_line(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = project / "locked"
    locked.mkdir()
    (locked / "x.py").write_text(BUGGY)
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        # Permissions do not stop root (the tests may run as root): refuse as a chmod 000 would.
        if os.fspath(path) == str(locked):  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    code, out, err = run(["."], capsys)
    assert code == 2
    assert err == "locked: error: cannot read folder: Permission denied\n"
    assert "buggy.py:3:8: MLL001" in out


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any folder")
def test_chmod_000_folder_in_a_walk(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = project / "locked"
    locked.mkdir()
    (locked / "x.py").write_text(BUGGY)
    locked.chmod(0)
    try:
        code, out, err = run(["."], capsys)
    finally:
        locked.chmod(0o755)
    assert code == 2 and "locked: error: cannot read folder" in err and "buggy.py" in out


def test_dangling_symlink_in_a_walk_is_a_warning(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "gone.py").symlink_to(project / "missing.py")
    code, out, err = run(["."], capsys)
    assert code == 1
    assert err == "gone.py: warning: broken symbolic link, skipped\n"
    # Named explicitly, it is a missing file: an error, and the others are still checked.
    code, out, err = run(["gone.py", "buggy.py"], capsys)
    assert code == 2 and err.startswith("gone.py: error: cannot read") and "buggy.py:3:8" in out


def test_no_traceback_and_exit_2_for_an_internal_error(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lint_mainlayer import api

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "check_paths", broken)
    code, _, err = run(["buggy.py"], capsys)
    assert code == 2
    assert err == "error: internal error, please report: RuntimeError: boom\n"


def _no_newline_project(project: Path) -> Path:
    (project / "buggy.py").write_text(BUGGY.rstrip("\n"))
    return project / "buggy.py"


def test_diff_is_a_patch_git_apply_takes_and_the_summary_is_on_stderr(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _no_newline_project(project)
    code, out, err = run(["--diff", "buggy.py"], capsys)
    assert code == 1
    assert out.endswith("\n\\ No newline at end of file\n") and "Would fix" not in out
    assert err == "Would fix 1 finding.\n"
    (project / "fix.patch").write_text(out)
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    subprocess.run([git, "init", "-q", str(project)], check=True)
    subprocess.run([git, "apply", "fix.patch"], cwd=project, check=True)
    assert target.read_text() == FIXED.rstrip("\n")


def test_diff_summary_names_hidden_fixes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "param.py").write_text(UNSAFE)
    code, out, err = run(["--diff", "param.py"], capsys)
    assert code == 0 and out == ""
    assert err == "No fixes available (1 hidden fix can be enabled with the --unsafe-fixes option).\n"
    code, out, err = run(["--diff", "param.py", "buggy.py"], capsys)
    assert err == "Would fix 1 finding (1 additional fix available with --unsafe-fixes).\n"


def test_check_summaries_are_worded_as_ruffs(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "param.py").write_text(UNSAFE)
    code, out, _ = run(["buggy.py", "param.py"], capsys)
    assert out.endswith(
        "Found 2 findings.\n"
        "[*] 1 fixable with the --fix option (1 hidden fix can be enabled with the --unsafe-fixes option).\n"
    )
    code, out, _ = run(["--fix", "buggy.py", "param.py"], capsys)
    assert out.endswith(
        "Found 2 findings (1 fixed, 1 remaining).\n"
        "No fixes available (1 hidden fix can be enabled with the --unsafe-fixes option).\n"
    )


def test_write_failure_is_an_error_and_not_counted_as_fixed(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lint_mainlayer import api

    def refuse(path: Path, data: bytes, expected: bytes) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(api, "write_atomic", refuse)
    code, out, err = run(["--fix", "buggy.py"], capsys)
    assert code == 2
    assert err == "buggy.py: error: cannot write: Permission denied; file left unchanged\n"
    assert out == "1 file could not be checked or fixed (errors above).\n"
    assert (project / "buggy.py").read_text() == BUGGY


def test_stdin_filename_alone_reads_standard_input(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BUGGY.encode())))
    code, out, _ = run(["--stdin-filename", "src/model.py"], capsys)
    assert code == 1 and out.startswith("src/model.py:3:8: MLL001")


def test_fix_stdin_echoes_source_it_cannot_fix(
    project: Path, monkeypatch: pytest.MonkeyPatch, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    broken = BUGGY + "def broken(:\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(broken.encode())))
    assert main(["--no-cache", "--fix", "-"]) == 2
    captured = capfdbinary.readouterr()
    assert captured.out == broken.encode()
    assert captured.err.startswith(b"-: error: syntax error")


def _last(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_check_subcommand(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bare = run(["buggy.py"], capsys)
    assert main(["check", "--no-cache", "buggy.py"]) == 1
    assert _last(capsys) == bare[1:]
    assert main(["check", "--help"]) == 0
    assert "Usage: lint-mainlayer check" in capsys.readouterr().out


def test_rule_prints_the_documentation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rule", "mll004"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# pretrained-subclass-without-build (MLL004)\n\nFix is sometimes available.\n\n## What it does\n")
    assert "## Fix safety" in out
    assert main(["rule", "--all"]) == 0
    out = capsys.readouterr().out
    assert all(f"({code})" in out for code in codes.RULE_NAMES)
    assert main(["rule", "--all", "--output-format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["code"] for r in records] == list(codes.RULE_NAMES)
    assert records[0]["url"] == codes.doc_url("MLL001")
    assert main(["rule", "XYZ"]) == 2
    assert "unknown rule code 'XYZ'" in capsys.readouterr().err


def test_statistics(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "param.py").write_text(UNSAFE)
    (project / "second.py").write_text(BUGGY)
    code, out, _ = run(["--statistics", "."], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[:2] == [
        "2\tMLL001\t[*] pretrained-config-without-weights",
        "1\tMLL002\t[ ] unknown-config-without-weights",
    ]
    code, out, _ = run(["--statistics", "--output-format", "json", "."], capsys)
    assert json.loads(out) == [
        {"code": "MLL001", "name": "pretrained-config-without-weights", "count": 2, "fixable": True},
        {"code": "MLL002", "name": "unknown-config-without-weights", "count": 1, "fixable": False},
    ]


def test_show_fixes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "second.py").write_text(BUGGY)
    code, out, _ = run(["--fix", "--show-fixes", "."], capsys)
    assert code == 0
    assert out == (
        "Fixed 2 findings:\n"
        "- buggy.py:\n    1 × MLL001 (pretrained-config-without-weights)\n"
        "- second.py:\n    1 × MLL001 (pretrained-config-without-weights)\n"
        "Found 2 findings (2 fixed, 0 remaining).\n"
    )


SUBCLASS = """\
import tensorflow as tf
from transformers import TFBertMainLayer, TFBertPreTrainedModel


class Classifier(TFBertPreTrainedModel):
    def __init__(self, config, *inputs, **kwargs):
        super().__init__(config, *inputs, **kwargs)
        self.encoder = TFBertMainLayer(config)
        self.head = tf.keras.layers.Dense(2)

    def call(self, inputs):
        return self.head(self.encoder(inputs)[1])
"""


def test_show_fixes_counts_each_code_of_each_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As ruff's --show-fixes: per file, how many findings of each code were fixed, the
    most fixed first (then by code); files without a fix are not listed."""
    (project / "buggy.py").write_text(BUGGY + "other = TFBertMainLayer(config)\n")
    (project / "model.py").write_text(SUBCLASS)
    (project / "clean.py").write_text("x = 1\n")
    code, out, _ = run(["--fix", "--unsafe-fixes", "--show-fixes", "."], capsys)
    assert code == 0
    assert out == (
        "Fixed 4 findings:\n"
        "- buggy.py:\n    2 × MLL001 (pretrained-config-without-weights)\n"
        "- model.py:\n    1 × MLL003 (main-layer-name-mismatch)\n    1 × MLL004 (pretrained-subclass-without-build)\n"
        "Found 4 findings (4 fixed, 0 remaining).\n"
    )


def test_show_files_and_show_settings(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pkg").mkdir()
    (project / "pkg" / "a.py").write_text("")
    (project / "notes.txt").write_text("")
    (project / "pyproject.toml").write_text(
        '[tool.lint-mainlayer]\nselect = ["MLL001"]\nextend-select = ["MLL003"]\ntarget-transformers = "4.36"\n'
        '[tool.lint-mainlayer.per-file-ignores]\n"pkg/*" = ["MLL003"]\n'
    )
    code, out, _ = run(["--show-files", "."], capsys)
    assert code == 0 and out.splitlines() == ["buggy.py", "pkg/a.py"]
    assert (project / "buggy.py").read_text() == BUGGY
    code, out, _ = run(["--show-settings", "pkg"], capsys)
    assert code == 0
    assert out.startswith(f"Resolved settings for: pkg/a.py\nSettings path: {project / 'pyproject.toml'}\n")
    assert 'select = ["MLL001", "MLL003"]' in out
    assert 'per-file-ignores (this file) = ["MLL003"]' in out
    assert f'target-transformers = "4.36"  # target-transformers in {project / "pyproject.toml"}' in out
    code, out, _ = run(["--show-settings", "--target-transformers", "4.40", "buggy.py"], capsys)
    assert 'target-transformers = "4.40"  # --target-transformers' in out


def test_add_noqa(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "param.py").write_text(UNSAFE.replace("(config)\n", "(config)  # keep  # noqa: MLL003\n"))
    code, out, err = run(["--add-noqa", "."], capsys)
    assert code == 0 and err == "Added 2 noqa directives.\n"
    assert (project / "buggy.py").read_text() == BUGGY.replace("(config)\n", "(config)  # noqa: MLL001\n")
    assert "(config)  # keep  # noqa: MLL003, MLL002\n" in (project / "param.py").read_text()
    assert run(["."], capsys)[0] == 0
    code, out, err = run(["--add-noqa", "."], capsys)
    assert err == "Added 0 noqa directives.\n"


@pytest.mark.parametrize(
    "argv, env, colored",
    [
        pytest.param([], {}, False, id="auto-off-a-terminal"),
        pytest.param([], {"FORCE_COLOR": "1"}, True, id="FORCE_COLOR"),
        pytest.param([], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, id="NO_COLOR-wins"),
        pytest.param(["--color", "always"], {"NO_COLOR": "1"}, True, id="always"),
        pytest.param(["--color", "never"], {"FORCE_COLOR": "1"}, False, id="never"),
    ],
)
def test_color(
    argv: list[str], env: dict[str, str], colored: bool, project: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _, out, _ = run([*argv, "buggy.py"], capsys)
    assert ("\x1b[" in out) == colored


def test_output_format_and_its_old_name(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = run(["--output-format", "json", "buggy.py"], capsys)
    assert run(["--format", "json", "buggy.py"], capsys) == new
    assert json.loads(new[1])[0]["code"] == "MLL001"


def test_file_level_noqa_with_codes_exempts_only_those(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    both = BUGGY + UNSAFE.split("\n", 1)[1]
    (project / "both.py").write_text("# lint-mainlayer: noqa: MLL002\n" + both)
    code, out, _ = run(["both.py"], capsys)
    assert code == 1 and "MLL001" in out and "MLL002" not in out
    (project / "both.py").write_text("# lint-mainlayer: noqa: MLL001, MLL002\n" + both)
    assert run(["both.py"], capsys)[0] == 0
    (project / "both.py").write_text("# lint-mainlayer: noqa\n" + both)
    assert run(["both.py"], capsys)[0] == 0


def test_file_level_noqa_counts_only_as_a_comment(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "doc.py").write_text('"""\n# lint-mainlayer: noqa\n"""\n' + BUGGY)
    code, out, _ = run(["doc.py"], capsys)
    assert code == 1 and "doc.py:6:8: MLL001" in out


def test_documentation_links_point_at_the_readmes_rule_headings() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for code, name in codes.RULE_NAMES.items():
        # GitHub's anchor for `### MLL001 `name``: lower case, spaces to hyphens, backticks dropped.
        heading = f"### {code} `{name}`"
        assert heading in readme
        anchor = heading.lstrip("# ").replace("`", "").replace(" ", "-").lower()
        assert codes.doc_url(code) == f"{codes.DOCS_URL}#{anchor}"


def test_sarif_rules_carry_help_and_help_uri(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["--output-format", "sarif", "buggy.py"], capsys)
    rules = json.loads(out)["runs"][0]["tool"]["driver"]["rules"]
    assert [r["helpUri"] for r in rules] == [codes.doc_url(c) for c in codes.RULE_NAMES]
    assert all("## What it does" in r["help"]["markdown"] for r in rules)
