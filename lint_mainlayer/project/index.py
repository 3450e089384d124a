"""The project as the rules need it: which module calls which, and with what.

A `ProjectIndex` is one project (one root) for one run, or for one lint in the language
server: its module files (walked once, as the command line walks a folder), their texts
(from disk, or from `overrides`: an editor's unsaved buffers), and their summaries
(`summary`, cached in a `SummaryStore`). `view_for(path)` gives the `ProjectView` of one
module; `callees_of(path)` the project modules a module calls.

What is read: to find the callers of a module, every project file's text is searched for
the module's name (or a package re-exporting it) as a word; only the files that mention it
are parsed (their calls), and of the modules those import, only the ones that could load
weights (their loader helpers).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Callable, TypeVar

from lint_mainlayer.project import layout, summary
from lint_mainlayer.project.imports import Import, parse_imports, resolve
from lint_mainlayer.project.store import SummaryStore
from lint_mainlayer.types import ArgOrigin, Caller, Factory, Loader, ProjectView

_T = TypeVar("_T")
# How many callables a config is followed through, caller to caller.
_MAX_CHAIN = 4


class ProjectIndex:
    """One project's modules, their texts and summaries (see the module)."""

    def __init__(self, root: Path, store: SummaryStore, overrides: Mapping[Path, str] | None = None) -> None:
        self.root = root.absolute()
        self.store = store
        self.overrides = {p.absolute(): t for p, t in (overrides or {}).items()}
        self._files: list[str] | None = None
        self._modules: dict[str, str] | None = None
        self._texts: dict[Path, str | None] = {}
        self._packages: set[str] = set()
        self._tops: frozenset[str] | None = None
        self._children: dict[str, list[str]] | None = None

    # -- files and names ------------------------------------------------------------------

    def files(self) -> list[str]:
        """The project's module files (absolute path strings: hundreds are walked per run,
        and `Path` objects cost more than the walk)."""
        if self._files is None:
            self._files = layout.project_files(self.root)
        return self._files

    def modules(self) -> dict[str, str]:
        """Module name -> file, for every module of the project."""
        if self._modules is None:
            self._modules = layout.module_names(self.files(), self.root)
            # Namespace packages (folders without `__init__.py`) are modules too, for imports.
            self._packages = {m.rpartition(".")[0] for m in self._modules}
            for name in list(self._packages):
                while "." in name:
                    name = name.rpartition(".")[0]
                    self._packages.add(name)
        return self._modules

    def module_path(self, name: str) -> Path | None:
        """The file of the project module `name`."""
        file = self.modules().get(name)
        return Path(file) if file is not None else None

    def is_module(self, name: str) -> bool:
        """Whether `name` is a module of the project (or a namespace package holding one)."""
        return name in self.modules() or name in self._packages

    def children(self, package: str) -> list[str]:
        """The modules directly under `package` (for the root, "": the top-level ones)."""
        if self._children is None:
            self._children = {}
            for name in self.modules():
                self._children.setdefault(name.rpartition(".")[0], []).append(name)
        return self._children.get(package, [])

    def tops(self) -> frozenset[str]:
        """The project's top-level module and package names."""
        if self._tops is None:
            self._tops = frozenset(name.partition(".")[0] for name in self.modules())
        return self._tops

    def text(self, path: Path) -> str | None:
        """A module's text: the editor's buffer when there is one, else the file's."""
        path = path.absolute()
        if path in self.overrides:
            return self.overrides[path]
        if path not in self._texts:
            from lint_mainlayer.source import DecodeError, decode

            try:
                self._texts[path] = decode(path.read_bytes()).text
            except (OSError, DecodeError):
                self._texts[path] = None
        return self._texts[path]

    def shown(self, path: Path) -> str:
        """A path as messages show it: relative to the project root."""
        try:
            return path.absolute().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    # -- summaries ------------------------------------------------------------------------

    def imports(self, path: Path) -> tuple[Import, ...]:
        """The module's imports, relative ones made absolute."""
        text = self.text(path)
        named = layout.module_name(path, self.root)
        if text is None or named is None:
            return ()
        key = SummaryStore.key("imports", text, named[0], named[1])
        raw = self.store.get_or_compute(
            key, lambda: [[i.local, i.module, i.name] for i in parse_imports(text, named[0], named[1]) or ()]
        )
        return tuple(Import(str(local), str(module), None if name is None else str(name)) for local, module, name in raw)

    def own_loaders(self, path: Path) -> dict[str, Loader]:
        """The module's top-level functions and classes that load weights into a parameter."""
        text = self.text(path)
        if text is None or not summary.may_load(text):
            return {}
        key = SummaryStore.key("loaders", text)
        raw = self.store.get_or_compute(key, lambda: {k: summary.loader_to_json(v) for k, v in summary.loaders_of(text).items()})
        return {str(k): summary.loader_from_json(v) for k, v in raw.items()}

    def needs_callers(self, path: Path) -> bool:
        """Whether the module's verdicts may depend on its callers (`summary.needs_callers`)."""
        text = self.text(path)
        if text is None:
            return False
        key = SummaryStore.key("needs-callers", text)
        return bool(self.store.get_or_compute(key, lambda: summary.needs_callers(text)))

    def own_factories(self, path: Path) -> dict[str, Factory]:
        """The module's top-level functions that return a config of a known origin."""
        text = self.text(path)
        if text is None or not summary.may_return_config(text):
            return {}
        key = SummaryStore.key("factories", text)
        raw = self.store.get_or_compute(key, lambda: {k: summary.factory_to_json(v) for k, v in summary.factories_of(text).items()})
        return {str(k): summary.factory_from_json(v) for k, v in raw.items()}

    def _defined_in(self, module: str, name: str, depth: int = 0) -> tuple[str, str]:
        """Where `module.name` is defined: a package's `__init__` that imports it from
        another project module re-exports that module's (followed a few levels)."""
        head, dot, method = name.partition(".")
        if dot:
            # A method (`Trainer.build`): where its class is defined.
            found = self._defined_in(module, head, depth)
            return found[0], f"{found[1]}.{method}"
        path = self.module_path(module)
        if path is None or depth > 3 or path.name != "__init__.py":
            return module, name
        for imp in self.imports(path):
            if imp.local == name and imp.name is not None and self.is_module(imp.module):
                return self._defined_in(imp.module, imp.name, depth + 1)
        return module, name

    def imported_loaders(self, path: Path) -> dict[str, Loader]:
        """Loader helpers the module imports from the project: its local dotted name for
        each (`load_pretrained`, `L.load`, `pkg.loading.load`) -> their parameters, and when."""
        return self._imported(path, self.own_loaders)

    def imported_factories(self, path: Path) -> dict[str, Factory]:
        """Config factories the module imports from the project, by local dotted name."""
        return self._imported(path, self.own_factories)

    def _imported(self, path: Path, own: Callable[[Path], dict[str, _T]]) -> dict[str, _T]:
        """What `own` says of the callables the module imports from the project, by the
        dotted name the module calls them by."""
        found: dict[str, _T] = {}
        for imp in self.imports(path):
            if imp.module.partition(".")[0] not in self.tops():
                continue
            if imp.name is None or self.is_module(f"{imp.module}.{imp.name}"):
                target = imp.module if imp.name is None else f"{imp.module}.{imp.name}"
                file = self.module_path(target)
                if file is not None:
                    for name, value in own(file).items():
                        found[f"{imp.local}.{name}"] = value
                continue
            module, name = self._defined_in(imp.module, imp.name)
            file = self.module_path(module)
            if file is not None:
                defined = own(file)
                if name in defined:
                    found[imp.local] = defined[name]
        return found

    def calls(self, path: Path) -> tuple[summary.CallSite, ...]:
        """The module's calls of callables it imports from the project."""
        text = self.text(path)
        named = layout.module_name(path, self.root)
        if text is None or named is None:
            return ()
        imports = self.imports(path)
        tops = self.tops()
        if not any(i.module.partition(".")[0] in tops for i in imports):
            return ()
        loaders = self.imported_loaders(path)
        factories = self.imported_factories(path)
        shown = {k: summary.loader_to_json(v) for k, v in loaders.items()}
        made = {k: summary.factory_to_json(v) for k, v in factories.items()}
        key = SummaryStore.key("calls", text, named[0], named[1], sorted(tops), shown, made)
        raw = self.store.get_or_compute(
            key, lambda: summary.calls_to_json(summary.calls_of(text, imports, tops, loaders, factories))
        )
        return summary.calls_from_json(raw)

    def _targets(self, path: Path) -> list[tuple[summary.CallSite, str, str]]:
        """Each call of the module to a project callable, with the (module, name) it calls."""
        imports = self.imports(path)
        out = []
        for site in self.calls(path):
            target = resolve(site.callee, imports, self.is_module)
            if target is not None:
                out.append((site, *self._defined_in(*target)))
        return out

    # -- views ----------------------------------------------------------------------------

    def refs(self, file: str, may_name: Callable[[], bool] | None = None) -> frozenset[str]:
        """The dotted names the module's imports name (`pkg`, `pkg.modeling` for `from pkg
        import modeling`): which modules it may call. Kept by file size and modification
        time (`SummaryStore.graph`), so that an unchanged file is not even read. A file not
        kept yet is parsed only when `may_name()` (a screen of its text) allows it."""
        if self.overrides and Path(file) in self.overrides:
            return _refs(self.imports(Path(file)))
        try:
            info = os.stat(file)
        except OSError:
            return frozenset()
        graph = self.store.graph(self.root)
        stamp = [info.st_mtime_ns, info.st_size]
        entry = graph.get(file)
        if entry is not None and entry[:2] == stamp:
            return frozenset(entry[2])
        if may_name is not None and not may_name():
            return frozenset()
        found = _refs(self.imports(Path(file)))
        graph[file] = [*stamp, sorted(found)]
        self.store.graph_changed(self.root)
        return found

    def view_for(self, path: Path, hidden: frozenset[str] = frozenset()) -> ProjectView | None:
        """The view of the module at `path`; None when it is not a module of the project.
        `hidden`: files (as `shown` writes them) whose calls are not counted, at any depth
        (what the module's findings are without them)."""
        named = layout.module_name(path, self.root)
        if named is None:
            return None
        module = named[0]
        # Only a module with a construction no model's `from_pretrained` loads asks for its
        # callers: the importers of a library of models are not analysed.
        callers = self._callers_of(path, module, hidden) if self.needs_callers(path) else {}
        frozen = {
            k: tuple(self._resolved(c, hidden, {(module, k)}, 0) for c in v) for k, v in sorted(callers.items())
        }
        self.store.save_graph(self.root)
        import hashlib

        loaders = self.imported_loaders(path)
        factories = self.imported_factories(path)
        digest = hashlib.sha256(
            json.dumps(
                [
                    module,
                    {k: [repr(c) for c in v] for k, v in frozen.items()},
                    {k: summary.loader_to_json(v) for k, v in sorted(loaders.items())},
                    {k: summary.factory_to_json(v) for k, v in sorted(factories.items())},
                ]
            ).encode()
        ).hexdigest()
        return ProjectView(module, frozen, loaders, factories, digest)

    def _resolved(self, caller: Caller, hidden: frozenset[str], seen: set[tuple[str, str]], depth: int) -> Caller:
        """`caller` with each config it passes that is a parameter of its own function or
        class (`ArgOrigin.parameter`) resolved through that callable's callers."""
        if depth > _MAX_CHAIN:
            return caller
        file = self.root / caller.path
        named = layout.module_name(file, self.root)
        if named is None:
            return caller

        def resolve(origin: ArgOrigin) -> ArgOrigin:
            if origin.parameter is None:
                return origin
            name, position, param = origin.parameter
            if (named[0], name) in seen:
                return origin
            outer = [
                self._resolved(c, hidden, seen | {(named[0], name)}, depth + 1)
                for c in self._callers_of(file, named[0], hidden).get(name, [])
            ]
            return _through(origin, param, name, outer, position)

        return replace(
            caller,
            positional=tuple(resolve(o) for o in caller.positional),
            keywords=tuple((k, resolve(o)) for k, o in caller.keywords),
        )

    def _callers_of(self, path: Path, module: str, hidden: frozenset[str]) -> dict[str, list[Caller]]:
        """The calls of the module's callables in the project's other files, by callable."""
        # Importers name the module, or a package whose `__init__` re-exports from it.
        targets = {module}
        parts = module.split(".")
        for depth in range(1, len(parts)):
            package = ".".join(parts[:depth])
            init = self.modules().get(package)
            if init is not None and module in self.refs(init):
                targets.add(package)
        here = str(path.absolute())
        # An import of a target spells its last name (`pkg.modeling`, `from .modeling`, `from
        # pkg import`), unless it is relative from inside a target package (`from . import`):
        # other files are not parsed for their imports (a project of thousands of modules).
        spelled = {t.rpartition(".")[2] for t in targets}
        inside = tuple(os.path.dirname(self.modules()[t]) + os.sep for t in targets if t in self.modules() and self.modules()[t].endswith("__init__.py"))

        def may_name(file: str) -> bool:
            text = self.text(Path(file))
            return text is not None and (file.startswith(inside) or any(name in text for name in spelled))

        callers: dict[str, list[Caller]] = {}
        for file in self.files():
            if file == here or self.shown(Path(file)) in hidden or not targets & self.refs(file, lambda: may_name(file)):
                continue
            for site, target, name in self._targets(Path(file)):
                if target != module:
                    continue
                callers.setdefault(name, []).append(
                    Caller(self.shown(Path(file)), site.line, site.positional, site.keywords, site.star, site.loaded, site.when)
                )
        return callers

    def callees_of(self, path: Path) -> list[Path]:
        """The project modules whose callables the module at `path` calls."""
        out: list[Path] = []
        for _, target, _ in self._targets(path):
            file = self.module_path(target)
            if file is not None and file not in out and file != path.absolute():
                out.append(file)
        return out


def _refs(imports: tuple[Import, ...]) -> frozenset[str]:
    return frozenset({i.module for i in imports} | {f"{i.module}.{i.name}" for i in imports if i.name is not None})


def _through(origin: ArgOrigin, param: str, name: str, callers: list[Caller], position: int) -> ArgOrigin:
    """What a parameter holds, from the callers of its callable (as `rules.project_callers`
    decides for a construction's own parameter): a caller that passes a pretrained config
    and does not load the result makes it that config; every caller passing a scratch
    config makes it scratch; otherwise it stays as it was."""
    passed = [(c, c.argument(position, param)) for c in callers if not c.loaded]
    for caller, value in passed:
        if value is not None and value.kind == "pretrained":
            why = f"the parameter `{param}` of `{name}`, to which `{caller.where}` passes {value.why}"
            return ArgOrigin("pretrained", why, value.checkpoint)
    if passed and all(v is not None and v.kind == "scratch" for _, v in passed):
        return ArgOrigin("scratch", f"the parameter `{param}` of `{name}`: every caller passes a config built from hyperparameters")
    return origin
