"""The command line: options in, formatted results and an exit code out.

Exit codes: 0 clean, 1 findings (or changes `--diff` would make), 2 errors.

A plain lint run imports no click: `cli_options` parses the common command lines, and
everything else (help, subcommands, errors to report) goes to click in `cli_click`, which
calls `check` here with the same values.
"""

from __future__ import annotations

import errno
import gc
import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn, Sequence

from lint_mainlayer import api, cli_options
from lint_mainlayer.api import RULE_NAMES, ConfigError, UnknownCodeError, default_cache_directory, parse_version
from lint_mainlayer.console import echo, pacify_broken_pipe
from lint_mainlayer.formats import json_format, text
from lint_mainlayer.records import record
from lint_mainlayer.types import FileResult

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class BadParameter(Exception):
    """An option's value `check` refuses; `cli_click` reports it as click.BadParameter."""

    def __init__(self, message: str, param_hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.param_hint = param_hint


class UsageError(Exception):
    """A command line `check` refuses; `cli_click` reports it as click.UsageError."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _codes(values: Sequence[str], option: str) -> frozenset[str]:
    try:
        return api.parse_codes(values, option)
    except UnknownCodeError as exc:
        raise BadParameter(str(exc), param_hint=option) from None


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
    echo(message, err=True)


@record(frozen=True)
class _Output:
    """How to print: format, colour and the summary options."""

    output_format: str
    color: bool
    quiet: bool
    exit_zero: bool
    statistics: bool
    show_fixes: bool


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
    """Runs `lint-mainlayer [check]` with the values click (or `cli_options.parse`) read
    from its options; returns the exit status. Raises BadParameter or UsageError, before
    doing anything, for a command line it refuses."""
    try:
        target = parse_version(target_transformers) if target_transformers else None
    except ConfigError as exc:
        raise BadParameter(str(exc), param_hint="--target-transformers") from None
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
        raise UsageError("'-' (standard input) cannot be combined with other paths")
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
        with _collecting_between_files():
            for result in api.check_paths(paths, options, _warn):
                if result.error is not None:
                    echo(f"{result.path}: error: {result.error}", err=True)
                results.append(result)
                _collect_if_due()
    except ConfigError as exc:
        echo(f"error: {exc}", err=True)
        return EXIT_ERROR
    return _report(results, options, output)


def _run_stdin(options: api.Options, filename: str | None, output: _Output) -> int:
    data = sys.stdin.buffer.read()
    try:
        with _collecting_between_files():
            result, new_data = api.check_stdin(data, filename, options)
    except ConfigError as exc:
        echo(f"error: {exc}", err=True)
        return EXIT_ERROR
    if options.fix:
        # As ruff does: the fixed source goes to stdout (the source as read when it cannot be
        # fixed, so a pipe never loses it), findings left to stderr.
        sys.stdout.buffer.write(new_data if new_data is not None else data)
        sys.stdout.buffer.flush()
        if result.error is not None:
            echo(f"{result.path}: error: {result.error}", err=True)
            return EXIT_ERROR
        for d in result.diagnostics:
            echo(text.line(result, d, color=False, unsafe_fixes=options.unsafe_fixes), err=True)
        return EXIT_FINDINGS if result.diagnostics and not output.exit_zero else EXIT_CLEAN
    if result.error is not None:
        echo(f"{result.path}: error: {result.error}", err=True)
        return EXIT_ERROR
    return _report([result], options, output)


def _report(results: list[FileResult], options: api.Options, output: _Output) -> int:
    errors = sum(1 for r in results if r.error is not None)
    findings = [d for r in results for d in r.diagnostics]
    if options.diff:
        for result in results:
            if result.diff:
                echo(result.diff, nl=False)
        changed = [r for r in results if r.changed]
        if not output.quiet:
            # On stderr, as ruff's: stdout stays a diff that `patch` and `git apply` accept.
            echo(_diff_summary(results, options), err=True)
        if errors:
            return EXIT_ERROR
        return EXIT_FINDINGS if changed and not output.exit_zero else EXIT_CLEAN

    if output.statistics:
        rendered = _statistics(results, options, output.output_format)
    else:
        rendered = _render(results, output.output_format, output.color, options)
    if rendered:
        echo(rendered, color=output.color)
    if output.output_format == "text" and not output.quiet:
        if options.fix and output.show_fixes:
            fixes = _fixes_applied(results)
            if fixes:
                echo(fixes)
        echo(_summary(results, options), color=output.color)
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
    # As ruff's --show-fixes: each file, then how many of each code its fixes fixed.
    fixed = [r for r in results if r.fixed]
    if not fixed:
        return ""
    total = sum(r.fixed for r in fixed)
    lines = [f"Fixed {_plural(total, 'finding')}:"]
    for result in fixed:
        lines.append(f"- {result.path}:")
        counts = Counter(result.fixed_codes)
        for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"    {n} × {code} ({RULE_NAMES.get(code, '')})")
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


def main(argv: Sequence[str] | None = None, *, exit_fast: bool = False) -> int:
    """Entry point: `lint-mainlayer [check] [OPTIONS] PATHS...`, or `lint-mainlayer
    rule|verify|lsp ...`. Returns the exit status (the console script exits with it).

    `exit_fast` (the console script's): a lint run ends the process itself once its output
    is flushed, without tearing down the interpreter."""
    args = list(sys.argv[1:] if argv is None else argv)
    # `check` is the default command, spelled out as ruff users do: the same fast path.
    values = cli_options.parse(args[1:] if args[:1] == ["check"] else args)
    if values is not None:
        try:
            status = _guarded(values)
        except (BadParameter, UsageError):
            # Raised before anything ran or printed: click reads the command line again
            # and reports the error its own way (usage line, exit 2).
            pass
        else:
            if exit_fast:
                _exit_now(status)
            return status
    from lint_mainlayer.cli_click import run

    return run(args)


# Net new container objects after which a file boundary collects cyclic garbage.
GC_BATCH = 200_000


@contextmanager
def _collecting_between_files() -> Iterator[None]:
    # A lint run allocates a module's whole tree and its facts at once: every object is
    # alive until the file is done and refcounting then frees nearly all of it, so the
    # collector's passes during the parse and the analysis find nothing and cost ~10% of
    # a large file's run. The run collects at file boundaries instead (`_collect_if_due`).
    # Only where files are analysed: `--add-noqa` and `--show-settings` keep the collector.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _collect_if_due() -> None:
    if gc.get_count()[0] > GC_BATCH:
        gc.collect()


def _exit_now(status: int) -> NoReturn:
    # Freeing every module, the parsed trees and the caches at interpreter exit costs a
    # large file's run ~15% and serves nothing: the run has written its files (atomically)
    # and joined its workers, and it registers no exit handlers. As mypy's --fast-exit.
    # Only the lint run does this: `verify` runs user code whose exit handlers must run.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def _guarded(values: dict[str, cli_options.Value]) -> int:
    # What click's `main` and `cli_click.run` do around `check` on the click path, so
    # both paths end alike on an interrupt, a closed pipe or a bug.
    try:
        return check(**values)  # type: ignore[arg-type]
    except (BadParameter, UsageError):
        raise
    except (EOFError, KeyboardInterrupt):
        echo(err=True)
        echo("Aborted!", err=True)
        return EXIT_ERROR
    except SystemExit as exc:
        if exc.code is None:
            return EXIT_CLEAN
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - exit 2 with one line, never a traceback and exit 1
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
            pacify_broken_pipe()
            return EXIT_FINDINGS
        return internal_error(exc)


def internal_error(exc: Exception) -> int:
    """Reports a bug in one line on stderr; returns the exit status, 2."""
    echo(f"error: internal error, please report: {type(exc).__name__}: {exc}", err=True)
    return EXIT_ERROR
