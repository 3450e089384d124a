"""Which files to lint: walk folders, honour excludes and .gitignore (via pathspec)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import pathspec

from lint_mainlayer.config import ProjectConfig, for_directory

# Folders no user wants linted, as in ruff's defaults; `exclude` in the config replaces them.
DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints",
    ".mypy_cache", ".nox", ".pants.d", ".pytest_cache", ".pytype", ".ruff_cache", ".svn",
    ".tox", ".venv", ".vscode", "__pycache__", "__pypackages__", "_build", "buck-out",
    "build", "dist", "node_modules", "site-packages", "venv", ".lint_mainlayer_cache",
)


@dataclass(frozen=True)
class Candidate:
    path: Path
    config: ProjectConfig


def _exclude_spec(config: ProjectConfig, explicit: bool) -> pathspec.GitIgnoreSpec:
    # Files named on the command line skip only what the user excluded, not the defaults.
    default = () if explicit else DEFAULT_EXCLUDE
    return _compiled(tuple(config.exclude or default) + tuple(config.extend_exclude))


@lru_cache(maxsize=None)
def _compiled(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    # Keyed by the patterns, not the config: every folder without a pyproject.toml has its
    # own config but the same default patterns, compiled once.
    return pathspec.GitIgnoreSpec.from_lines(patterns)


@lru_cache(maxsize=None)
def _gitignore(directory: Path) -> pathspec.GitIgnoreSpec | None:
    path = directory / ".gitignore"
    try:
        lines = path.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def excluded(path: Path, config: ProjectConfig, is_dir: bool = False, explicit: bool = False) -> bool:
    """Whether the project's exclude patterns (or the defaults) match `path`."""
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


def _ignored_by_git(path: Path, is_dir: bool, stop: Path) -> bool:
    """Whether a .gitignore between `stop` (the repository or walk root) and `path` ignores it."""
    folder = path.parent
    while True:
        spec = _gitignore(folder)
        if spec is not None:
            relative = path.relative_to(folder).as_posix() + ("/" if is_dir else "")
            if spec.match_file(relative):
                return True
        if folder == stop or folder == folder.parent:
            return False
        folder = folder.parent


def _git_root(start: Path) -> Path:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def _is_virtualenv(directory: Path) -> bool:
    return (directory / "pyvenv.cfg").is_file()


def discover(paths: list[Path]) -> Iterator[Candidate]:
    """Files to lint, in a stable order. Explicit files are kept unless the project's
    excludes match them (so pre-commit's explicit file names honour the config too)."""
    seen: set[object] = set()
    for path in paths:
        if path.is_dir():
            root = path.absolute()
            stop = _git_root(root)
            for found in _walk(root, stop):
                key = _identity(found.path)
                if key not in seen:
                    seen.add(key)
                    yield found
        else:
            config = for_directory(path.absolute().parent)
            if excluded(path, config, explicit=True):
                continue
            key = _identity(path)
            if key not in seen:
                seen.add(key)
                yield Candidate(path, config)


def _identity(path: Path) -> object:
    # One stat instead of resolve()'s lstat of every component: the same file reached
    # through two paths or a link has the same device and inode.
    try:
        info = os.stat(path)
    except OSError:
        return path.absolute()
    return (info.st_dev, info.st_ino)


def _walk(root: Path, stop: Path) -> Iterator[Candidate]:
    cwd = Path.cwd()  # once per walk, not once per file
    # followlinks=False: a symlink loop cannot hang the walk; linked files are still listed.
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        config = for_directory(here)
        keep = []
        for name in sorted(dirs):
            sub = here / name
            if excluded(sub, config, is_dir=True) or _is_virtualenv(sub):
                continue
            if _ignored_by_git(sub, True, stop):
                continue
            keep.append(name)
        dirs[:] = keep
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            file = here / name
            if excluded(file, config) or _ignored_by_git(file, False, stop):
                continue
            yield Candidate(_display(file, cwd), config)


def _display(file: Path, cwd: Path) -> Path:
    # Show paths as the user would type them: relative to the working directory when possible.
    try:
        return file.relative_to(cwd)
    except ValueError:
        return file

