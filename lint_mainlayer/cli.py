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
from lint_mainlayer.api import ConfigError, default_cache_directory, parse_version
from lint_mainlayer.formats import json_format, text
from lint_mainlayer.types import FileResult

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _lazy_verify() -> click.Command:
    from lint_mainlayer.runtime.command import verify

    return verify


def _lazy_lsp() -> click.Command:
    from lint_mainlayer.lsp_command import lsp

    return lsp


# Subcommands are imported only when named, so the lint path stays light.
SUBCOMMANDS: dict[str, Callable[[], click.Command]] = {"verify": _lazy_verify, "lsp": _lazy_lsp}

_EPILOG = """\b
Other commands:
  lint-mainlayer verify SCRIPT [ARGS]...  run a script with TensorFlow and report which
                                          main layers hold pretrained weights (executes it)
  lint-mainlayer lsp                      start the language server (stdio)

Exit status: 0 clean, 1 findings (or changes --diff would make), 2 errors.
"""


def _codes(values: Sequence[str]) -> frozenset[str]:
    return frozenset(c.strip().upper() for v in values for c in v.split(",") if c.strip())


def _color() -> bool:
    # https://no-color.org: any non-empty NO_COLOR disables colour.
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _cores() -> int:
    # The cores this process may run on, which a container or taskset can limit.
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@click.command(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=_EPILOG,
)
@click.argument("paths", nargs=-1, type=click.Path(exists=True, allow_dash=True, path_type=Path))
@click.option("--fix", is_flag=True, help="Apply safe fixes (and unsafe ones with --unsafe-fixes).")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply (or show) fixes marked unsafe.")
@click.option("--select", multiple=True, metavar="CODES", help="Only these rule codes or prefixes (comma-separated).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rule codes or prefixes (comma-separated).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "sarif", "github"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--show-source", is_flag=True, help="Show each finding's source with the span underlined.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings (errors still exit 2).")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("--stdin-filename", metavar="PATH", help="The file name to report (and configure) for source read from '-'.")
@click.option(
    "--target-transformers",
    metavar="VERSION",
    help="The transformers version the code runs with (default: the installed one, else the newest 4.x).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Processes for the files that need the full rules (default: the number of cores; 1: this process).",
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
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    output_format: str,
    show_source: bool,
    exit_zero: bool,
    quiet: bool,
    stdin_filename: str | None,
    target_transformers: str | None,
    jobs: int | None,
    no_cache: bool,
    cache_dir: Path | None,
) -> None:
    """Find transformers TensorFlow main layers that silently run with random weights.

    PATHS are files and folders (searched for *.py); '-' reads standard input. With no
    PATHS, the current folder is checked. Settings come from [tool.lint-mainlayer] in the
    nearest pyproject.toml.
    """
    try:
        target = parse_version(target_transformers) if target_transformers else None
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--target-transformers") from None
    options = api.Options(
        fix=fix and not diff,
        diff=diff,
        unsafe_fixes=unsafe_fixes,
        select=_codes(select) or None,
        extend_ignore=_codes(ignore),
        target_transformers=target,
        keep_source=show_source,
        jobs=jobs or _cores(),
        cache_dir=None if no_cache else cache_dir or default_cache_directory(),
    )
    if list(paths) == [Path("-")]:
        code = _run_stdin(options, stdin_filename, output_format, quiet, exit_zero)
    elif Path("-") in paths:
        raise click.UsageError("'-' (standard input) cannot be combined with other paths")
    else:
        code = _run(list(paths) or [Path(".")], options, output_format, quiet, exit_zero)
    sys.exit(code)


def _run(paths: list[Path], options: api.Options, output_format: str, quiet: bool, exit_zero: bool) -> int:
    results: list[FileResult] = []
    try:
        for result in api.check_paths(paths, options):
            if result.error is not None:
                click.echo(f"{result.path}: error: {result.error}", err=True)
            results.append(result)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_ERROR
    return _report(results, options, output_format, quiet, exit_zero)


def _run_stdin(
    options: api.Options, filename: str | None, output_format: str, quiet: bool, exit_zero: bool
) -> int:
    data = sys.stdin.buffer.read()
    try:
        result, new_data = api.check_stdin(data, filename, options)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_ERROR
    if result.error is not None:
        click.echo(f"{result.path}: error: {result.error}", err=True)
        return EXIT_ERROR
    if options.fix:
        # As ruff does: the fixed source goes to stdout, findings left to stderr.
        sys.stdout.buffer.write(new_data if new_data is not None else data)
        sys.stdout.buffer.flush()
        for d in result.diagnostics:
            click.echo(text.line(result, d, color=False, unsafe_fixes=options.unsafe_fixes), err=True)
        return EXIT_FINDINGS if result.diagnostics and not exit_zero else EXIT_CLEAN
    return _report([result], options, output_format, quiet, exit_zero)


def _report(
    results: list[FileResult], options: api.Options, output_format: str, quiet: bool, exit_zero: bool
) -> int:
    errors = sum(1 for r in results if r.error is not None)
    findings = [d for r in results for d in r.diagnostics]
    color = _color()
    if options.diff:
        for result in results:
            if result.diff:
                click.echo(result.diff, nl=False)
        changed = [r for r in results if r.changed]
        if not quiet:
            fixed = sum(r.fixed for r in changed)
            click.echo(f"Would fix {_plural(fixed, 'finding')} in {_plural(len(changed), 'file')}.", err=True)
        if errors:
            return EXIT_ERROR
        return EXIT_FINDINGS if changed and not exit_zero else EXIT_CLEAN

    rendered = _render(results, output_format, color, options)
    if rendered:
        click.echo(rendered, color=color)
    if output_format == "text" and not quiet:
        click.echo(_summary(results, options), color=color)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if findings and not exit_zero else EXIT_CLEAN


def _render(results: list[FileResult], output_format: str, color: bool, options: api.Options) -> str:
    if output_format == "json":
        return json_format.render(results)
    if output_format in ("sarif", "github"):
        from lint_mainlayer.formats import github, sarif

        return sarif.render(results, api.rule_docs()) if output_format == "sarif" else github.render(results)
    return text.render(
        results, color=color, show_source=options.keep_source, unsafe_fixes=options.unsafe_fixes
    )


def _summary(results: list[FileResult], options: api.Options) -> str:
    findings = [d for r in results for d in r.diagnostics]
    lines = []
    if options.fix:
        fixed = sum(r.fixed for r in results)
        files = sum(1 for r in results if r.changed)
        lines.append(
            f"Fixed {_plural(fixed, 'finding')} in {_plural(files, 'file')} "
            f"({len(findings)} left, not fixable)."
        )
        if findings and not options.unsafe_fixes:
            hidden = sum(1 for d in findings if d.fix is not None)
            if hidden:
                lines.append(f"({hidden} more fixable with --fix --unsafe-fixes)")
        return "\n".join(lines)
    if not findings:
        errors = sum(1 for r in results if r.error is not None)
        return "No findings." if not errors else f"No findings; {_plural(errors, 'file')} could not be checked."
    lines.append(f"Found {_plural(len(findings), 'finding')}.")
    safe = sum(1 for d in findings if text.fixable(d, options.unsafe_fixes))
    if safe:
        lines.append(f"[*] {safe} fixable with --fix{' --unsafe-fixes' if options.unsafe_fixes else ''}.")
    hidden = sum(1 for d in findings if d.fix is not None) - safe
    if hidden:
        lines.append(f"({hidden} more fixable with --fix --unsafe-fixes)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: `lint-mainlayer [OPTIONS] PATHS...`, or `lint-mainlayer verify|lsp ...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    name = args[0] if args else None
    try:
        if name in SUBCOMMANDS:
            command = SUBCOMMANDS[name]()
            command.main(args[1:], prog_name=f"lint-mainlayer {name}", standalone_mode=True)
        else:
            check.main(args, prog_name="lint-mainlayer", standalone_mode=True)
    except SystemExit as exc:
        if exc.code is None:
            return EXIT_CLEAN
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    return EXIT_CLEAN
