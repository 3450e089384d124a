"""Lint results of unchanged files, kept under `.lint_mainlayer_cache/`.

An entry holds what linting one file's bytes gives: the findings (with their fix records)
or the error that stopped the analysis. Its key is a hash of the bytes, the settings and a
fingerprint of everything else the result depends on (this package's code and registry,
libcst, Python), so an entry is never stale, only unused. Each entry is one small JSON
file written to a temporary name and renamed into place: two runs sharing the folder
never see half an entry, and an entry that does not read back (truncated, edited) is
ignored. Nothing is ever pickled, so a shared cache folder cannot run code.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import sys
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from lint_mainlayer import __version__
from lint_mainlayer.records import record
from lint_mainlayer.types import Diagnostic, Settings, diagnostic_from_dict

DIRECTORY_NAME = ".lint_mainlayer_cache"
# Bump when the entry format changes.
_SCHEMA = 2
_PACKAGE = Path(__file__).resolve().parent
_counter = itertools.count()


@record(frozen=True)
class Entry:
    """The lint result for one file content: findings, or the error that stopped it."""

    diagnostics: tuple[Diagnostic, ...] = ()
    error: str | None = None


def default_directory(start: Path | None = None) -> Path:
    """`.lint_mainlayer_cache` in the project root: the nearest folder from `start` (default:
    the working directory) upwards that holds a `pyproject.toml`, else `start` itself."""
    start = (start or Path.cwd()).absolute()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder / DIRECTORY_NAME
    return start / DIRECTORY_NAME


class ResultCache:
    """Entries under one folder; reading and writing never raise."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._prepared = False
        self._writable = True

    def key(self, data: bytes, settings: Settings, context: str = "") -> str:
        """The key for linting `data` with `settings`; `context` is the digest of what the
        project's other modules say about it (`types.ProjectView.digest`)."""
        import hashlib  # here: a run whose files all leave at the text stage never needs it

        digest = hashlib.sha256(fingerprint().encode())
        digest.update(_settings_text(settings).encode())
        digest.update(context.encode())
        digest.update(hashlib.sha256(data).digest())
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        # Two-character folders keep any one folder small on big trees.
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Entry | None:
        """The entry stored under `key`, or None if there is none or it does not read back."""
        try:
            raw = json.loads(self._path(key).read_bytes())
            return _entry_from_json(raw)
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def put(self, key: str, entry: Entry) -> None:
        """Store `entry` under `key`; a folder that cannot be written disables the cache."""
        if not self._writable:
            return
        try:
            if not self._prepared:
                self._prepare()
            path = self._path(key)
            path.parent.mkdir(exist_ok=True)
            _write_atomic(path, json.dumps(_entry_to_json(entry), ensure_ascii=False).encode("utf-8"))
        except OSError:
            # A read-only checkout or a full disk costs speed, never a result.
            self._writable = False

    def _prepare(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # As ruff does: the folder ignores itself, and backup tools may skip it.
        ignore = self.directory / ".gitignore"
        if not ignore.exists():
            _write_atomic(ignore, b"# Automatically created by lint-mainlayer.\n*\n")
        tag = self.directory / "CACHEDIR.TAG"
        if not tag.exists():
            _write_atomic(
                tag,
                b"Signature: 8a477f597d28d172789f06886806bc55\n"
                b"# This file is a cache directory tag created by lint-mainlayer.\n",
            )
        self._prepared = True


def _write_atomic(path: Path, data: bytes) -> None:
    # A name no other writer uses (process id and a counter), then one atomic rename.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{next(_counter)}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _settings_text(settings: Settings) -> str:
    return json.dumps(
        [sorted(settings.select), sorted(settings.ignore), settings.target_transformers]
    )


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """What besides a file's bytes and the settings decides its result: the entry format,
    this package's version, code and registry, libcst's version and Python's."""
    import hashlib

    parts = [f"schema {_SCHEMA}", f"lint-mainlayer {__version__}", f"python {sys.version}"]
    # libcst is found, not imported: the cache is consulted before the engine is loaded.
    spec = importlib.util.find_spec("libcst")
    if spec is not None and spec.origin:
        try:
            parts.append(Path(spec.origin).with_name("_version.py").read_text("utf-8"))
        except OSError:
            parts.append(f"libcst at {spec.origin}")
    # An editable install changes code without changing the version: sizes and mtimes of
    # the sources catch that; the registry's bytes are hashed in full.
    for folder, dirs, files in os.walk(_PACKAGE):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "runtime"))
        for name in sorted(files):
            if name.endswith((".py", ".json")):
                info = os.stat(os.path.join(folder, name))
                relative = os.path.relpath(os.path.join(folder, name), _PACKAGE)
                parts.append(f"{relative} {info.st_size} {info.st_mtime_ns}")
    for table in ("main_layers.json", "models.json"):
        parts.append(hashlib.sha256((_PACKAGE / "data" / table).read_bytes()).hexdigest())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _entry_to_json(entry: Entry) -> dict[str, Any]:
    return {"diagnostics": [asdict(d) for d in entry.diagnostics], "error": entry.error}


def _entry_from_json(raw: Any) -> Entry:
    if not isinstance(raw, dict):
        raise TypeError("entry is not an object")
    error = raw["error"]
    if error is not None and not isinstance(error, str):
        raise TypeError("error is not a string")
    return Entry(tuple(diagnostic_from_dict(d) for d in raw["diagnostics"]), error)
