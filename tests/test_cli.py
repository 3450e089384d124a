"""The command line through `main(argv)`: output, exit codes, errors, config, fixes."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from lint_mainlayer import __version__
from lint_mainlayer.cli import main

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
CLEAN = "import os\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    (tmp_path / "buggy.py").write_text(BUGGY)
    (tmp_path / "clean.py").write_text(CLEAN)
    return tmp_path


def test_findings_exit_1_with_text_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["buggy.py", "clean.py"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("buggy.py:3:8: MLL001 `TFBertMainLayer` built from the config of checkpoint")
    assert 'use `TFBertModel.from_pretrained("bert-base-uncased", config=config).bert` [*]' in out
    assert "Found 1 finding." in out


def test_clean_exit_0(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clean.py"]) == 0
    assert "No findings." in capsys.readouterr().out


def test_exit_zero_and_quiet(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--exit-zero", "-q", "buggy.py"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "MLL001" in out


def test_folder_walk_skips_venvs_ignored_and_excluded(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for folder in (".venv/lib", "build", "node_modules/x", "ignored", "env_custom", "pkg"):
        (project / folder).mkdir(parents=True)
        (project / folder / "m.py").write_text(BUGGY)
    (project / "env_custom" / "pyvenv.cfg").write_text("home = /usr\n")
    (project / ".gitignore").write_text("ignored/\n")
    (project / ".git").mkdir()
    assert main(["-q", "."]) == 1
    paths = sorted(line.split(":")[0] for line in capsys.readouterr().out.splitlines())
    assert paths == ["buggy.py", os.path.join("pkg", "m.py")]


def test_pyproject_config(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.lint-mainlayer]\nignore = ["MLL001"]\nextend-exclude = ["skipped.py"]\n'
    )
    (project / "skipped.py").write_text("this is not python(\n")
    assert main(["buggy.py", "skipped.py"]) == 0
    assert main(["--select", "MLL001", "buggy.py"]) == 1
    capsys.readouterr()


def test_bad_config_is_an_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text('[tool.lint-mainlayer]\nselcet = ["MLL001"]\n')
    assert main(["buggy.py"]) == 2
    assert "unknown key(s) in [tool.lint-mainlayer]: selcet" in capsys.readouterr().err


def test_select_and_ignore_options(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--ignore", "MLL001", "buggy.py"]) == 0
    assert main(["--select", "MLL002,MLL003", "buggy.py"]) == 0
    assert main(["--select", "MLL", "--ignore", "MLL00", "--select", "MLL001", "buggy.py"]) == 1
    capsys.readouterr()


def test_bad_files_are_reported_and_the_rest_still_linted(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "syntax.py").write_text("from transformers import TFBertMainLayer\ndef f(:\n    TFBertMainLayer\n")
    (project / "latin.py").write_bytes(b"x = '\xe9' # MainLayer\n")
    (project / "nul.py").write_bytes(b"x = 1\x00 # MainLayer\n")
    (project / "cookie.py").write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9'  # MainLayer\n")
    code = main(["syntax.py", "latin.py", "nul.py", "cookie.py", "buggy.py"])
    captured = capsys.readouterr()
    assert code == 2
    errors = captured.err.splitlines()
    assert errors[0] == "syntax.py: error: syntax error at 2:7: invalid syntax"
    assert errors[1].startswith("latin.py: error: cannot decode as utf-8")
    assert errors[2].startswith("nul.py: error:")
    assert len(errors) == 3
    assert "buggy.py:3:8: MLL001" in captured.out


def test_unreadable_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    target = project / "secret.py"
    target.write_text(BUGGY)
    target.chmod(0)
    assert main(["secret.py"]) == 2
    assert "secret.py: error: cannot read" in capsys.readouterr().err


def test_fifo_is_not_a_regular_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(project / "pipe.py")
    assert main(["pipe.py"]) == 2
    assert "pipe.py: error: not a regular file" in capsys.readouterr().err


def test_missing_path_is_one_error_line_and_the_rest_is_checked(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nope.py", "buggy.py"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "nope.py: error: cannot read: No such file or directory\n"
    assert "buggy.py:3:8: MLL001" in captured.out
    assert "Found 1 finding." in captured.out and "1 file could not be checked" in captured.out


def test_json_format(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--format", "json", "buggy.py", "clean.py"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 1
    item = data[0]
    assert {k: item[k] for k in ("path", "line", "column", "end_line", "end_column", "code")} == {
        "path": "buggy.py", "line": 3, "column": 8, "end_line": 3, "end_column": 31, "code": "MLL001",
    }
    assert item["fix"]["applicability"] == "safe"
    assert item["fix"]["replacement"] == 'TFBertModel.from_pretrained("bert-base-uncased", config=config).bert'


def test_show_source_underlines_span(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--show-source", "buggy.py"]) == 1
    out = capsys.readouterr().out
    assert "3 | bert = TFBertMainLayer(config)" in out
    assert "  |        " + "^" * 23 + " MLL001" in out
    assert "\x1b[" not in out  # not a terminal: no colour


def test_colour_only_on_a_terminal_and_never_with_no_color(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert main(["buggy.py"]) == 1
    assert "\x1b[" in capsys.readouterr().out
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["buggy.py"]) == 1
    assert "\x1b[" not in capsys.readouterr().out


def test_diff_writes_nothing_and_exits_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--diff", "buggy.py", "clean.py"]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("--- a/buggy.py\n+++ b/buggy.py\n")
    assert "+bert = TFBertModel.from_pretrained(" in captured.out
    assert (project / "buggy.py").read_text() == BUGGY
    assert main(["--diff", "clean.py"]) == 0


def test_fix_writes_keeps_mode_and_second_run_is_clean(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = project / "buggy.py"
    target.chmod(0o750)
    clean_mtime = (project / "clean.py").stat().st_mtime_ns
    assert main(["--fix", "buggy.py", "clean.py"]) == 0
    assert "Found 1 finding (1 fixed, 0 remaining)." in capsys.readouterr().out
    assert target.read_text() == FIXED
    assert stat.S_IMODE(target.stat().st_mode) == 0o750
    assert (project / "clean.py").stat().st_mtime_ns == clean_mtime
    assert not [p for p in project.iterdir() if p.name.endswith(".tmp")]
    assert main(["--fix", "buggy.py"]) == 0
    assert target.read_text() == FIXED


def test_fix_leaves_unfixable_and_exits_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "t5.py").write_text(
        "from transformers import T5Config, TFT5MainLayer\n"
        'c = T5Config.from_pretrained("t5-small")\n'
        "e = TFT5MainLayer(c, embed_tokens=None)\n"
    )
    assert main(["--fix", "t5.py", "buggy.py"]) == 1
    out = capsys.readouterr().out
    assert "t5.py:3:5: MLL001" in out and "no automatic fix" in out
    assert "Found 2 findings (1 fixed, 1 remaining)." in out


def test_unsafe_fixes_need_the_flag(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = "from transformers import TFBertMainLayer\ndef f(config):\n    return TFBertMainLayer(config)\n"
    (project / "param.py").write_text(source)
    assert main(["--fix", "param.py"]) == 1
    assert (project / "param.py").read_text() == source
    assert (
        "Found 1 finding.\nNo fixes available (1 hidden fix can be enabled with the --unsafe-fixes option).\n"
    ) in capsys.readouterr().out
    assert main(["--fix", "--unsafe-fixes", "param.py"]) == 0
    assert "TFBertModel.from_pretrained(config.name_or_path, config=config).bert" in (project / "param.py").read_text()


def test_fix_follows_symlink(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "link.py").symlink_to(project / "buggy.py")
    assert main(["--fix", "link.py", "buggy.py"]) == 0
    assert (project / "link.py").is_symlink()
    assert (project / "buggy.py").read_text() == FIXED
    assert "Found 1 finding (1 fixed, 0 remaining)." in capsys.readouterr().out


def test_stdin(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BUGGY.encode())))
    assert main(["--stdin-filename", "src/model.py", "-"]) == 1
    assert capsys.readouterr().out.startswith("src/model.py:3:8: MLL001")


def test_stdin_fix_prints_fixed_source(project: Path, monkeypatch: pytest.MonkeyPatch, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BUGGY.encode())))
    assert main(["--fix", "-"]) == 0
    assert capfdbinary.readouterr().out == FIXED.encode()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_help_documents_options_and_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--fix", "--diff", "--unsafe-fixes", "--select", "--ignore", "--format", "--show-source",
                   "--exit-zero", "--quiet", "--stdin-filename", "--target-transformers", "verify", "lsp"):
        assert option in out, option


def test_file_changed_on_disk_is_not_overwritten(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from lint_mainlayer import engine

    real = engine.fix_source

    def edit_meanwhile(source: str, *args: object, **kwargs: object) -> engine.FixResult:
        (project / "buggy.py").write_text(BUGGY + "# edited by the user\n")
        return real(source, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "fix_source", edit_meanwhile)
    assert main(["--fix", "buggy.py"]) == 2
    assert "buggy.py: error: file changed on disk since it was read; not overwritten" in capsys.readouterr().err
    assert (project / "buggy.py").read_text() == BUGGY + "# edited by the user\n"


def test_fix_that_does_not_parse_is_never_written(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from lint_mainlayer import rewrite

    monkeypatch.setattr(rewrite, "apply_fixes", lambda source, fixes: rewrite.Rewritten("def broken(:\n", frozenset(fixes)))
    assert main(["--fix", "buggy.py"]) == 2
    err = capsys.readouterr().err
    assert "buggy.py: error: internal error, please report: the fixed source does not parse" in err
    assert (project / "buggy.py").read_text() == BUGGY


def test_nested_gitignore_files_apply_below_their_folder(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("*_generated.py\n")
    (project / "pkg" / "sub").mkdir(parents=True)
    (project / "pkg" / ".gitignore").write_text("sub/\n!keep_generated.py\n")
    for name in ("a_generated.py", "pkg/b.py", "pkg/keep_generated.py", "pkg/sub/c.py"):
        (project / name).write_text(BUGGY)
    assert main(["-q", "."]) == 1
    paths = sorted(line.split(":")[0] for line in capsys.readouterr().out.splitlines())
    assert paths == ["buggy.py", os.path.join("pkg", "b.py"), os.path.join("pkg", "keep_generated.py")]
