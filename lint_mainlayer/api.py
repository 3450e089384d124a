"""Paths and bytes in, one `FileResult` per file out. Never raises for a bad file.

Each file goes down a cascade and leaves it as soon as a stage can answer: its text
(`prefilter`: no `MainLayer`, no transformers import), the result cache, Python's `ast`
(`prefilter`), and only then the libcst rules (`engine`). The engine, and with it libcst,
is imported only when a file reaches it, so a tree without main layers never pays for it.
When several files reach the last stages, they run in worker processes (`Options.jobs`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

from lint_mainlayer import notebook, prefilter
from lint_mainlayer.cache import Entry, ResultCache
from lint_mainlayer.config import ProjectConfig, for_directory
from lint_mainlayer.files import discover
from lint_mainlayer.parallel import Failed, call_safely, map_ordered
from lint_mainlayer.source import DecodedSource, DecodeError, decode, encode
from lint_mainlayer.types import FileResult, Settings
from lint_mainlayer.writer import ChangedOnDisk, write_atomic

# Worker processes pay for a fork and for importing libcst: below this many files that
# need the last stages, one process is as fast.
MIN_FILES_FOR_WORKERS = 3


@dataclass(frozen=True)
class Options:
    """How to run: fix or not, command-line overrides of the project settings, how many
    processes, and where the result cache lives (None: no cache)."""

    fix: bool = False
    diff: bool = False
    unsafe_fixes: bool = False
    select: frozenset[str] | None = None
    extend_select: frozenset[str] = frozenset()
    extend_ignore: frozenset[str] = frozenset()
    target_transformers: tuple[int, int] | None = None
    keep_source: bool = False
    jobs: int = 1
    cache_dir: Path | None = None


def _engine() -> ModuleType:
    from lint_mainlayer import engine

    return engine


def settings_for(config: ProjectConfig, options: Options) -> Settings:
    """The project's settings with the command line's overrides applied."""
    settings = config.settings
    if options.select is not None:
        # An explicit --select on the command line outranks the config's select and ignore.
        settings = replace(settings, select=options.select, ignore=frozenset())
    if options.extend_select:
        settings = replace(settings, select=settings.select | options.extend_select)
    if options.extend_ignore:
        settings = replace(settings, ignore=settings.ignore | options.extend_ignore)
    if options.target_transformers is not None:
        settings = replace(
            settings,
            target_transformers=options.target_transformers,
            target_transformers_source="--target-transformers",
            target_transformers_range=None,
        )
    return settings


@dataclass(frozen=True)
class _Job:
    """A file that passed the cheap stages: what the last stages need (picklable)."""

    path: str
    data: bytes
    decoded: DecodedSource
    settings: Settings
    options: Options


# What the last stages give: the result, the fixed bytes if a fix changed them, and the
# cache entry for the bytes the file ends up with (None when it must not be cached).
_Analysed = tuple[FileResult, bytes | None, Entry | None]


def _triage(
    data: bytes, path: str, settings: Settings, options: Options, cache: ResultCache | None
) -> FileResult | _Job:
    """The cheap stages: a final result, or the job for the last stages."""
    try:
        # Hook (notebooks): a notebook's cells joined, IPython lines masked.
        decoded = notebook.decode_path(data, path, decode)
    except DecodeError as exc:
        return FileResult(path, error=str(exc))
    source = decoded.text
    keep = source if options.keep_source else None
    # The text stages cost less than hashing the file for the cache.
    if not (prefilter.mentions_main_layer(source) and prefilter.imports_transformers(source)):
        return FileResult(path, source=keep)
    if cache is not None:
        entry = cache.get(cache.key(data, settings))
        if entry is not None and not _would_fix(entry, options):
            # Without a fix to apply, --fix and --diff give exactly the lint result.
            if entry.error is not None:
                return FileResult(path, error=entry.error)
            return FileResult(path, entry.diagnostics, source=keep)
    return _Job(path, data, decoded, settings, options)


def _would_fix(entry: Entry, options: Options) -> bool:
    if not (options.fix or options.diff):
        return False
    return any(
        d.fix is not None and (options.unsafe_fixes or d.fix.applicability == "safe") for d in entry.diagnostics
    )


def _analyse(job: _Job) -> _Analysed:
    """The last stages: Python's ast, then the libcst rules (and fixes)."""
    source = job.decoded.text
    options = job.options
    path = job.path
    keep = source if options.keep_source else None
    if not prefilter.needs_rules(source):
        return FileResult(path, source=keep), None, Entry()
    engine = _engine()
    try:
        if not (options.fix or options.diff):
            diagnostics = tuple(engine.lint_source(source, job.settings))
            return FileResult(path, diagnostics, source=keep), None, Entry(diagnostics)
        outcome = engine.fix_source(source, job.settings, unsafe=options.unsafe_fixes)
    except engine.SourceError as exc:
        return FileResult(path, error=str(exc)), None, Entry(error=str(exc))
    except engine.FixBug as exc:
        return FileResult(path, error=f"internal error, please report: {exc}"), None, None
    # After a fix, `diagnostics` are what linting the fixed source gives.
    entry = Entry(outcome.diagnostics)
    if outcome.source == source:
        return FileResult(path, outcome.diagnostics, source=keep), None, entry
    try:
        # Hook (notebooks): masked lines restored, a notebook's changed cells spliced back.
        new_data = notebook.encode_path(job.decoded, outcome.source, encode)
    except UnicodeEncodeError as exc:
        error = f"the fix cannot be encoded as {job.decoded.encoding}; not written"
        if notebook.is_notebook(path):
            error = exc.reason
        return FileResult(path, error=error), None, None
    diff = notebook.diff(job.decoded, outcome.source, path, _unified_diff) if options.diff else None
    result = FileResult(
        path,
        outcome.diagnostics,
        fixed=outcome.applied,
        changed=True,
        diff=diff,
        source=outcome.source if options.keep_source else None,
    )
    return result, new_data, entry


def _analyse_safely(job: _Job) -> _Analysed:
    analysed = call_safely(_analyse, job)
    if isinstance(analysed, Failed):
        return _internal_error(job.path, analysed), None, None
    return analysed


def _internal_error(path: str, failed: Failed) -> FileResult:
    return FileResult(path, error=f"internal error, please report: {failed.reason}")


def _remember(cache: ResultCache | None, job: _Job, analysed: _Analysed) -> None:
    _, new_data, entry = analysed
    if cache is not None and entry is not None:
        # The entry describes the bytes the file ends up with: after --fix, the next run hits.
        cache.put(cache.key(new_data if new_data is not None else job.data, job.settings), entry)


def check_source(
    data: bytes, path: str, settings: Settings, options: Options, cache: ResultCache | None = None
) -> tuple[FileResult, bytes | None]:
    """Lint (and fix, per `options`) one file's bytes. Returns the result and, when a fix
    changed the source, the new bytes (written by the caller, or not)."""
    triaged = _triage(data, path, settings, options, cache)
    if isinstance(triaged, FileResult):
        return notebook.with_cells(triaged, data), None
    analysed = _analyse_safely(triaged)
    _remember(cache, triaged, analysed)
    # Hook (notebooks): the cells the findings' lines fall in.
    return notebook.with_cells(analysed[0], analysed[1] or data), analysed[1]


def _read(path: Path) -> bytes | FileResult:
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return FileResult(str(path), error="not a regular file")
        return path.read_bytes()
    except OSError as exc:
        return FileResult(str(path), error=f"cannot read: {exc.strerror or exc}")


def _write(path: Path, result: FileResult, data: bytes, new_data: bytes | None, options: Options) -> FileResult:
    if new_data is None or options.diff or not options.fix:
        return result
    try:
        write_atomic(path, new_data, expected=data)
    except ChangedOnDisk as exc:
        return FileResult(result.path, error=str(exc))
    except OSError as exc:
        return FileResult(result.path, error=f"cannot write: {exc.strerror or exc}; file left unchanged")
    return result


def check_file(path: Path, config: ProjectConfig, options: Options, cache: ResultCache | None = None) -> FileResult:
    """Lint one file on disk, and write its fix when `options.fix` (not with `diff`)."""
    data = _read(path)
    if isinstance(data, FileResult):
        return data
    result, new_data = check_source(data, str(path), settings_for(config, options), options, cache)
    return _write(path, result, data, new_data, options)


def open_cache(options: Options) -> ResultCache | None:
    """The result cache `options` ask for, if any."""
    return ResultCache(options.cache_dir) if options.cache_dir is not None else None


def check_paths(paths: Iterable[Path], options: Options) -> Iterator[FileResult]:
    """Results for every file under `paths`, in discovery order (whatever `options.jobs`)."""
    cache = open_cache(options)
    candidates = discover(list(paths))
    if options.jobs <= 1:
        # One process: results stream out as each file is done.
        for candidate in candidates:
            if candidate.error is not None:
                yield FileResult(str(candidate.path), error=candidate.error)
                continue
            yield check_file(candidate.path, candidate.config, options, cache)
        return
    yield from _check_in_workers([(c.path, c.config, c.error) for c in candidates], options, cache)


def _check_in_workers(
    files: list[tuple[Path, ProjectConfig, str | None]], options: Options, cache: ResultCache | None
) -> Iterator[FileResult]:
    # The cheap stages run here, in order; only what needs the last stages is shipped out.
    triaged: list[FileResult | tuple[Path, _Job]] = []
    for path, config, error in files:
        if error is not None:
            triaged.append(FileResult(str(path), error=error))
            continue
        data = _read(path)
        if isinstance(data, FileResult):
            triaged.append(data)
            continue
        outcome = _triage(data, str(path), settings_for(config, options), options, cache)
        triaged.append(notebook.with_cells(outcome, data) if isinstance(outcome, FileResult) else (path, outcome))
    jobs = [item[1] for item in triaged if isinstance(item, tuple)]
    if len(jobs) >= MIN_FILES_FOR_WORKERS:
        analysed: list[_Analysed] = [
            (_internal_error(job.path, out), None, None) if isinstance(out, Failed) else out
            for job, out in zip(jobs, map_ordered(_analyse, jobs, options.jobs))
        ]
    else:
        analysed = [_analyse_safely(job) for job in jobs]
    results = iter(analysed)
    for item in triaged:
        if isinstance(item, FileResult):
            yield item
            continue
        path, job = item
        done = next(results)
        _remember(cache, job, done)
        located = notebook.with_cells(done[0], done[1] or job.data)
        yield _write(path, located, job.data, done[1], options)


def check_stdin(data: bytes, filename: str | None, options: Options) -> tuple[FileResult, bytes | None]:
    """Lint source read from stdin, configured as if it were `filename`."""
    folder = Path(filename).absolute().parent if filename else Path.cwd()
    config = for_directory(folder)
    if filename:
        config = config.for_file(Path(filename))
    return check_source(data, filename or "-", settings_for(config, options), options)


def _unified_diff(old: str, new: str, path: str) -> str:
    import difflib

    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}"
    )
    out = []
    for line in lines:
        out.append(line)
        if not line.endswith(("\n", "\r")):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)
