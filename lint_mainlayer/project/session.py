"""One run's project analysis: the projects met so far, and the summaries store they share.

The api asks two things of it: the `ProjectView` of a file it is about to analyse (`view`),
and, after the named files, which other modules of their projects hold constructions whose
findings depend on a named file (`context_modules`): pre-commit and the editor name one
changed file, and a finding belongs to the file that holds the construction.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from typing import TYPE_CHECKING

from lint_mainlayer import prefilter
from lint_mainlayer.project import layout

if TYPE_CHECKING:
    from lint_mainlayer.project.index import ProjectIndex
    from lint_mainlayer.project.store import SummaryStore
    from lint_mainlayer.types import ProjectView

# How many calls deep `context_modules` follows a named script's calls.
_DEPTH = 3
# `import x`, `from x import`, `from . import`: where a module may import the project.
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import|import[ \t]+([\w.]+))", re.MULTILINE)


class ProjectSession:
    """Indexes by project root, sharing one store (see the module)."""

    def __init__(
        self, cache_dir: Path | None, overrides: Mapping[Path, str] | None = None, store: SummaryStore | None = None
    ) -> None:
        # The index and store are imported when a file needs them: a run whose files all
        # leave at the text stage pays for this class alone.
        self._store = store
        self._cache_dir = cache_dir
        self.overrides = dict(overrides or {})
        self._indexes: dict[Path, ProjectIndex] = {}
        # Named files that may configure a builder (they import something), in order.
        self.scripts: list[str] = []
        # For each module `context_modules` found, the modules not named that a named script
        # reaches it through: its findings are those the named files and these decide.
        self.through: dict[Path, frozenset[Path]] = {}
        self._roots: dict[Path, Path | None] = {}

    @property
    def store(self) -> SummaryStore:
        """The summaries' store (made on first use)."""
        if self._store is None:
            from lint_mainlayer.project.store import SummaryStore

            self._store = SummaryStore(self._cache_dir)
        return self._store

    def index_for(self, path: Path) -> ProjectIndex | None:
        """The index of the project holding `path`, if it belongs to one."""
        folder = path.absolute().parent
        if folder not in self._roots:
            self._roots[folder] = layout.project_root(path)
        root = self._roots[folder]
        if root is None:
            return None
        if root not in self._indexes:
            from lint_mainlayer.project.index import ProjectIndex

            self._indexes[root] = ProjectIndex(root, self.store, self.overrides)
        return self._indexes[root]

    def view(self, path: Path) -> ProjectView | None:
        """The view of the module at `path` (None: no project, or not one of its modules)."""
        index = self.index_for(path)
        return index.view_for(path) if index is not None else None

    def note_script(self, path: str | Path) -> None:
        """A named file imports something: `context_modules` looks at what it calls."""
        # A string: a run over a folder notes nearly every file, most of them outside any
        # project, and a `Path` each would cost more than the rest of this.
        self.scripts.append(os.fspath(path))

    def context_modules(
        self, named: Iterable[Path], scripts: Iterable[str | Path] | None = None
    ) -> list[tuple[Path, ProjectIndex]]:
        """Modules not among `named` that a named script (`scripts`, default: those noted)
        calls and that could hold a finding (the prefilter's text stage), in a stable order."""
        # Strings, not `Path`s: a run over a folder names hundreds of files.
        named_files = {os.path.abspath(p) for p in named}
        named_set: set[Path] | None = None  # made for the first script in a project
        out: list[tuple[Path, ProjectIndex]] = []
        # Projects all of whose modules were named (a run over the whole project) have no
        # module to add: decided by one walk, before any file is read again.
        whole: dict[Path, bool] = {}
        indexes: dict[str, ProjectIndex | None] = {}
        for script in self.scripts if scripts is None else scripts:
            if os.path.splitext(script)[1] != ".py":
                continue
            folder = os.path.dirname(script)
            if folder not in indexes:
                indexes[folder] = self.index_for(Path(script))
            index = indexes[folder]
            if index is None:
                continue
            path = Path(script)
            if named_set is None:
                named_set = {Path(p) for p in named_files}
            if index.root not in whole:
                whole[index.root] = all(file in named_files for file in index.files())
            if whole[index.root] or not _may_call_project(path, self, named_files):
                continue
            # The modules the script calls, and those they call in turn (a config handed on
            # through a builder of another module): breadth first, a few calls deep, with
            # the modules not named that each is reached through.
            via: dict[Path, frozenset[Path]] = {path.absolute(): frozenset()}
            layer = [path.absolute()]
            for _ in range(_DEPTH):
                following = []
                for caller in layer:
                    for callee in index.callees_of(caller):
                        if callee in via:
                            continue
                        via[callee] = via[caller] | ({caller} - named_set)
                        following.append(callee)
                        if callee in named_set or any(callee == p for p, _ in out):
                            continue
                        text = index.text(callee)
                        if text is not None and prefilter.mentions_main_layer(text) and prefilter.imports_transformers(text):
                            out.append((callee, index))
                            self.through[callee] = via[callee]
                layer = following
        return out


def _may_call_project(path: Path, session: ProjectSession, named: set[str]) -> bool:
    """A cheap screen before any summary: the file imports a module that exists in its
    project (relatively, or by a top-level name that is a file or folder of the project).
    A file that does not import transformers (where a config comes from) must moreover
    import a project module that was not named (its config may come from a factory of the
    project): in a run over a whole folder, it has nothing to add."""
    index = session.index_for(path)
    if index is None:
        return False
    text = index.text(path)
    if text is None:
        return False
    bases = layout.source_roots(index.root)
    imported = []
    for match in _IMPORT.finditer(text):
        name = match.group(1) or match.group(2) or ""
        top = name.partition(".")[0]
        if name.startswith(".") or (top and any((base / top).is_dir() or (base / f"{top}.py").is_file() for base in bases)):
            imported.append(name)
    if not imported:
        return False
    if prefilter.imports_transformers(text):
        return True
    return any(file not in named for file in _module_files(path, imported, index))


def _module_files(path: Path, names: list[str], index: ProjectIndex) -> list[str]:
    """The project files that the imports `names` (as written in the module at `path`,
    `from NAME import`/`import NAME`) may bind: the module, or a package's `__init__`
    and the modules under it (`from pkg import modeling`)."""
    named = layout.module_name(path, index.root)
    here, is_package = named if named is not None else ("", False)
    out = []
    for name in names:
        dots = len(name) - len(name.lstrip("."))
        if dots:
            parts = here.split(".") if here else []
            if not is_package:
                parts = parts[:-1]
            parts = parts[: len(parts) - (dots - 1)] if dots > 1 else parts
            rest = name[dots:]
            name = ".".join([*parts, *([rest] if rest else [])])
        modules = index.modules()
        if name in modules:
            out.append(modules[name])
        # A package's modules (`from pkg import modeling`), one level down.
        out.extend(modules[child] for child in index.children(name))
    return out
