"""The one entry point: the command line and the language server both come through here.
Paths, bytes or an editor's text in, one `FileResult` per file out; never raises for a bad file.

Each file goes down one pipeline and leaves it as soon as a stage can answer: it is read
and decoded, its text screened (`prefilter`'s text stage: no `MainLayer`, no transformers
import), looked up in the result cache, and only then analysed (and fixed) by the `engine`,
which takes the rest of the prefilter's decision. The engine and the rules are imported
only when a file reaches them, so a tree without main layers never pays for them (and
libcst only when a fix is applied).
With `Options.jobs` > 1 and enough such files, the engine runs in worker processes; the
stages before and after it (reading, the cache, writing) stay in this process, in order.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, NamedTuple

from lint_mainlayer import codes, prefilter, project_version
from lint_mainlayer.cache import Entry, ResultCache
from lint_mainlayer.cache import default_directory as default_cache_directory
from lint_mainlayer.codes import RULE_NAMES, UnknownCodeError
from lint_mainlayer.codes import parse as parse_codes
from lint_mainlayer.config import (
    ConfigError,
    ProjectConfig,
    clear_caches,
    for_directory,
    parse_version,
    with_target,
)
from lint_mainlayer.files import Candidate, Warn, discover, excluded, warn_on_stderr
from lint_mainlayer.noqa import NOQA, noqa_edits
from lint_mainlayer.parallel import Failed, call_safely, map_ordered
from lint_mainlayer.records import record
from lint_mainlayer.source import (
    DecodedSource,
    DecodeError,
    EncodeError,
    decode,
    may_hold_ipython,
)
from lint_mainlayer.types import (
    LINE_BREAK,
    CellIndex,
    Diagnostic,
    FileResult,
    RuleDoc,
    Settings,
    split_lines,
)
from lint_mainlayer.writer import ChangedOnDisk, write_atomic

if TYPE_CHECKING:
    from lint_mainlayer.engine import Key
    from lint_mainlayer.project.session import ProjectSession
    from lint_mainlayer.project.store import SummaryStore
    from lint_mainlayer.types import ProjectView

# What the transports (cli, lsp) use of the layers below, so that they import only this module.
__all__ = [
    "LINE_BREAK",
    "NOQA",
    "PROJECT_FILE_GLOBS",
    "RULE_NAMES",
    "Candidate",
    "Checked",
    "ProjectConfig",
    "UnknownCodeError",
    "Warn",
    "add_noqa_to",
    "ConfigError",
    "DocumentSettings",
    "Options",
    "check_file",
    "check_paths",
    "check_source",
    "check_cells",
    "check_stdin",
    "check_text",
    "check_dependents",
    "default_cache_directory",
    "discover",
    "document_settings",
    "warn_on_stderr",
    "fix_text",
    "forget_project_configs",
    "is_project_file",
    "for_directory",
    "open_cache",
    "parse_codes",
    "parse_version",
    "project_files_state",
    "project_root_of",
    "noqa_edits",
    "rule_docs",
    "split_lines",
    "settings_for",
]

# Worker processes pay for a fork and for importing the engine: below this many files that
# need the last stages, one process is as fast.
MIN_FILES_FOR_WORKERS = 3


@record(frozen=True)
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
    # False (`--no-project`): each file alone, whatever the config says.
    project: bool = True


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
    if not options.project:
        settings = replace(settings, project_analysis=False)
    if options.target_transformers is not None:
        settings = replace(
            settings,
            target_transformers=options.target_transformers,
            target_transformers_source="--target-transformers",
            target_transformers_range=None,
        )
    return settings


@record(frozen=True)
class _Job:
    """A file that passed the cheap stages: what the engine stage needs (picklable)."""

    path: str
    data: bytes
    decoded: DecodedSource
    settings: Settings
    options: Options
    # Where to write a fix (None: source that did not come from a file).
    on_disk: Path | None = None
    # What the project's other modules say about this one (None: no project analysis).
    project: ProjectView | None = None


@record(frozen=True)
class _Analysed:
    """What the engine stage gives for one job (picklable, sent back from workers)."""

    result: FileResult
    # The fixed bytes, when a fix changed the source.
    new_data: bytes | None = None
    # The cache entry for the bytes the file ends up with; None when it must not be cached.
    entry: Entry | None = None


class Checked(NamedTuple):
    """One source's result and, when a fix changed it, the new bytes (written by the caller, or not)."""

    result: FileResult
    new_data: bytes | None


NOTEBOOK_SUFFIX = ".ipynb"


def _notebook() -> ModuleType:
    # Imported when a notebook, or a file the text stage kept, needs it: not for every file.
    from lint_mainlayer import notebook

    return notebook


def _with_cells(result: FileResult, data: bytes) -> FileResult:
    """A notebook's result with its findings placed in cells; any other result as it is."""
    if not result.diagnostics or not result.path.endswith(NOTEBOOK_SUFFIX):
        return result
    with_cells: FileResult = _notebook().with_cells(result, data)
    return with_cells


def _triage(
    data: bytes,
    path: str,
    settings: Settings,
    options: Options,
    cache: ResultCache | None,
    session: ProjectSession | None = None,
) -> FileResult | _Job:
    """The cheap stages: a final result, or the job for the engine. With `session`, a file
    that reaches the engine gets its project view (part of its cache key)."""
    try:
        # A notebook's cells joined; a Python file as it is, until the text stage wants it.
        decoded = _notebook().decode_notebook(data) if path.endswith(NOTEBOOK_SUFFIX) else decode(data)
    except DecodeError as exc:
        return FileResult(path, error=str(exc))
    keep = decoded.text if options.keep_source else None
    # The text stage costs less than hashing the file for the cache. Masking IPython lines
    # only removes text, so the stage may run before it.
    if not prefilter.mentions_main_layer(decoded.text):
        if session is not None and settings.project_analysis and "import" in decoded.text:
            # A script may configure a builder of another module (`_context_results`).
            session.note_script(path)
        return FileResult(path, source=keep)
    if not prefilter.imports_transformers(decoded.text):
        return FileResult(path, source=keep)
    if session is not None and settings.project_analysis:
        session.note_script(path)
    if not path.endswith(NOTEBOOK_SUFFIX) and may_hold_ipython(decoded.text):
        # IPython lines (`!pip install`, `%%time`) of a script exported from a notebook, masked.
        decoded = _notebook().decode_python(decoded)
        keep = decoded.text if options.keep_source else None
    view = None
    if session is not None and settings.project_analysis and not path.endswith(NOTEBOOK_SUFFIX):
        found = call_safely(session.view, Path(path))
        # A bug in the project analysis leaves the file to be checked alone, never the run.
        view = None if isinstance(found, Failed) else found
    if cache is not None:
        entry = cache.get(cache.key(data, settings, view.digest if view is not None else ""))
        if entry is not None and not _would_fix(entry, options):
            # Without a fix to apply, --fix and --diff give exactly the lint result.
            if entry.error is not None:
                return FileResult(path, error=entry.error)
            return _with_cells(FileResult(path, entry.diagnostics, source=keep), data)
    return _Job(path, data, decoded, settings, options, project=view)


def _would_fix(entry: Entry, options: Options) -> bool:
    return (options.fix or options.diff) and any(d.fixable(options.unsafe_fixes) for d in entry.diagnostics)


def _analyse(job: _Job) -> _Analysed:
    """The engine stage: analysis, and fixes when asked (module-level: workers run it)."""
    from lint_mainlayer import engine

    source = job.decoded.text
    options = job.options
    path = job.path
    keep = source if options.keep_source else None
    if not (options.fix or options.diff):
        analysis = engine.analyse(source, job.settings, project=job.project)
        if analysis.error is not None:
            return _Analysed(FileResult(path, error=analysis.error), entry=Entry(error=analysis.error))
        return _Analysed(FileResult(path, analysis.diagnostics, source=keep), entry=Entry(analysis.diagnostics))
    outcome = engine.fix_source(source, job.settings, unsafe=options.unsafe_fixes, project=job.project)
    if outcome.error is not None:
        if outcome.internal:
            return _Analysed(FileResult(path, error=f"internal error, please report: {outcome.error}"))
        return _Analysed(FileResult(path, error=outcome.error), entry=Entry(error=outcome.error))
    # After a fix, `diagnostics` are what linting the fixed source gives.
    entry = Entry(outcome.diagnostics)
    if outcome.source == source:
        return _Analysed(FileResult(path, outcome.diagnostics, source=keep), entry=entry)
    try:
        # Masked lines restored, a notebook's changed cells spliced back.
        new_data = _notebook().encode_path(job.decoded, outcome.source)
    except EncodeError as exc:
        return _Analysed(FileResult(path, error=f"the fix cannot be written back: {exc}; not written"))
    result = FileResult(
        path,
        outcome.diagnostics,
        fixed_codes=outcome.applied,
        changed=True,
        diff=_notebook().diff(job.decoded, outcome.source, path, _unified_diff) if options.diff else None,
        source=outcome.source if options.keep_source else None,
    )
    return _Analysed(result, new_data, entry)


def _analyse_safely(job: _Job) -> _Analysed:
    return _or_internal_error(job, call_safely(_analyse, job))


def _or_internal_error(job: _Job, analysed: _Analysed | Failed) -> _Analysed:
    if isinstance(analysed, Failed):
        return _Analysed(FileResult(job.path, error=f"internal error, please report: {analysed.reason}"))
    return analysed


def _analyse_all(jobs: list[_Job], workers: int) -> list[_Analysed]:
    if workers > 1 and len(jobs) >= MIN_FILES_FOR_WORKERS:
        return [_or_internal_error(job, out) for job, out in zip(jobs, map_ordered(_analyse, jobs, workers))]
    return [_analyse_safely(job) for job in jobs]


def _finish(job: _Job, analysed: _Analysed, cache: ResultCache | None) -> FileResult:
    """The stages after the engine: remember the result, place a notebook's findings in
    their cells, write the fix."""
    data = analysed.new_data if analysed.new_data is not None else job.data
    if cache is not None and analysed.entry is not None:
        # The entry describes the bytes the file ends up with: after --fix, the next run hits.
        # The view is what the other modules say: a fix of this one leaves it as it was.
        cache.put(cache.key(data, job.settings, job.project.digest if job.project is not None else ""), analysed.entry)
    result = _with_cells(analysed.result, data)
    if job.on_disk is None:
        return result
    return _write(job.on_disk, result, job.data, analysed.new_data, job.options)


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


def _pipeline(
    files: Iterable[tuple[Path, ProjectConfig, str | None]],
    options: Options,
    cache: ResultCache | None,
    session: ProjectSession | None = None,
) -> Iterator[FileResult]:
    """Every file through every stage, results in the files' order. With one process the
    results stream out as each file is done; with workers, the engine stage of all files
    runs at once between the in-order stages."""

    def triaged() -> Iterator[FileResult | _Job]:
        for path, config, error in files:
            if error is not None:
                yield FileResult(str(path), error=error)
                continue
            data = _read(path)
            if isinstance(data, FileResult):
                yield data
                continue
            item = _triage(data, str(path), settings_for(config, options), options, cache, session)
            yield item if isinstance(item, FileResult) else replace(item, on_disk=path)

    items: Iterable[FileResult | _Job] = triaged()
    done: Iterator[_Analysed] | None = None
    if options.jobs > 1:
        items = list(items)
        done = iter(_analyse_all([i for i in items if isinstance(i, _Job)], options.jobs))
    for item in items:
        if isinstance(item, FileResult):
            yield item
            continue
        analysed = next(done) if done is not None else _analyse_safely(item)
        yield _finish(item, analysed, cache)


def check_source(
    data: bytes,
    path: str,
    settings: Settings,
    options: Options,
    cache: ResultCache | None = None,
    session: ProjectSession | None = None,
) -> Checked:
    """Lint (and fix, per `options`) one source's bytes; nothing is written."""
    item = _triage(data, path, settings, options, cache, session)
    if isinstance(item, FileResult):
        return Checked(item, None)
    analysed = _analyse_safely(item)
    return Checked(_finish(item, analysed, cache), analysed.new_data)


def check_file(path: Path, config: ProjectConfig, options: Options, cache: ResultCache | None = None) -> FileResult:
    """Lint one file on disk, and write its fix when `options.fix` (not with `diff`)."""
    return next(_pipeline([(path, config, None)], replace(options, jobs=1), cache))


def open_cache(options: Options) -> ResultCache | None:
    """The result cache `options` ask for, if any."""
    return ResultCache(options.cache_dir) if options.cache_dir is not None else None


def check_paths(paths: Iterable[Path], options: Options, warn: Warn = warn_on_stderr) -> Iterator[FileResult]:
    """Results for every file under `paths`, in discovery order (whatever `options.jobs`);
    `warn` receives the walk's warnings (a dangling symlink skipped)."""
    cache = open_cache(options)
    session = _session(options)
    named: list[Path] = []

    def files() -> Iterator[tuple[Path, ProjectConfig, str | None]]:
        for c in discover(list(paths), warn):
            if c.error is None:
                named.append(c.path)
            yield c.path, c.config, c.error

    yield from _pipeline(files(), options, cache, session)
    if session is not None:
        yield from _context_results(session, named, options, cache)


def _session(options: Options, overrides: dict[Path, str] | None = None) -> ProjectSession | None:
    if not options.project:
        return None
    from lint_mainlayer.project.session import ProjectSession

    return ProjectSession(options.cache_dir, overrides)


def _context_results(
    session: ProjectSession, named: list[Path], options: Options, cache: ResultCache | None = None
) -> Iterator[FileResult]:
    """Results for modules that were not named whose findings a named module decides: the
    findings that the named modules' calls change, reported (never fixed) in the module
    that holds the construction."""
    cwd = Path.cwd()
    modules = call_safely(session.context_modules, named)
    for path, index in [] if isinstance(modules, Failed) else modules:
        # Imported here: most runs have no such module, and the engine imports libcst.
        from lint_mainlayer import engine

        try:
            config = for_directory(path.parent)
        except ConfigError:
            continue
        if excluded(path, config, explicit=True):
            continue
        settings = settings_for(config.for_file(path), options)
        text = index.text(path)
        view = call_safely(index.view_for, path)
        if not settings.project_analysis or text is None or view is None or isinstance(view, Failed):
            continue
        hidden = frozenset(index.shown(p) for p in [*named, *session.through.get(path, ())])
        alone = call_safely(lambda p: index.view_for(p, hidden), path)
        if alone is None or isinstance(alone, Failed):
            continue
        data = text.encode("utf-8", "surrogatepass")
        key = cache.key(data, settings, f"context {view.digest} {alone.digest}") if cache is not None else None
        entry = cache.get(key) if cache is not None and key is not None else None
        if entry is not None:
            found = entry.diagnostics
        else:
            full = engine.analyse(text, settings, project=view)
            before = {(d.line, d.column, d.code, d.message) for d in engine.analyse(text, settings, project=alone).diagnostics}
            found = tuple(
                replace(d, fix=None) for d in full.diagnostics if (d.line, d.column, d.code, d.message) not in before
            )
            if cache is not None and key is not None and full.error is None:
                cache.put(key, Entry(found))
        if found:
            try:
                display = path.relative_to(cwd)
            except ValueError:
                display = path
            yield FileResult(str(display), found, context=True)


def check_stdin(data: bytes, filename: str | None, options: Options) -> Checked:
    """Lint source read from stdin, configured as if it were `filename`."""
    folder = Path(filename).absolute().parent if filename else Path.cwd()
    config = for_directory(folder)
    if filename:
        config = config.for_file(Path(filename))
    session = None
    if filename:
        try:
            session = _session(options, {Path(filename): decode(data).text})
        except DecodeError:
            session = None
    return check_source(data, filename or "-", settings_for(config, options), options, session=session)


# -- the editor's entry points: text in memory, not bytes on disk ----------------------------


@record(frozen=True)
class DocumentSettings:
    """How to check one editor document: its settings, or None when the project's config
    excludes it; `warning` says why the defaults are used instead of a broken config."""

    settings: Settings | None
    warning: str | None = None


def document_settings(path: Path | None, options: Options | None = None) -> DocumentSettings:
    """The settings for a document at `path` (None: unsaved, configured by the working
    folder), with the same precedence, per-file ignores and exclusions as the command line."""
    options = options or Options()
    folder = path.parent if path is not None else Path.cwd()
    try:
        config = for_directory(folder)
    except ConfigError as exc:
        defaults = ProjectConfig(root=folder, settings=with_target(Settings(), folder))
        return DocumentSettings(settings_for(defaults, options), f"{exc}; using the default settings")
    if path is None:
        return DocumentSettings(settings_for(config, options))
    if excluded(path, config, explicit=True):
        return DocumentSettings(None)
    return DocumentSettings(settings_for(config.for_file(path), options))


def rule_docs() -> tuple[RuleDoc, ...]:
    """Every rule's code, name, summary and documentation, in code order."""
    import inspect

    from lint_mainlayer.rules import ALL_RULES

    return tuple(
        RuleDoc(
            rule.code,
            rule.name,
            rule.summary,
            rule.fixable,
            inspect.getdoc(rule) or rule.summary,
            codes.doc_url(rule.code) or codes.DOCS_URL,
        )
        for rule in ALL_RULES
    )


def forget_project_configs() -> None:
    """Read every project's config and dependency files afresh (one changed on disk)."""
    clear_caches()


def project_files_state(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes on disk when the settings of files in `folder` may have changed."""
    return project_version.files_state(folder)


def is_project_file(name: str) -> bool:
    """Whether a file of this name can change the settings or the transformers version."""
    return project_version.is_project_file(name)


PROJECT_FILE_GLOBS = project_version.PROJECT_FILE_GLOBS


def project_root_of(path: Path) -> Path | None:
    """The root of the project `path` belongs to for the project analysis (the nearest
    folder above it with a `pyproject.toml` or `.git`), if any."""
    from lint_mainlayer.project.layout import project_root

    return project_root(path)


def check_text(text: str, path: str, settings: Settings) -> FileResult:
    """The findings in an editor's text (an `error` when it cannot be analysed). IPython
    lines (`!pip install`, `%%time`) are masked as in files, positions unchanged. `path`,
    when it names the document's file, places it in its project: the other modules are
    read from disk, this one from `text`."""
    from lint_mainlayer import engine

    masked = _notebook().mask(text) if prefilter.mentions_main_layer(text) and may_hold_ipython(text) else None
    source = masked.text if masked is not None else text
    view = _editor_view(path, source, settings)
    analysis = engine.analyse(source, settings, project=view)
    return FileResult(path, analysis.diagnostics, error=analysis.error)


_editor_store: list[SummaryStore] = []


def _editor_session(overrides: dict[Path, str]) -> ProjectSession:
    from lint_mainlayer.project.session import ProjectSession
    from lint_mainlayer.project.store import SummaryStore

    if not _editor_store:
        # The editor's summaries live as long as the server, in memory, keyed by content.
        _editor_store.append(SummaryStore(None))
    return ProjectSession(None, overrides, store=_editor_store[0])


def _editor_view(path: str, source: str, settings: Settings) -> ProjectView | None:
    if not settings.project_analysis or not path or path.endswith(NOTEBOOK_SUFFIX) or not os.path.isabs(path):
        return None
    if not (prefilter.mentions_main_layer(source) and prefilter.imports_transformers(source)):
        return None
    found = call_safely(_editor_session({Path(path): source}).view, Path(path))
    return None if isinstance(found, Failed) else found


def check_dependents(text: str, path: str, settings: Settings, options: Options | None = None) -> list[FileResult]:
    """For an editor's document (checked with `settings`): the findings of the project
    modules it calls that its calls decide (as the command line reports them for a named
    file), with the document's text in place of its file. Each result's path is absolute."""
    options = options or Options()
    if not path or not os.path.isabs(path) or not path.endswith(".py") or not options.project:
        return []
    if not settings.project_analysis or not prefilter.imports_transformers(text):
        return []
    session = _editor_session({Path(path): text})
    session.note_script(path)
    return [replace(r, path=str(Path(r.path).absolute())) for r in _context_results(session, [Path(path)], options)]


def check_cells(cells: Sequence[str], path: str, settings: Settings) -> tuple[tuple[Diagnostic, ...], ...]:
    """The findings in a notebook's code cells, read together as a notebook file is (one
    cell's import counts for the next), each cell's findings with lines counted in it."""
    from lint_mainlayer import engine

    joined, starts = _notebook().join(list(cells))
    analysis = engine.analyse(joined, settings)
    index = CellIndex(tuple(range(1, len(cells) + 1)), starts)
    out: list[list[Diagnostic]] = [[] for _ in cells]
    for found in analysis.diagnostics:
        cell, line = index.locate(found.line)
        shift = found.line - line
        fix = found.fix and replace(found.fix, line=found.fix.line - shift, end_line=found.fix.end_line - shift)
        out[cell - 1].append(replace(found, line=line, end_line=found.end_line - shift, fix=fix))
    return tuple(tuple(found) for found in out)


def fix_text(
    text: str, path: str, settings: Settings, *, unsafe: bool, only: Key | None = None
) -> FileResult:
    """An editor's text with its fixes applied (`only`: one finding's), as `source`, with
    how many findings were fixed; an `error` when nothing could be fixed."""
    from lint_mainlayer import engine

    masked = _notebook().mask(text) if prefilter.mentions_main_layer(text) and may_hold_ipython(text) else None
    source = masked.text if masked is not None else text
    outcome = engine.fix_source(source, settings, unsafe=unsafe, only=None if only is None else {only})
    if outcome.error is not None:
        return FileResult(path, error=outcome.error)
    fixed = _notebook().unmask(outcome.source, masked.originals) if masked is not None else outcome.source
    return FileResult(path, outcome.diagnostics, fixed_codes=outcome.applied, changed=fixed != text, source=fixed)


def add_noqa_to(result: FileResult) -> tuple[int, str | None]:
    """Write a `# noqa: CODE` for each of `result`'s findings into its file (`--add-noqa`):
    how many lines got one, and the error when the file could not be rewritten."""
    from lint_mainlayer.noqa import add_noqa

    path = Path(result.path)
    try:
        data = path.read_bytes()
        # A notebook's findings are on the lines of its joined cells: the comments go there and
        # back into the cells, every other byte kept, as a fix does.
        decoded = _notebook().decode_path(data, result.path)
        new_text, count = add_noqa(decoded.text, result.diagnostics)
        if count:
            write_atomic(path, _notebook().encode_path(decoded, new_text), expected=data)
    except (OSError, DecodeError, EncodeError, ChangedOnDisk) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return 0, f"cannot add noqa directives: {why}"
    return count, None


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
