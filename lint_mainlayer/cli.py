"""The command line: options in, formatted results and an exit code out.

Exit codes: 0 clean, 1 findings (or changes `--diff` would make), 2 errors.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Sequence

import click

from lint_mainlayer import __version__, api
from lint_mainlayer.api import RULE_NAMES, ConfigError, UnknownCodeError, default_cache_directory, parse_version
from lint_mainlayer.formats import json_format, text
from lint_mainlayer.records import record
from lint_mainlayer.types import FileResult

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _lazy_verify() -> click.Command:
    from lint_mainlayer.runtime.command import verify

    return verify


def _lazy_lsp() -> click.Command:
    from lint_mainlayer.lsp_command import lsp

    return lsp


def _lazy_rule() -> click.Command:
    from lint_mainlayer.rule_command import rule

    return rule


# Subcommands are imported only when named, so the lint path stays light.
SUBCOMMANDS: dict[str, Callable[[], click.Command]] = {
    "verify": _lazy_verify,
    "lsp": _lazy_lsp,
    "rule": _lazy_rule,
}

_EPILOG = """\b
Other commands:
  lint-mainlayer check [OPTIONS] [PATHS]  the same as without `check` (as in ruff)
  lint-mainlayer rule MLL001 | --all      print a rule's documentation
  lint-mainlayer verify SCRIPT [ARGS]...  run a script with TensorFlow and report which
                                          main layers hold pretrained weights (executes it)
  lint-mainlayer lsp                      start the language server (stdio)

Exit status: 0 clean, 1 findings (or changes --diff would make), 2 errors.
"""


def _codes(values: Sequence[str], option: str) -> frozenset[str]:
    try:
        return api.parse_codes(values, option)
    except UnknownCodeError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _color(mode: str) -> bool:
    if mode != "auto":
        return mode == "always"
    # https://no-color.org: any non-empty NO_COLOR disables colour; https://force-color.org:
    # any non-empty FORCE_COLOR enables it off a terminal (NO_COLOR wins over it).
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def _cores() -> int:
    # The cores this process may run on, which a container or taskset can limit.
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _warn(message: str) -> None:
    """Prints the walk's warnings (`path: warning: ...`) on stderr as they come."""
    click.echo(message, err=True)


@record(frozen=True)
class _Output:
    """How to print: format, colour and the summary options."""

    output_format: str
    color: bool
    quiet: bool
    exit_zero: bool
    statistics: bool
    show_fixes: bool


@click.command(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=_EPILOG,
)
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True, path_type=Path))
@click.option("--fix", is_flag=True, help="Apply safe fixes (and unsafe ones with --unsafe-fixes).")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff (summary on stderr); write nothing.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply (or show) fixes marked unsafe.")
@click.option("--show-fixes", is_flag=True, help="With --fix, list the fixes applied per file.")
@click.option(
    "--select", multiple=True, metavar="CODES", help="Only these rule codes or prefixes (comma-separated; ALL for all)."
)
@click.option(
    "--extend-select", multiple=True, metavar="CODES", help="Add these rule codes or prefixes to the selection."
)
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rule codes or prefixes (comma-separated).")
@click.option(
    "--output-format",
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "sarif", "github"]),
    default="text",
    show_default=True,
    help="Output format (--format is an alias).",
)
@click.option("--show-source", is_flag=True, help="Show each finding's source with the span underlined.")
@click.option("--statistics", is_flag=True, help="Print how many findings each rule has, instead of the findings.")
@click.option("--add-noqa", is_flag=True, help="Add a `# noqa: CODE` comment to every line with a finding.")
@click.option("--show-settings", is_flag=True, help="Print the settings for the first file found, then exit.")
@click.option("--show-files", is_flag=True, help="Print the files that would be checked, then exit.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings (errors still exit 2).")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the text output (auto: on a terminal, unless NO_COLOR; FORCE_COLOR forces it).",
)
@click.option(
    "--stdin-filename",
    metavar="PATH",
    help="The file name to report (and configure) for source read from standard input.",
)
@click.option(
    "--target-transformers",
    metavar="VERSION",
    help="The transformers version the code runs with (default: the project's pin, in a lock or "
    "requirements file or pyproject.toml; else the installed one; else the newest 4.x).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Processes for the files that need the full rules (default: the number of cores; 1: this process).",
)
@click.option(
    "--no-project",
    is_flag=True,
    help="Check each file alone: do not follow configs and loads into the project's other modules.",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Where to keep the result cache (default: .lint_mainlayer_cache in the project root).",
)
@click.version_option(__version__, "--version", prog_name="lint-mainlayer")
def check(
    paths: tuple[Path, ...],
    fix: bool,
    diff: bool,
    unsafe_fixes: bool,
    show_fixes: bool,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    output_format: str,
    show_source: bool,
    statistics: bool,
    add_noqa: bool,
    show_settings: bool,
    show_files: bool,
    exit_zero: bool,
    quiet: bool,
    color: str,
    stdin_filename: str | None,
    target_transformers: str | None,
    jobs: int | None,
    no_project: bool,
    no_cache: bool,
    cache_dir: Path | None,
) -> int:
    """Find transformers TensorFlow main layers that silently run with random weights.

    PATHS are files and folders (searched for *.py, *.pyi and *.ipynb); '-' (or
    --stdin-filename alone) reads standard input. With no PATHS, the current folder is
    checked. Settings come from [tool.lint-mainlayer] in the nearest pyproject.toml.
    """
    try:
        target = parse_version(target_transformers) if target_transformers else None
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--target-transformers") from None
    options = api.Options(
        fix=fix and not diff and not add_noqa,
        diff=diff,
        unsafe_fixes=unsafe_fixes,
        select=_codes(select, "--select") or None,
        extend_select=_codes(extend_select, "--extend-select"),
        extend_ignore=_codes(ignore, "--ignore"),
        target_transformers=target,
        keep_source=show_source,
        jobs=jobs or _cores(),
        cache_dir=None if no_cache else cache_dir or default_cache_directory(),
        project=not no_project,
    )
    output = _Output(output_format, _color(color), quiet, exit_zero, statistics, show_fixes)
    return _dispatch(list(paths), options, output, stdin_filename, show_settings, show_files, add_noqa)


def _dispatch(
    paths: list[Path],
    options: api.Options,
    output: _Output,
    stdin_filename: str | None,
    show_settings: bool,
    show_files: bool,
    add_noqa: bool,
) -> int:
    if not paths and stdin_filename is not None:
        # As in ruff: --stdin-filename alone reads standard input.
        paths = [Path("-")]
    if Path("-") in paths and paths != [Path("-")]:
        raise click.UsageError("'-' (standard input) cannot be combined with other paths")
    if show_settings or show_files:
        from lint_mainlayer.show import show

        return show(paths or [Path(".")], options, settings=show_settings, stdin_filename=stdin_filename, warn=_warn)
    if paths == [Path("-")]:
        return _run_stdin(options, stdin_filename, output)
    if add_noqa:
        from lint_mainlayer.add_noqa import run as run_add_noqa

        return run_add_noqa(paths or [Path(".")], options, warn=_warn)
    return _run(paths or [Path(".")], options, output)


def _run(paths: list[Path], options: api.Options, output: _Output) -> int:
    results: list[FileResult] = []
    try:
        for result in api.check_paths(paths, options, _warn):
            if result.error is not None:
                click.echo(f"{result.path}: error: {result.error}", err=True)
            results.append(result)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_ERROR
    return _report(results, options, output)


def _run_stdin(options: api.Options, filename: str | None, output: _Output) -> int:
    data = sys.stdin.buffer.read()
    try:
        result, new_data = api.check_stdin(data, filename, options)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_ERROR
    if options.fix:
        # As ruff does: the fixed source goes to stdout (the source as read when it cannot be
        # fixed, so a pipe never loses it), findings left to stderr.
        sys.stdout.buffer.write(new_data if new_data is not None else data)
        sys.stdout.buffer.flush()
        if result.error is not None:
            click.echo(f"{result.path}: error: {result.error}", err=True)
            return EXIT_ERROR
        for d in result.diagnostics:
            click.echo(text.line(result, d, color=False, unsafe_fixes=options.unsafe_fixes), err=True)
        return EXIT_FINDINGS if result.diagnostics and not output.exit_zero else EXIT_CLEAN
    if result.error is not None:
        click.echo(f"{result.path}: error: {result.error}", err=True)
        return EXIT_ERROR
    return _report([result], options, output)


def _report(results: list[FileResult], options: api.Options, output: _Output) -> int:
    errors = sum(1 for r in results if r.error is not None)
    findings = [d for r in results for d in r.diagnostics]
    if options.diff:
        for result in results:
            if result.diff:
                click.echo(result.diff, nl=False)
        changed = [r for r in results if r.changed]
        if not output.quiet:
            # On stderr, as ruff's: stdout stays a diff that `patch` and `git apply` accept.
            click.echo(_diff_summary(results, options), err=True)
        if errors:
            return EXIT_ERROR
        return EXIT_FINDINGS if changed and not output.exit_zero else EXIT_CLEAN

    if output.statistics:
        rendered = _statistics(results, options, output.output_format)
    else:
        rendered = _render(results, output.output_format, output.color, options)
    if rendered:
        click.echo(rendered, color=output.color)
    if output.output_format == "text" and not output.quiet:
        if options.fix and output.show_fixes:
            fixes = _fixes_applied(results)
            if fixes:
                click.echo(fixes)
        click.echo(_summary(results, options), color=output.color)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if findings and not output.exit_zero else EXIT_CLEAN


def _render(results: list[FileResult], output_format: str, color: bool, options: api.Options) -> str:
    if output_format == "json":
        return json_format.render(results)
    if output_format in ("sarif", "github"):
        from lint_mainlayer.formats import github, sarif

        return sarif.render(results, api.rule_docs()) if output_format == "sarif" else github.render(results)
    return text.render(
        results, color=color, show_source=options.keep_source, unsafe_fixes=options.unsafe_fixes
    )


def _statistics(results: list[FileResult], options: api.Options, output_format: str) -> str:
    # As ruff's --statistics: one line per code, most frequent first.
    counts: dict[str, list[int]] = {}
    for d in (d for r in results for d in r.diagnostics):
        entry = counts.setdefault(d.code, [0, 0])
        entry[0] += 1
        entry[1] += text.fixable(d, options.unsafe_fixes)
    ordered = sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))
    if output_format == "json":
        import json

        return json.dumps(
            [
                {"code": code, "name": RULE_NAMES.get(code, ""), "count": n, "fixable": fixable > 0}
                for code, (n, fixable) in ordered
            ],
            indent=2,
        )
    if not ordered:
        return ""
    width = max(len(str(n)) for _, (n, _) in ordered)
    any_fixable = any(fixable for _, (_, fixable) in ordered)
    lines = []
    for code, (n, fixable) in ordered:
        mark = ("[*] " if fixable else "[ ] ") if any_fixable else ""
        lines.append(f"{n:>{width}}\t{code}\t{mark}{RULE_NAMES.get(code, '')}")
    return "\n".join(lines)


def _fixes_applied(results: list[FileResult]) -> str:
    fixed = [r for r in results if r.fixed]
    if not fixed:
        return ""
    total = sum(r.fixed for r in fixed)
    lines = [f"Fixed {_plural(total, 'finding')}:"]
    lines += [f"- {r.path}: {_plural(r.fixed, 'fix', 'fixes')}" for r in fixed]
    return "\n".join(lines)


def _hidden(results: list[FileResult], options: api.Options) -> int:
    # Fixes --fix would apply only with --unsafe-fixes.
    if options.unsafe_fixes:
        return 0
    return sum(1 for r in results for d in r.diagnostics if d.fix is not None and d.fix.applicability == "unsafe")


def _hidden_note(hidden: int) -> str:
    return f"{_plural(hidden, 'hidden fix', 'hidden fixes')} can be enabled with the --unsafe-fixes option"


def _diff_summary(results: list[FileResult], options: api.Options) -> str:
    fixed = sum(r.fixed for r in results if r.changed)
    hidden = _hidden(results, options)
    if fixed:
        extra = f" ({_plural(hidden, 'additional fix', 'additional fixes')} available with --unsafe-fixes)" if hidden else ""
        line = f"Would fix {_plural(fixed, 'finding')}{extra}."
    elif hidden:
        line = f"No fixes available ({_hidden_note(hidden)})."
    else:
        line = "No fixes available."
    return "\n".join([line, *_errors_line(results)])


def _errors_line(results: list[FileResult]) -> list[str]:
    errors = sum(1 for r in results if r.error is not None)
    return [f"{_plural(errors, 'file')} could not be checked or fixed (errors above)."] if errors else []


def _summary(results: list[FileResult], options: api.Options) -> str:
    """The closing lines, worded as ruff's."""
    remaining = [d for r in results for d in r.diagnostics]
    fixed = sum(r.fixed for r in results) if options.fix else 0
    total = len(remaining) + fixed
    lines = []
    if fixed:
        lines.append(f"Found {_plural(total, 'finding')} ({fixed} fixed, {len(remaining)} remaining).")
    elif remaining:
        lines.append(f"Found {_plural(total, 'finding')}.")
    elif not any(r.error is not None for r in results):
        # With errors, "No findings." would speak for files that were not checked.
        lines.append("No findings.")
    safe = sum(1 for d in remaining if text.fixable(d, options.unsafe_fixes))
    hidden = _hidden(results, options)
    if safe:
        flags = "--fix --unsafe-fixes" if options.unsafe_fixes else "--fix"
        note = f" ({_hidden_note(hidden)})" if hidden else ""
        lines.append(f"[*] {safe} fixable with the {flags} option{note}.")
    elif hidden:
        lines.append(f"No fixes available ({_hidden_note(hidden)}).")
    lines += _errors_line(results)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: `lint-mainlayer [check] [OPTIONS] PATHS...`, or `lint-mainlayer
    rule|verify|lsp ...`. Returns the exit status (the console script exits with it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    name = args[0] if args else None
    if name in SUBCOMMANDS:
        return _invoke(SUBCOMMANDS[name](), args[1:], f"lint-mainlayer {name}")
    if name == "check":
        return _invoke(check, args[1:], "lint-mainlayer check")
    return _invoke(check, args, "lint-mainlayer")


def _invoke(command: click.Command, args: list[str], prog_name: str) -> int:
    # Not click's standalone mode: the command returns its status, and click's own errors
    # (usage, bad parameters) are shown here and become exit 2.
    try:
        status = command.main(args, prog_name=prog_name, standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        return EXIT_ERROR
    except SystemExit as exc:
        # A subcommand that ends the process its own way (the checker runs user scripts).
        if exc.code is None:
            return EXIT_CLEAN
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - exit 2 with one line, never a traceback and exit 1
        click.echo(f"error: internal error, please report: {type(exc).__name__}: {exc}", err=True)
        return EXIT_ERROR
    return status if isinstance(status, int) else EXIT_CLEAN
