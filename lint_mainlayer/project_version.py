"""The transformers version a project pins, read from its own files (never imported).

As ruff reads `requires-python`, the version-dependent rules (MLL004) read the version the
code runs with from the project the file belongs to, so that pre-commit's isolated
environment (no transformers installed) does not make them assume the newest 4.x:

1. a lock file: `uv.lock`, `poetry.lock`, `pdm.lock`, `Pipfile.lock` (an exact version);
2. `requirements*.txt`, `constraints*.txt`;
3. `pyproject.toml`'s `[project] dependencies` and `optional-dependencies`;
4. `setup.cfg`'s `[options] install_requires` (and `extras_require`);
5. conda's `environment.yml` / `environment.yaml`.

The folders from the file's own up to the project root (the first with a `pyproject.toml`
or `.git`) are searched in turn; in each folder the sources above are read in that order and
the first that names transformers with a version decides. An unpinned `transformers`
names no version and is passed over.

A range is resolved to the newest 4.x minor it allows (what an install would pick). When a
range allows versions on both sides of a rule's boundary (4.37 for MLL004), no single fix
serves both: the result carries the range and the rules say so instead of guessing.
"""

from __future__ import annotations

import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterator

from lint_mainlayer.records import record

# tomllib, json and configparser are imported by the readers of the files that need them:
# most folders have none of those files (~5 ms of start-up).

# The minors tried when resolving a range; transformers 4.x ended at 4.57, and 4.99 leaves
# room without changing any answer (only the side of 4.37 matters).
_NEWEST_MINOR = 99
# The versions where a rule's behaviour changes: a range across one of them is ambiguous.
BOUNDARIES: tuple[tuple[int, int], ...] = ((4, 37),)

_LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock")
_REQUIREMENTS_NAME = re.compile(r"(requirements|constraints)[\w.-]*\.(txt|in)")
_REQUIREMENT = re.compile(
    r"^\s*transformers\s*(?:\[[^\]]*\])?\s*(?P<spec>(?:[<>=!~]=?|===)[^;#\\]*)?\s*(?:;.*)?(?:#.*)?$",
    re.IGNORECASE,
)
# conda: `- transformers=4.36` (prefix match), `- transformers==4.36.2`, `- transformers>=4.30`.
_CONDA = re.compile(r"^\s*-\s*transformers\s*(?P<spec>[<>=!~][^#]*)?(?:#.*)?$", re.IGNORECASE)


@record(frozen=True)
class ProjectVersion:
    """The transformers version a project file pins.

    `version` is (major, minor), None when the pin is 5+ (which has no TensorFlow: code for
    TF means the newest 4.x). `source` says where it came from (`requirements.txt:
    transformers==4.36.2`). `ambiguous` holds the specifier when it allows both sides of a
    boundary in `BOUNDARIES`.
    """

    version: tuple[int, int] | None
    source: str
    ambiguous: str | None = None


def find(directory: Path) -> ProjectVersion | None:
    """The pin that applies to files in `directory`, or None when no project file has one."""
    return _find(directory.absolute())


@lru_cache(maxsize=None)
def _find(directory: Path) -> ProjectVersion | None:
    # Recursing through the cache: a walk asks for every folder, and each folder's answer
    # is its own files' or its parent's, read once.
    found = in_folder(directory)
    if found is not None:
        return found
    if _is_root(directory) or directory.parent == directory:
        return None
    return _find(directory.parent)


def _is_root(folder: Path) -> bool:
    try:
        return (folder / "pyproject.toml").is_file() or (folder / ".git").exists()
    except OSError:
        return False


def clear_cache() -> None:
    """Forget what was read (the language server calls this when a project file changes)."""
    _find.cache_clear()


#: Globs (for an editor's file watcher) of every file the settings or the version come from.
PROJECT_FILE_GLOBS = (
    "**/pyproject.toml", "**/uv.lock", "**/poetry.lock", "**/pdm.lock", "**/Pipfile.lock",
    "**/requirements*.txt", "**/requirements*.in", "**/constraints*.txt", "**/setup.cfg",
    "**/environment.yml", "**/environment.yaml",
)


def is_project_file(name: str) -> bool:
    """Whether a file of this name can change the settings or the transformers version."""
    return name in ("pyproject.toml", "setup.cfg", "environment.yml", "environment.yaml", "Pipfile.lock") or (
        name in _LOCK_FILES or _REQUIREMENTS_NAME.fullmatch(name) is not None
    )


def files_state(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime, size) of the project files that apply to `directory` (its folder and
    those above, to the project root): what changes when the settings may have changed.
    The language server compares it on each save, for clients that do not watch files."""
    state = []
    for folder in (directory, *directory.parents):
        try:
            names = sorted(n for n in (p.name for p in folder.iterdir()) if is_project_file(n))
        except OSError:
            names = []
        for name in names:
            try:
                info = (folder / name).stat()
            except OSError:
                continue
            state.append((str(folder / name), info.st_mtime_ns, info.st_size))
        if (folder / ".git").exists():
            break
    return tuple(state)


def in_folder(folder: Path) -> ProjectVersion | None:
    """The pin in `folder`'s own project files, by the precedence in the module docstring."""
    for path, read in _sources(folder):
        try:
            found = read(path)
        except (OSError, UnicodeDecodeError, ValueError):
            # A broken dependency file is the project's other tools' business: look further.
            # (tomllib's and json's errors are ValueErrors; `_setup_cfg` turns configparser's
            # into one.)
            continue
        if found is not None:
            return found
    return None


_Reader = Callable[[Path], "ProjectVersion | None"]


def _sources(folder: Path) -> Iterator[tuple[Path, _Reader]]:
    for name in _LOCK_FILES:
        yield folder / name, _toml_lock
    yield folder / "Pipfile.lock", _pipfile_lock
    for name in _requirement_files(folder):
        yield folder / name, _requirements_file
    yield folder / "pyproject.toml", _pyproject
    yield folder / "setup.cfg", _setup_cfg
    for name in ("environment.yml", "environment.yaml"):
        yield folder / name, _conda


def _requirement_files(folder: Path) -> list[str]:
    # The names are matched before anything is asked of the file system: a folder such as
    # /tmp or a home folder can hold thousands of entries, each a stat with `is_file()`.
    try:
        with os.scandir(folder) as entries:
            return sorted(
                entry.name
                for entry in entries
                if _REQUIREMENTS_NAME.fullmatch(entry.name) is not None and _is_file_entry(entry)
            )
    except OSError:
        return []


def _is_file_entry(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _exists(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def _toml_lock(path: Path) -> ProjectVersion | None:
    if not _exists(path):
        return None
    text = path.read_text("utf-8")
    if "transformers" not in text:
        return None
    data = _toml().loads(text)
    for package in data.get("package", []):
        if isinstance(package, dict) and str(package.get("name", "")).lower() == "transformers":
            version = package.get("version")
            if isinstance(version, str):
                return _exact(version, f"{path.name}: transformers {version}")
    return None


def _pipfile_lock(path: Path) -> ProjectVersion | None:
    if not _exists(path):
        return None
    import json

    data = json.loads(path.read_text("utf-8"))
    for section in ("default", "develop"):
        entry = data.get(section, {}).get("transformers")
        if isinstance(entry, dict) and isinstance(entry.get("version"), str):
            version = entry["version"].lstrip("=")
            return _exact(version, f"{path.name}: transformers {version}")
    return None


def _requirements_file(path: Path) -> ProjectVersion | None:
    lines = path.read_text("utf-8").splitlines()
    return _first_requirement(lines, path.name)


def _pyproject(path: Path) -> ProjectVersion | None:
    if not _exists(path):
        return None
    text = path.read_text("utf-8")
    if "transformers" not in text:
        return None
    project = _toml().loads(text).get("project", {})
    if not isinstance(project, dict):
        return None
    requirements = list(project.get("dependencies", []) or [])
    for extra in (project.get("optional-dependencies", {}) or {}).values():
        requirements += list(extra or [])
    return _first_requirement([r for r in requirements if isinstance(r, str)], path.name)


def _setup_cfg(path: Path) -> ProjectVersion | None:
    if not _exists(path):
        return None
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    lines: list[str] = []
    try:
        parser.read_string(path.read_text("utf-8"))
        if parser.has_option("options", "install_requires"):
            lines += parser.get("options", "install_requires").splitlines()
        if parser.has_section("options.extras_require"):
            for _, value in parser.items("options.extras_require"):
                lines += value.splitlines()
    except configparser.Error as exc:
        raise ValueError(str(exc)) from None
    return _first_requirement(lines, path.name)


def _conda(path: Path) -> ProjectVersion | None:
    if not _exists(path):
        return None
    for line in path.read_text("utf-8").splitlines():
        match = _CONDA.match(line)
        if match is None or not match.group("spec"):
            continue
        spec = match.group("spec").strip()
        if re.fullmatch(r"=[^=<>!~,]+", spec):
            # conda's single `=` matches a version prefix: `=4.36` is `4.36.*`.
            spec = f"=={spec[1:].rstrip('.*')}.*"
        return _from_specifier(spec, f"{path.name}: transformers{match.group('spec').strip()}")
    return None


def _first_requirement(lines: list[str], where: str) -> ProjectVersion | None:
    for line in lines:
        match = _REQUIREMENT.match(line)
        if match is None:
            continue
        spec = (match.group("spec") or "").strip()
        if not spec:
            continue  # unpinned: names no version
        return _from_specifier(spec, f"{where}: transformers{spec}")
    return None


def _toml() -> ModuleType:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib


def _exact(version: str, source: str) -> ProjectVersion | None:
    match = re.match(r"(\d+)(?:\.(\d+))?", version)
    if match is None:
        return None
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    return ProjectVersion((major, minor) if major == 4 else None, source)


def _from_specifier(spec: str, source: str) -> ProjectVersion | None:
    # packaging, imported only when a project names a transformers range: it implements
    # PEP 440 specifiers exactly (~=, ==4.3*, !=, pre-releases) where a regex would not.
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        specifier = SpecifierSet(spec.replace(" ", ""))
    except InvalidSpecifier:
        return None
    # Each minor's first and a late patch, and the versions the specifier names (and the next
    # patch of each): enough to see which minors a specifier admits (`==4.36.2`, `>4.36.2`).
    tried = {f"4.{minor}.{patch}" for minor in range(_NEWEST_MINOR + 1) for patch in (0, 99)}
    for item in specifier:
        numbers = re.findall(r"\d+", item.version.split("*")[0])[:3]
        if len(numbers) == 3:
            tried |= {".".join(numbers[:2] + [numbers[2]]), ".".join(numbers[:2] + [str(int(numbers[2]) + 1)])}
    allowed = sorted(
        {
            (4, int(v.split(".")[1]))
            for v in tried
            if v.startswith("4.") and specifier.contains(v, prereleases=True)
        }
    )
    if not allowed:
        # Only 5+ (or nothing in 4.x): code for TensorFlow runs the newest 4.x, as with 5 installed.
        return ProjectVersion(None, source) if any(specifier.contains(f"{m}.0.0") for m in (5, 6)) else None
    newest = allowed[-1]
    ambiguous = next(
        (spec for boundary in BOUNDARIES if allowed[0] < boundary <= allowed[-1]),
        None,
    )
    return ProjectVersion(newest if newest[1] < _NEWEST_MINOR else None, source, ambiguous)
