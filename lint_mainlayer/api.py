"""Paths and bytes in, one `FileResult` per file out. Never raises for a bad file."""

from __future__ import annotations

import difflib
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator

from lint_mainlayer import engine
from lint_mainlayer.config import ProjectConfig, for_directory
from lint_mainlayer.files import discover
from lint_mainlayer.source import DecodeError, decode, encode
from lint_mainlayer.types import FileResult, Settings
from lint_mainlayer.writer import ChangedOnDisk, write_atomic


@dataclass(frozen=True)
class Options:
    """How to run: fix or not, and command-line overrides of the project settings."""

    fix: bool = False
    diff: bool = False
    unsafe_fixes: bool = False
    select: frozenset[str] | None = None
    extend_ignore: frozenset[str] = frozenset()
    target_transformers: tuple[int, int] | None = None
    keep_source: bool = False


def settings_for(config: ProjectConfig, options: Options) -> Settings:
    """The project's settings with the command line's overrides applied."""
    settings = config.settings
    if options.select is not None:
        # An explicit --select on the command line outranks the config's select and ignore.
        settings = replace(settings, select=options.select, ignore=frozenset())
    if options.extend_ignore:
        settings = replace(settings, ignore=settings.ignore | options.extend_ignore)
    if options.target_transformers is not None:
        settings = replace(settings, target_transformers=options.target_transformers)
    return settings


def check_source(data: bytes, path: str, settings: Settings, options: Options) -> tuple[FileResult, bytes | None]:
    """Lint (and fix, per `options`) one file's bytes. Returns the result and, when a fix
    changed the source, the new bytes (written by the caller, or not)."""
    try:
        decoded = decode(data)
    except DecodeError as exc:
        return FileResult(path, error=str(exc)), None
    source = decoded.text
    keep = source if options.keep_source else None
    try:
        if not (options.fix or options.diff):
            return FileResult(path, tuple(engine.lint_source(source, settings)), source=keep), None
        outcome = engine.fix_source(source, settings, unsafe=options.unsafe_fixes)
    except engine.SourceError as exc:
        return FileResult(path, error=str(exc)), None
    except engine.FixBug as exc:
        return FileResult(path, error=f"internal error, please report: {exc}"), None
    if outcome.source == source:
        return FileResult(path, outcome.diagnostics, source=keep), None
    try:
        new_data = encode(outcome.source, decoded.encoding)
    except UnicodeEncodeError:
        return FileResult(path, error=f"the fix cannot be encoded as {decoded.encoding}; not written"), None
    diff = _unified_diff(source, outcome.source, path) if options.diff else None
    result = FileResult(
        path,
        outcome.diagnostics,
        fixed=outcome.applied,
        changed=True,
        diff=diff,
        source=outcome.source if options.keep_source else None,
    )
    return result, new_data


def check_file(path: Path, config: ProjectConfig, options: Options) -> FileResult:
    """Lint one file on disk, and write its fix when `options.fix` (not with `diff`)."""
    shown = str(path)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return FileResult(shown, error="not a regular file")
        data = path.read_bytes()
    except OSError as exc:
        return FileResult(shown, error=f"cannot read: {exc.strerror or exc}")
    result, new_data = check_source(data, shown, settings_for(config, options), options)
    if new_data is None or options.diff or not options.fix:
        return result
    try:
        write_atomic(path, new_data, expected=data)
    except ChangedOnDisk as exc:
        return FileResult(shown, error=str(exc))
    except OSError as exc:
        return FileResult(shown, error=f"cannot write: {exc.strerror or exc}; file left unchanged")
    return result


def check_paths(paths: Iterable[Path], options: Options) -> Iterator[FileResult]:
    """Results for every file under `paths`, in a stable order."""
    for candidate in discover(list(paths)):
        yield check_file(candidate.path, candidate.config, options)


def check_stdin(data: bytes, filename: str | None, options: Options) -> tuple[FileResult, bytes | None]:
    """Lint source read from stdin, configured as if it were `filename`."""
    folder = Path(filename).absolute().parent if filename else Path.cwd()
    config = for_directory(folder)
    return check_source(data, filename or "-", settings_for(config, options), options)


def _unified_diff(old: str, new: str, path: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}"
    )
    out = []
    for line in lines:
        out.append(line)
        if not line.endswith(("\n", "\r")):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)
