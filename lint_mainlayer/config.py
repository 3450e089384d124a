"""`[tool.lint-mainlayer]` in the nearest pyproject.toml, and the target transformers version."""

from __future__ import annotations

import os
import sys
from dataclasses import field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from lint_mainlayer import codes, project_version
from lint_mainlayer.records import record
from lint_mainlayer.types import Settings

SECTION = "lint-mainlayer"
_KNOWN = {
    "select", "extend-select", "ignore", "per-file-ignores", "exclude", "extend-exclude",
    "include", "extend-include", "target-transformers", "project-analysis",
}
#: The files a folder walk lints, as in ruff (`include` replaces, `extend-include` adds).
DEFAULT_INCLUDE = ("*.py", "*.pyi", "*.ipynb")


class ConfigError(Exception):
    """A configuration file or value is wrong; the message names it."""


@record(frozen=True)
class ProjectConfig:
    """One project's settings and excludes; `root` is the folder patterns are relative to."""

    root: Path
    settings: Settings
    exclude: tuple[str, ...] = ()
    source: Path | None = None
    extend_exclude: tuple[str, ...] = field(default=())
    include: tuple[str, ...] = DEFAULT_INCLUDE
    # (pattern, codes): `per-file-ignores`, patterns relative to `root` as in `exclude`.
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    # Whether the config itself sets `target-transformers` (else the project's files decide).
    target_set: bool = False

    def for_file(self, path: Path) -> ProjectConfig:
        """This config with the `per-file-ignores` that match `path` applied."""
        if not self.per_file_ignores:
            return self
        ignored = frozenset(
            code for pattern, codes_ in self.per_file_ignores if _matches(pattern, path, self.root) for code in codes_
        )
        if not ignored:
            return self
        return replace(self, settings=replace(self.settings, per_file_ignore=ignored))


def _matches(pattern: str, path: Path, root: Path) -> bool:
    import pathspec

    try:
        relative = path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        relative = path.name
    return pathspec.GitIgnoreSpec.from_lines([pattern]).match_file(relative)


def parse_version(text: str) -> tuple[int, int]:
    """'4.37', '4.37.2', '4.38.0.dev0' -> (4, 37)."""
    parts = text.strip().split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        raise ConfigError(f"not a version: {text!r}") from None


def installed_transformers() -> tuple[int, int] | None:
    """The installed transformers 4.x version, from its distribution's folder name (never
    imported); None if absent or 5+ (which has no TensorFlow: code targeting TF means the
    newest 4.x)."""
    # The first `transformers-<version>.dist-info` on sys.path is the one `import` would use.
    # Read from the folder name: importlib.metadata alone would add ~70 ms to start-up.
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith("transformers-") and name.endswith((".dist-info", ".egg-info")):
                text = name[len("transformers-") :].rsplit(".", 1)[0].split("-")[0]
                try:
                    version = parse_version(text)
                except ConfigError:
                    continue
                return version if version[0] == 4 else None
    return None


@lru_cache(maxsize=1)
def _default_target() -> tuple[int, int] | None:
    # Reading installed metadata scans every distribution on sys.path (milliseconds each
    # time): once per run, not once per folder.
    return installed_transformers()


def _codes(value: Any, key: str, path: Path) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: [tool.{SECTION}] {key} must be a list of rule codes")
    try:
        return codes.parse(value, f"{path}: [tool.{SECTION}] {key}")
    except codes.UnknownCodeError as exc:
        raise ConfigError(str(exc)) from None


def _per_file_ignores(value: Any, path: Path) -> tuple[tuple[str, frozenset[str]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [tool.{SECTION}] per-file-ignores must be a table of pattern = [codes]")
    return tuple((pattern, _codes(v, f"per-file-ignores.{pattern!r}", path)) for pattern, v in value.items())


def _patterns(value: Any, key: str, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: [tool.{SECTION}] {key} must be a list of patterns")
    return tuple(value)


def load_file(path: Path) -> ProjectConfig | None:
    """The config in `path`, or None when the file has no `[tool.lint-mainlayer]` table."""
    # Imported here: a file outside any project with a pyproject.toml never needs it.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}".splitlines()[0]) from None
    table = data.get("tool", {}).get(SECTION)
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{SECTION}] must be a table")
    unknown = sorted(set(table) - _KNOWN)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) in [tool.{SECTION}]: {', '.join(unknown)}")
    defaults = Settings()
    target = table.get("target-transformers")
    if target is not None and not isinstance(target, str):
        raise ConfigError(f"{path}: target-transformers must be a string such as \"4.37\"")
    select = _codes(table["select"], "select", path) if "select" in table else defaults.select
    if "extend-select" in table:
        select = select | _codes(table["extend-select"], "extend-select", path)
    project_analysis = table.get("project-analysis", True)
    if not isinstance(project_analysis, bool):
        raise ConfigError(f"{path}: [tool.{SECTION}] project-analysis must be true or false")
    settings = Settings(
        select=select,
        ignore=_codes(table["ignore"], "ignore", path) if "ignore" in table else defaults.ignore,
        project_analysis=project_analysis,
    )
    if target:
        settings = replace(
            settings,
            target_transformers=parse_version(target),
            target_transformers_source=f"target-transformers in {path}",
        )
    include = _patterns(table["include"], "include", path) if "include" in table else DEFAULT_INCLUDE
    include += _patterns(table.get("extend-include", []), "extend-include", path)
    return ProjectConfig(
        root=path.parent,
        settings=settings,
        exclude=_patterns(table.get("exclude", []), "exclude", path),
        extend_exclude=_patterns(table.get("extend-exclude", []), "extend-exclude", path),
        source=path,
        include=include,
        per_file_ignores=_per_file_ignores(table.get("per-file-ignores", {}), path),
        target_set=bool(target),
    )


@lru_cache(maxsize=None)
def for_directory(directory: Path) -> ProjectConfig:
    """The config that applies to files in `directory`: the nearest pyproject.toml with a
    `[tool.lint-mainlayer]` table, or the defaults; the target transformers version as the
    module `target_for` describes."""
    found = None
    for folder in (directory, *directory.parents):
        candidate = folder / "pyproject.toml"
        if _is_file(candidate):
            found = load_file(candidate)
            if found is not None:
                break
    if found is None:
        found = ProjectConfig(root=directory, settings=Settings())
    if found.target_set:
        return found
    return replace(found, settings=with_target(found.settings, directory))


def _is_file(path: Path) -> bool:
    # An unreadable folder above (no search permission) is no reason to stop: as if absent.
    try:
        return path.is_file()
    except OSError:
        return False


def with_target(settings: Settings, directory: Path) -> Settings:
    """`settings` with the transformers version found for files in `directory`: the
    project's own files (`project_version`), else the installed version, else the newest 4.x.
    (`--target-transformers` and the `target-transformers` setting come first; their callers
    do not ask.)"""
    pinned = project_version.find(directory)
    if pinned is not None:
        return replace(
            settings,
            target_transformers=pinned.version,
            target_transformers_source=pinned.source,
            target_transformers_range=pinned.ambiguous,
        )
    installed = _default_target()
    if installed is not None:
        return replace(
            settings,
            target_transformers=installed,
            target_transformers_source="the installed version",
        )
    return replace(settings, target_transformers=None, target_transformers_source="no version found")


def clear_caches() -> None:
    """Forget every config and project version read (files changed on disk)."""
    for_directory.cache_clear()
    project_version.clear_cache()
