"""Summaries kept between runs, under the result cache's folder (`<cache>/project/`).

A summary's key hashes what it is computed from: the tool's fingerprint (version, code,
libcst, Python: `cache.fingerprint`), the kind of summary, the module's text and the other
inputs (its name, the loaders it imports), so an entry is never stale, only unused. Entries
are small JSON files written atomically, as the result cache writes its own; one that does
not read back is recomputed. Without a folder (`--no-cache`, the language server), entries
live in memory for the life of the process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from lint_mainlayer import cache as result_cache

FOLDER = "project"


class SummaryStore:
    """Summaries by key, in memory and (with `directory`) on disk; never raises."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory / FOLDER if directory is not None else None
        self._memory: dict[str, Any] = {}
        self._writable = True
        self._graphs: dict[str, dict[str, list[Any]]] = {}
        self._dirty: set[str] = set()
        # How many summaries were computed (not found): tests read it.
        self.computed = 0

    @staticmethod
    def key(kind: str, text: str, *inputs: Any) -> str:
        """The key for a `kind` summary of `text` with these other inputs."""
        import hashlib
        digest = hashlib.sha256(result_cache.fingerprint().encode())
        digest.update(kind.encode())
        digest.update(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())
        digest.update(json.dumps(inputs, sort_keys=True, default=sorted).encode())
        return digest.hexdigest()

    def get_or_compute(self, key: str, compute: Callable[[], Any]) -> Any:
        """The JSON value stored under `key`, else `compute()` stored there."""
        if key in self._memory:
            return self._memory[key]["value"]
        value = self._read(key)
        if value is None:
            self.computed += 1
            value = {"value": compute()}
            self._write(key, value)
        self._memory[key] = value
        return value["value"]

    # -- the import graph of a project, by file stamp --------------------------------------

    def graph(self, root: Path) -> dict[str, list[Any]]:
        """For the project at `root`: file -> [mtime_ns, size, the names its imports name]
        (mutable; `graph_changed` then `save_graph` to keep changes)."""
        key = str(root)
        if key not in self._graphs:
            self._graphs[key] = self._read_graph(root)
        return self._graphs[key]

    def graph_changed(self, root: Path) -> None:
        self._dirty.add(str(root))

    def save_graph(self, root: Path) -> None:
        """Write the project's graph if it changed (no-op in memory)."""
        key = str(root)
        if key not in self._dirty:
            return
        self._dirty.discard(key)
        path = self._graph_path(root)
        if path is None or not self._writable:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            result_cache._write_atomic(path, json.dumps(self._graphs[key]).encode("utf-8"))
        except OSError:
            self._writable = False

    def _graph_path(self, root: Path) -> Path | None:
        if self.directory is None:
            return None
        import hashlib

        # The tool's fingerprint is part of the name: another version reads its own.
        name = hashlib.sha256(f"{result_cache.fingerprint()}\n{root}".encode()).hexdigest()
        return self.directory / "graphs" / f"{name}.json"

    def _read_graph(self, root: Path) -> dict[str, list[Any]]:
        path = self._graph_path(root)
        if path is None:
            return {}
        try:
            raw = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(raw, dict):
            return {}
        return {
            k: v
            for k, v in raw.items()
            if isinstance(v, list) and len(v) == 3 and all(isinstance(x, int) for x in v[:2]) and isinstance(v[2], list)
        }

    def _path(self, key: str) -> Path | None:
        return self.directory / key[:2] / f"{key}.json" if self.directory is not None else None

    def _read(self, key: str) -> Any:
        path = self._path(key)
        if path is None:
            return None
        try:
            value = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) and "value" in value else None

    def _write(self, key: str, value: Any) -> None:
        path = self._path(key)
        if path is None or not self._writable:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            result_cache._write_atomic(path, json.dumps(value).encode("utf-8"))
        except OSError:
            self._writable = False
