"""The command line without click: `cli_options.parse` reads what click reads (or leaves the
command line to click), a plain lint run never imports click, and prints what the click
path prints."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lint_mainlayer import cli, cli_click, cli_options, console
from lint_mainlayer.cli import main

BUGGY = (
    "from transformers import BertConfig, TFBertMainLayer\n"
    'config = BertConfig.from_pretrained("bert-base-uncased")\n'
    "bert = TFBertMainLayer(config=config)\n"
)
UNSAFE = "from transformers import TFBertMainLayer\nlayer = TFBertMainLayer(config)\n"


def click_params(argv: list[str]) -> dict[str, Any] | None:
    """The keyword values click passes to `check` for `argv`, or None when click refuses
    the command line or acts on it itself (help, version)."""
    try:
        with cli_click.check.make_context("lint-mainlayer", list(argv)) as ctx:
            return dict(ctx.params)
    except (click.ClickException, click.exceptions.Exit):
        return None


# (argv, whether the fast parser reads it): every option, the `=` forms, repeats, orders,
# `--`, unicode; and the shapes left to click.
FAST, CLICK = True, False
CASES: list[tuple[list[str], bool]] = [
    ([], FAST),
    (["a.py"], FAST),
    (["a.py", "pkg", "b.ipynb"], FAST),
    (["-"], FAST),
    (["--stdin-filename", "x.py"], FAST),
    (["--stdin-filename=x.py", "-"], FAST),
    (["--fix", "--diff", "--unsafe-fixes", "--show-fixes", "a.py"], FAST),
    (["--show-source", "--statistics", "--add-noqa", "--show-settings", "--show-files"], FAST),
    (["--exit-zero", "-q", "--quiet", "--no-project", "--no-cache", "a.py"], FAST),
    (["--fix", "--fix", "a.py"], FAST),
    (["--select", "MLL001", "--select=MLL002,MLL003", "--extend-select", "MLL", "--ignore", "MLL004"], FAST),
    (["--select=", "a.py"], FAST),
    (["--select", "--fix", "a.py"], FAST),  # click takes the next word as the value, whatever it is
    (["--select=a=b"], FAST),
    (["--ignore", "MLL001", "a.py", "--ignore", "MLL002", "b.py"], FAST),
    (["--output-format", "json"], FAST),
    (["--output-format=sarif", "--format", "github"], FAST),
    (["--format=text", "--output-format", "json"], FAST),
    (["--color", "always"], FAST),
    (["--color=never", "--color", "auto"], FAST),
    (["--target-transformers", "4.40.0"], FAST),
    (["--target-transformers=nonsense"], FAST),  # refused by `check` itself, not the parser
    (["-j", "2"], FAST),
    (["--jobs", "1"], FAST),
    (["--jobs=+3"], FAST),
    (["--jobs", " 4 "], FAST),
    (["--jobs", "1_0"], FAST),
    (["--cache-dir", "some/where"], FAST),
    (["--cache-dir=", "a.py"], FAST),
    (["a.py", "--", "--fix", "-q", "--", "-"], FAST),
    (["--", "-h", "--version", "check"], FAST),
    (["--fix", "--"], FAST),
    (["ünïcödé/模型.py", "--select", "MLL00١"], FAST),
    (["a.py", "check", "rule"], FAST),  # not the first word: paths
    ([""], FAST),
    (["--select", "", "--stdin-filename", ""], FAST),
    (["-", "-"], FAST),  # refused by `check` itself, not the parser
    # Left to click.
    (["-h"], CLICK),
    (["--help"], CLICK),
    (["a.py", "--help"], CLICK),
    (["--version"], CLICK),
    (["check", "a.py"], CLICK),
    (["rule", "MLL001"], CLICK),
    (["verify", "x.py"], CLICK),
    (["lsp"], CLICK),
    (["--nope"], CLICK),
    (["--fi"], CLICK),
    (["--form", "json"], CLICK),
    (["--fix=1"], CLICK),
    (["--fix="], CLICK),
    (["-qj2"], CLICK),
    (["-j2"], CLICK),
    (["-j=2"], CLICK),
    (["-x"], CLICK),
    (["---fix"], CLICK),
    (["--=x"], CLICK),
    (["--select"], CLICK),
    (["a.py", "--output-format"], CLICK),
    (["--output-format", "xml"], CLICK),
    (["--output-format", "JSON"], CLICK),
    (["--color", ""], CLICK),
    (["-j", "0"], CLICK),
    (["--jobs", "two"], CLICK),
    (["--jobs", "2.0"], CLICK),
]


@pytest.mark.parametrize(("argv", "fast"), CASES, ids=[" ".join(argv) or "(empty)" for argv, _ in CASES])
def test_fast_parser_reads_what_click_reads(argv: list[str], fast: bool) -> None:
    parsed = cli_options.parse(argv)
    if not fast:
        assert parsed is None
        return
    assert parsed is not None
    assert parsed == click_params(argv)


def test_a_directory_option_naming_a_file_is_left_to_click(tmp_path: Path) -> None:
    existing = tmp_path / "file.txt"
    existing.write_text("")
    argv = ["--cache-dir", str(existing), "a.py"]
    assert click_params(argv) is None
    assert cli_options.parse(argv) is None
    # An existing folder is fine for both.
    argv = ["--cache-dir", str(tmp_path), "a.py"]
    assert cli_options.parse(argv) == click_params(argv) is not None


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads any file")
def test_an_unreadable_path_is_left_to_click(tmp_path: Path) -> None:
    locked = tmp_path / "locked.py"
    locked.write_text("x = 1\n")
    locked.chmod(0)
    try:
        assert click_params([str(locked)]) is None
        assert cli_options.parse([str(locked)]) is None
    finally:
        locked.chmod(0o644)


def test_shell_completion_is_left_to_click(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli_options.parse(["a.py"]) is not None
    monkeypatch.setenv(cli_options.COMPLETION_VARIABLE, "bash_complete")
    assert cli_options.parse(["a.py"]) is None


WORDS = [
    *[name for option in cli_options.OPTIONS for name in option.names],
    *[f"{name}={value}" for name in ("--select", "--output-format", "--jobs", "--color", "--fix") for value in ("json", "2", "")],
    "-h", "--help", "--version", "-qj2", "-j2", "--fo", "--", "-", "check", "rule",
    "a.py", "ü.py", "json", "text", "never", "always", "0", "3", "MLL001", "=", "-=",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(WORDS), max_size=7))
def test_fast_parser_never_disagrees_with_click(argv: list[str]) -> None:
    parsed = cli_options.parse(argv)
    if parsed is not None:
        assert parsed == click_params(argv)


def test_the_click_command_is_built_from_the_table() -> None:
    options = [p for p in cli_click.check.params if isinstance(p, click.Option) and p.name != "version"]
    assert [(tuple(p.opts + p.secondary_opts), p.name) for p in options] == [
        (o.names, o.dest) for o in cli_options.OPTIONS
    ]
    assert cli_click.check.params[0].name == "paths"


def test_the_fast_parser_leaves_every_command_to_click() -> None:
    """The first words the fast parser hands to click are exactly the commands click has:
    a subcommand missing there would be read as a path to lint."""
    assert cli_options.COMMANDS == {"check", *cli_click.SUBCOMMANDS}


# Printing without click prints what click printed.
@pytest.mark.parametrize("message", ["plain", "", "é \x1b[1mbold\x1b[0m \x1b[31;1mred\x1b[0m", "a\nb\n"])
@pytest.mark.parametrize("err", [False, True])
@pytest.mark.parametrize("nl", [False, True])
@pytest.mark.parametrize("color", [None, False, True])
def test_echo_prints_what_click_echo_prints(
    message: str, err: bool, nl: bool, color: bool | None, capsys: pytest.CaptureFixture[str]
) -> None:
    console.echo(message, err=err, nl=nl, color=color)
    ours = capsys.readouterr()
    click.echo(message, err=err, nl=nl, color=color)
    assert capsys.readouterr() == ours


def test_echo_on_an_ascii_stream_writes_utf8_as_click_does(monkeypatch: pytest.MonkeyPatch) -> None:
    def written(echo: Any) -> bytes:
        raw = io.BytesIO()
        monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="ascii"))
        echo("模型 é")
        sys.stdout.flush()
        return raw.getvalue()

    assert written(console.echo) == written(click.echo) == "模型 é\n".encode()


def test_echo_keeps_colour_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    outputs = []
    for echo in (console.echo, click.echo):
        terminal = Terminal()
        monkeypatch.setattr(sys, "stdout", terminal)
        echo("\x1b[1mbold\x1b[0m")
        outputs.append(terminal.getvalue())
    assert outputs[0] == outputs[1] == "\x1b[1mbold\x1b[0m\n"


@pytest.mark.parametrize(
    "kwargs", [{"bold": True}, {"fg": "red", "bold": True}, {"fg": "cyan"}, {"fg": "red"}, {}], ids=str
)
def test_style_is_click_style(kwargs: dict[str, Any]) -> None:
    assert console.style("where:1:2:", **kwargs) == click.style("where:1:2:", **kwargs)


# Whole runs: the fast path and the click path print the same, and only the click path
# imports click.
FORCE_CLICK = (
    "import sys\n"
    "from lint_mainlayer import cli, cli_options\n"
    "cli_options.parse = lambda argv: None\n"
    "raise SystemExit(cli.main(sys.argv[1:]))\n"
)


def _run(folder: Path, argv: list[str], *, fast: bool, stdin: str = "") -> tuple[str, str, int, set[str]]:
    """stdout, stderr (less `-X importtime`'s lines), the exit status, and the click modules imported."""
    command = ["-m", "lint_mainlayer"] if fast else ["-c", FORCE_CLICK]
    env = {**os.environ, "NO_COLOR": "", "FORCE_COLOR": ""}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *command, *argv],
        capture_output=True, text=True, cwd=folder, input=stdin, env=env, check=False,
    )
    timing = [line for line in done.stderr.splitlines(keepends=True) if line.startswith("import time:")]
    stderr = "".join(line for line in done.stderr.splitlines(keepends=True) if not line.startswith("import time:"))
    modules = {line.rsplit("|", 1)[1].strip() for line in timing}
    return done.stdout, stderr, done.returncode, {m for m in modules if m.split(".")[0] == "click"}


RUNS: list[tuple[list[str], bool]] = [
    # (argv, whether it runs without click)
    (["--no-cache", "buggy.py"], True),
    (["buggy.py", "unsafe.py", "clean.py"], True),
    (["--no-cache", "--output-format", "json", "buggy.py"], True),
    (["--no-cache", "--fix", "--show-fixes", "buggy.py", "unsafe.py"], True),
    (["--no-cache", "--diff", "buggy.py"], True),
    (["--no-cache", "--statistics", "--show-source", "buggy.py"], True),
    (["--no-cache", "--color=always", "buggy.py", "missing.py"], True),
    (["--no-cache", "--stdin-filename", "buggy.py", "--fix"], True),
    (["--no-cache", "--", "模型.py"], True),
    (["check", "--no-cache", "buggy.py"], True),
    (["check", "--no-cache", "--fix", "buggy.py"], True),
    (["check"], True),
    # Refused by `check`: the click path reports it.
    (["--no-cache", "--select", "MLL0O1", "buggy.py"], False),
    (["--no-cache", "-", "buggy.py"], False),
    (["--target-transformers", "five", "buggy.py"], False),
    (["--no-cache", "--jobs", "0", "buggy.py"], False),
]


@pytest.mark.parametrize(("argv", "without_click"), RUNS, ids=[" ".join(argv) for argv, _ in RUNS])
def test_a_run_without_click_prints_what_click_did(tmp_path: Path, argv: list[str], without_click: bool) -> None:
    outcomes = []
    for fast in (True, False):
        folder = tmp_path / ("fast" if fast else "click")
        folder.mkdir()
        for name, text in (("buggy.py", BUGGY), ("unsafe.py", UNSAFE), ("clean.py", "x = 1\n"), ("模型.py", BUGGY)):
            (folder / name).write_text(text, "utf-8")
        stdout, stderr, status, imported = _run(folder, argv, fast=fast, stdin=BUGGY)
        files = {path.name: path.read_text("utf-8") for path in sorted(folder.glob("*.py"))}
        outcomes.append((stdout, stderr, status, files))
        if fast:
            assert (imported == set()) is without_click, imported
        else:
            assert "click" in imported
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][2] in (0, 1, 2) and (outcomes[0][0] or outcomes[0][1])
    if "--fix" in argv and "-" not in argv and "--stdin-filename" not in argv:
        assert outcomes[0][3]["buggy.py"] != BUGGY


def test_an_error_on_the_fast_path_is_clicks_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    assert main(["--no-cache", "--select", "MLL0O1", str(tmp_path / "a.py")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "Usage: lint-mainlayer [OPTIONS] [PATHS]...\nTry 'lint-mainlayer --help' for help.\n\n"
        "Error: Invalid value for --select: invalid rule code in --select: MLL0O1"
    )


def test_a_bug_on_the_fast_path_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_dispatch", broken)
    assert cli_options.parse(["--no-cache", str(tmp_path)]) is not None
    assert main(["--no-cache", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "error: internal error, please report: RuntimeError: boom\n"
    # The click path says the same.
    assert cli_click.run(["--no-cache", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "error: internal error, please report: RuntimeError: boom\n"


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, EOFError])
def test_an_interrupt_on_the_fast_path_ends_as_on_the_click_path(
    interrupt: type[BaseException], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def interrupted(*args: object, **kwargs: object) -> int:
        raise interrupt()

    monkeypatch.setattr(cli, "_dispatch", interrupted)
    outputs = []
    for run in (main, cli_click.run):
        assert run(["--no-cache", str(tmp_path)]) == 2
        outputs.append(capsys.readouterr())
    assert outputs[0] == outputs[1] and outputs[0].err == "\nAborted!\n"


def test_a_closed_pipe_on_the_fast_path_ends_as_on_the_click_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def closed(*args: object, **kwargs: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "_dispatch", closed)
    for run in (main, cli_click.run):
        # Both leave the standard streams quiet on a later broken flush, as click does.
        monkeypatch.setattr(sys, "stdout", sys.stdout)
        monkeypatch.setattr(sys, "stderr", sys.stderr)
        assert run(["--no-cache", str(tmp_path)]) == 1
        assert type(sys.stdout).__name__ == "_PacifyFlushWrapper"
