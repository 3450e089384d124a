"""The `check` command's options, declared once, and a parser for the common command lines
that needs no click.

click builds the command (and its `--help`) from `OPTIONS` (see `cli_click`). A plain lint
run is parsed here instead, since importing click costs ~14 ms of a ~0.1 s cold run:
`parse` returns the keyword values click would pass to `check`, or None for anything it is
not sure to read as click does (help, version, subcommands, unknown or short-combined
options, a value click would reject...), and then click parses, with its usual messages.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Literal, Sequence

from lint_mainlayer.records import record

Kind = Literal["flag", "value", "multiple", "choice", "int", "directory"]
# What `check` receives: the paths, flags, values and tuples of values click gives it.
Value = bool | str | int | Path | None | tuple[str, ...] | tuple[Path, ...]


@record(frozen=True)
class Option:
    """One option of `check`, as click declares it.

    `kind`: a flag; one string value (the last one given wins); a value that may be
    repeated (a tuple, in order); one of `choices`; an integer at least `minimum`; a
    directory path (not an existing file)."""

    names: tuple[str, ...]
    dest: str
    kind: Kind
    help: str
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    default: str | None = None
    minimum: int | None = None


OPTIONS: tuple[Option, ...] = (
    Option(("--fix",), "fix", "flag", "Apply safe fixes (and unsafe ones with --unsafe-fixes)."),
    Option(("--diff",), "diff", "flag", "Print the fixes as a unified diff (summary on stderr); write nothing."),
    Option(("--unsafe-fixes",), "unsafe_fixes", "flag", "Also apply (or show) fixes marked unsafe."),
    Option(("--show-fixes",), "show_fixes", "flag", "With --fix, list each file's fixes, counted per rule code."),
    Option(
        ("--select",),
        "select",
        "multiple",
        "Only these rule codes or prefixes (comma-separated; ALL for all).",
        metavar="CODES",
    ),
    Option(
        ("--extend-select",),
        "extend_select",
        "multiple",
        "Add these rule codes or prefixes to the selection.",
        metavar="CODES",
    ),
    Option(("--ignore",), "ignore", "multiple", "Skip these rule codes or prefixes (comma-separated).", metavar="CODES"),
    Option(
        ("--output-format", "--format"),
        "output_format",
        "choice",
        "Output format (--format is an alias).",
        choices=("text", "json", "sarif", "github"),
        default="text",
    ),
    Option(("--show-source",), "show_source", "flag", "Show each finding's source with the span underlined."),
    Option(
        ("--statistics",), "statistics", "flag", "Print how many findings each rule has, instead of the findings."
    ),
    Option(("--add-noqa",), "add_noqa", "flag", "Add a `# noqa: CODE` comment to every line with a finding."),
    Option(("--show-settings",), "show_settings", "flag", "Print the settings for the first file found, then exit."),
    Option(("--show-files",), "show_files", "flag", "Print the files that would be checked, then exit."),
    Option(("--exit-zero",), "exit_zero", "flag", "Exit 0 even when there are findings (errors still exit 2)."),
    Option(("-q", "--quiet"), "quiet", "flag", "Print findings only, no summary."),
    Option(
        ("--color",),
        "color",
        "choice",
        "Colour the text output (auto: on a terminal, unless NO_COLOR; FORCE_COLOR forces it).",
        choices=("auto", "always", "never"),
        default="auto",
    ),
    Option(
        ("--stdin-filename",),
        "stdin_filename",
        "value",
        "The file name to report (and configure) for source read from standard input.",
        metavar="PATH",
    ),
    Option(
        ("--target-transformers",),
        "target_transformers",
        "value",
        "The transformers version the code runs with (default: the project's pin, in a lock or "
        "requirements file or pyproject.toml; else the installed one; else the newest 4.x).",
        metavar="VERSION",
    ),
    Option(
        ("-j", "--jobs"),
        "jobs",
        "int",
        "Processes for the files that need the full rules (default: the number of cores; 1: this process).",
        metavar="N",
        minimum=1,
    ),
    Option(
        ("--no-project",),
        "no_project",
        "flag",
        "Check each file alone: do not follow configs and loads into the project's other modules.",
    ),
    Option(("--no-cache",), "no_cache", "flag", "Neither read nor write the result cache."),
    Option(
        ("--cache-dir",),
        "cache_dir",
        "directory",
        "Where to keep the result cache (default: .lint_mainlayer_cache in the project root).",
        metavar="DIR",
    ),
)

# The first words that name another command (or `check` itself): click dispatches them.
COMMANDS = frozenset({"check", "rule", "verify", "lsp"})
# click's shell completion runs when this is set (for the program name `lint-mainlayer`).
COMPLETION_VARIABLE = "_LINT_MAINLAYER_COMPLETE"

_BY_NAME = {name: option for option in OPTIONS for name in option.names}


def _default(option: Option) -> Value:
    if option.kind == "flag":
        return False
    if option.kind == "multiple":
        return ()
    return option.default


def _readable_or_absent(value: str, *, directory: bool) -> bool:
    # click.Path's checks: a path that exists must be readable (and, for a directory
    # option, not a file); one that does not exist passes.
    try:
        mode = os.stat(value).st_mode
    except OSError:
        return True
    if directory and stat.S_ISREG(mode):
        return False
    return os.access(value, os.R_OK)


def _convert(option: Option, value: str) -> Value:
    """The value as click converts it, or None where click would refuse it (or might)."""
    if option.kind == "choice":
        return value if value in option.choices else None
    if option.kind == "int":
        # click.INT is `int(value)`, so the same strings pass (" 3", "+3", "3_0").
        try:
            number = int(value)
        except ValueError:
            return None
        return number if option.minimum is None or number >= option.minimum else None
    if option.kind == "directory":
        return Path(value) if _readable_or_absent(value, directory=True) else None
    return value


def parse(argv: Sequence[str]) -> dict[str, Value] | None:
    """The keyword values click would pass to `check` for `lint-mainlayer ARGV`, or None
    where click must parse (to act, or to report the error its own way)."""
    if argv and argv[0] in COMMANDS or os.environ.get(COMPLETION_VARIABLE):
        return None
    values: dict[str, Value] = {option.dest: _default(option) for option in OPTIONS}
    multiple: dict[str, list[str]] = {}
    paths: list[str] = []
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            paths += rest
            break
        if arg[:1] != "-" or arg == "-":
            paths.append(arg)
            continue
        # Only whole names: `-qj2` and `-j2` are click's to read, as is every unknown name.
        name, has_value, explicit = arg.partition("=")
        option = _BY_NAME.get(name)
        if option is None or (has_value and not name.startswith("--")):
            return None
        if option.kind == "flag":
            if has_value:
                return None
            values[option.dest] = True
            continue
        if has_value:
            raw = explicit
        elif rest:
            raw = rest.pop(0)
        else:
            return None
        if option.kind == "multiple":
            multiple.setdefault(option.dest, []).append(raw)
            continue
        converted = _convert(option, raw)
        if converted is None:
            return None
        values[option.dest] = converted
    for dest, given in multiple.items():
        values[dest] = tuple(given)
    if not all(path == "-" or _readable_or_absent(path, directory=False) for path in paths):
        return None
    values["paths"] = tuple(Path(path) for path in paths)
    return values
