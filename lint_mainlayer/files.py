"""Which files to lint: walk folders, honour excludes and .gitignore (via pathspec)."""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from lint_mainlayer.config import DEFAULT_INCLUDE, ProjectConfig, for_directory
from lint_mainlayer.records import record

if TYPE_CHECKING:
    # pathspec is imported where patterns are compiled: a run on named files without
    # exclude patterns never needs it (~10 ms of start-up).
    import pathspec

#: Receives each warning about a path skipped (a dangling symlink met in a walk).
Warn = Callable[[str], None]


def warn_on_stderr(message: str) -> None:
    """The default `Warn`: the message on stderr."""
    print(message, file=sys.stderr)


# Folders no user wants linted, as in ruff's defaults; `exclude` in the config replaces them.
DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints",
    ".mypy_cache", ".nox", ".pants.d", ".pytest_cache", ".pytype", ".ruff_cache", ".svn",
    ".tox", ".venv", ".vscode", "__pycache__", "__pypackages__", "_build", "buck-out",
    "build", "dist", "node_modules", "site-packages", "venv", ".lint_mainlayer_cache",
)


@record(frozen=True)
class Candidate:
    """A file to lint with its config, or (with `error`) a path that could not be read."""

    path: Path
    config: ProjectConfig
    error: str | None = None


def _exclude_spec(config: ProjectConfig, explicit: bool) -> pathspec.GitIgnoreSpec:
    # Files named on the command line skip only what the user excluded, not the defaults.
    default = () if explicit else DEFAULT_EXCLUDE
    return _compiled(tuple(config.exclude or default) + tuple(config.extend_exclude))


@lru_cache(maxsize=None)
def _compiled(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    # Keyed by the patterns, not the config: every folder without a pyproject.toml has its
    # own config but the same default patterns, compiled once.
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


@lru_cache(maxsize=None)
def _gitignore(directory: Path) -> pathspec.GitIgnoreSpec | None:
    path = directory / ".gitignore"
    try:
        lines = path.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def excluded(path: Path, config: ProjectConfig, is_dir: bool = False, explicit: bool = False) -> bool:
    """Whether the project's exclude patterns (or the defaults) match `path`."""
    if explicit and not (config.exclude or config.extend_exclude):
        # No pattern to match (a named file, no excludes configured): no spec to compile.
        return False
    try:
        relative = path.absolute().relative_to(config.root.absolute())
    except ValueError:
        relative = Path(path.name)
    text = relative.as_posix() + ("/" if is_dir else "")
    spec = _exclude_spec(config, explicit)
    if spec.match_file(text):
        return True
    # A bare name such as "build" matches that folder at any depth, as in ruff.
    return any(spec.match_file(part + "/") for part in relative.parts[:-1])


Specs = tuple[tuple[str, "pathspec.GitIgnoreSpec"], ...]


def _specs_above(folder: Path, stop: Path) -> Specs:
    """The .gitignore specs of `folder` and its parents up to `stop`, innermost last."""
    chain = []
    current = folder
    while True:
        spec = _gitignore(current)
        if spec is not None:
            chain.append((str(current), spec))
        if current == stop or current == current.parent:
            break
        current = current.parent
    return tuple(reversed(chain))


def _ignored(path: str, is_dir: bool, specs: Specs) -> bool:
    """Whether the .gitignore `specs` (each with its folder) ignore `path`: as in git, the
    deepest file with a pattern that matches decides, so `!name` there re-includes."""
    for base, spec in reversed(specs):
        relative = path[len(base) + 1 :].replace(os.sep, "/") + ("/" if is_dir else "")
        verdict = spec.check_file(relative).include
        if verdict is not None:
            return bool(verdict)
    return False


def _git_root(start: Path) -> Path:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def _is_virtualenv(directory: Path) -> bool:
    try:
        return (directory / "pyvenv.cfg").is_file()
    except OSError:
        return False  # an unreadable folder: the walk reports it


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def discover(paths: list[Path], warn: Warn = warn_on_stderr) -> Iterator[Candidate]:
    """Files to lint, in a stable order. Explicit files are kept unless the project's
    excludes match them (so pre-commit's explicit file names honour the config too).

    Paths that cannot be read come out as candidates with an `error` (a missing named path,
    a folder the walk cannot list), so the run goes on; a dangling symlink met in a walk is
    a warning to `warn`, and skipped."""
    seen: set[object] = set()
    for path in paths:
        if _is_dir(path):
            root = path.absolute()
            stop = _git_root(root)
            for found, identity in _walk(root, stop, warn):
                key: object = identity if identity is not None else found.path
                if key not in seen:
                    seen.add(key)
                    yield found
        else:
            config = for_directory(path.absolute().parent)
            if excluded(path, config, explicit=True):
                continue
            identity = _identity(path)
            key = identity if identity is not None else path.absolute()
            if key not in seen:
                seen.add(key)
                if not os.path.lexists(path):
                    yield Candidate(path, config, error="cannot read: No such file or directory")
                else:
                    yield Candidate(path, config.for_file(path))


def _identity(path: str | Path) -> tuple[int, int] | None:
    # One stat instead of resolve()'s lstat of every component: the same file reached
    # through two paths or a link has the same device and inode. None: it does not exist
    # (a dangling link).
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _walk(root: Path, stop: Path, warn: Warn) -> Iterator[tuple[Candidate, tuple[int, int] | None]]:
    """The walk's candidates, each with the identity of its file (None for a folder that
    cannot be read)."""
    cwd = Path.cwd()  # once per walk, not once per file
    unreadable: list[OSError] = []
    for file, config, identity in _walk_entries(root, stop, unreadable):
        yield from ((c, None) for c in _unreadable(unreadable, cwd))
        path = Path(file)
        if identity is None:
            # A dangling symlink: nothing to lint, and not the user's mistake to fail on.
            warn(f"{_display(path, cwd)}: warning: broken symbolic link, skipped")
            continue
        yield Candidate(_display(path, cwd), config.for_file(path)), identity
    yield from ((c, None) for c in _unreadable(unreadable, cwd))


def walk_files(root: Path) -> Iterator[str]:
    """The files a folder walk of `root` would lint, as absolute path strings: the same
    excludes, `.gitignore` files and includes as `discover`, without its per-file records
    (for the project analysis, which walks a whole project to find its modules).
    Folders that cannot be listed and dangling links are passed over."""
    root = root.absolute()
    for file, _, identity in _walk_entries(root, _git_root(root), []):
        if identity is not None:
            yield file


def _walk_entries(
    root: Path, stop: Path, unreadable: list[OSError]
) -> Iterator[tuple[str, ProjectConfig, tuple[int, int] | None]]:
    """(file, its folder's config, its identity or None when it does not exist) for every
    file the walk keeps; the folders that cannot be listed are appended to `unreadable` as
    the walk meets them."""
    # Each folder's .gitignore specs are its parent's plus its own: computed once per folder.
    specs: dict[str, Specs] = {str(root): _specs_above(root, stop)}
    # followlinks=False: a symlink loop cannot hang the walk; linked files are still listed.
    # A folder that cannot be listed is reported (onerror) and the walk goes on.
    for folder, dirs, files in os.walk(root, followlinks=False, onerror=unreadable.append):
        here = Path(folder)
        config = for_directory(here)
        inherited = specs.pop(folder, ())
        keep = []
        for name in sorted(dirs):
            sub = os.path.join(folder, name)
            if excluded(Path(sub), config, is_dir=True) or _is_virtualenv(Path(sub)):
                continue
            if _ignored(sub, True, inherited):
                continue
            keep.append(name)
            own = _gitignore(Path(sub))
            specs[sub] = inherited + ((sub, own),) if own is not None else inherited
        dirs[:] = keep
        # The default excludes name folders, already pruned above: files need checking
        # only against the project's own patterns.
        own_patterns = bool(config.exclude or config.extend_exclude)
        for name in sorted(files):
            file = os.path.join(folder, name)
            if not _included(file, name, config):
                continue
            if (own_patterns and excluded(Path(file), config)) or _ignored(file, False, inherited):
                continue
            yield file, config, _identity(file)


def _unreadable(errors: list[OSError], cwd: Path) -> Iterator[Candidate]:
    while errors:
        exc = errors.pop(0)
        folder = Path(exc.filename) if exc.filename else cwd
        config = for_directory(folder.parent)
        if not excluded(folder, config, is_dir=True):
            yield Candidate(_display(folder, cwd), config, error=f"cannot read folder: {_reason(exc)}")


def _included(file: str, name: str, config: ProjectConfig) -> bool:
    if config.include == DEFAULT_INCLUDE:
        # The common case without compiling patterns.
        return name.endswith(tuple(p[1:] for p in DEFAULT_INCLUDE))
    try:
        relative = Path(file).relative_to(config.root.absolute()).as_posix()
    except ValueError:
        relative = name
    return _compiled(config.include).match_file(relative)


def _display(file: Path, cwd: Path) -> Path:
    # Show paths as the user would type them: relative to the working directory when possible.
    try:
        return file.relative_to(cwd)
    except ValueError:
        return file

