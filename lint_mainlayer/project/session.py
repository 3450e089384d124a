"""One run's project analysis: the projects met so far, and the summaries store they share.

The api asks two things of it: the `ProjectView` of a file it is about to analyse (`view`),
and, after the named files, which other modules of their projects hold constructions whose
findings depend on a named file (`context_modules`): pre-commit and the editor name one
changed file, and a finding belongs to the file that holds the construction.
"""

from __future__ import annotations

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
        # Named files that import transformers, in order: those that may configure a builder.
        self.scripts: list[Path] = []
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

    def note_script(self, path: Path) -> None:
        """A named file imports transformers: `context_modules` looks at what it calls."""
        self.scripts.append(path)

    def context_modules(self, named: Iterable[Path], scripts: Iterable[Path] | None = None) -> list[tuple[Path, ProjectIndex]]:
        """Modules not among `named` that a named script (`scripts`, default: those noted)
        calls and that could hold a finding (the prefilter's text stage), in a stable order."""
        named_set = {p.absolute() for p in named}
        out: list[tuple[Path, ProjectIndex]] = []
        for path in self.scripts if scripts is None else scripts:
            if path.suffix != ".py" or not _may_call_project(path, self):
                continue
            index = self.index_for(path)
            if index is None:
                continue
            # The modules the script calls, and those they call in turn (a config handed on
            # through a builder of another module): breadth first, a few calls deep.
            reached = {path.absolute()}
            layer = [path.absolute()]
            for _ in range(_DEPTH):
                following = []
                for caller in layer:
                    for callee in index.callees_of(caller):
                        if callee in reached:
                            continue
                        reached.add(callee)
                        following.append(callee)
                        if callee in named_set or any(callee == p for p, _ in out):
                            continue
                        text = index.text(callee)
                        if text is not None and prefilter.mentions_main_layer(text) and prefilter.imports_transformers(text):
                            out.append((callee, index))
                layer = following
        return out


def _may_call_project(path: Path, session: ProjectSession) -> bool:
    """A cheap screen before any index: the file imports transformers (where a config comes
    from) and imports a module that exists in its project (relatively, or by a top-level
    name that is a file or folder of the project)."""
    index = session.index_for(path)
    if index is None:
        return False
    text = index.text(path)
    if text is None or not prefilter.imports_transformers(text):
        return False
    bases = layout.source_roots(index.root)
    for match in _IMPORT.finditer(text):
        name = match.group(1) or match.group(2) or ""
        if name.startswith("."):
            return True
        top = name.partition(".")[0]
        if top and any((base / top).is_dir() or (base / f"{top}.py").is_file() for base in bases):
            return True
    return False
