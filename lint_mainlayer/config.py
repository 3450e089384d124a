"""`[tool.lint-mainlayer]` in the nearest pyproject.toml, and the target transformers version."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from lint_mainlayer.types import Settings

SECTION = "lint-mainlayer"
_KNOWN = {"select", "ignore", "exclude", "extend-exclude", "target-transformers"}


class ConfigError(Exception):
    """A configuration file or value is wrong; the message names it."""


@dataclass(frozen=True)
class ProjectConfig:
    """One project's settings and excludes; `root` is the folder patterns are relative to."""

    root: Path
    settings: Settings
    exclude: tuple[str, ...] = ()
    source: Path | None = None
    extend_exclude: tuple[str, ...] = field(default=())


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
def default_target() -> tuple[int, int] | None:
    """The transformers version assumed when nothing sets it: the installed one, if any."""
    # Reading installed metadata scans every distribution on sys.path (milliseconds each
    # time): once per run, not once per folder.
    return installed_transformers()


def _codes(value: Any, key: str, path: Path) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: [tool.{SECTION}] {key} must be a list of rule codes")
    return frozenset(v.strip().upper() for v in value)


def _patterns(value: Any, key: str, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: [tool.{SECTION}] {key} must be a list of patterns")
    return tuple(value)


def load_file(path: Path) -> ProjectConfig | None:
    """The config in `path`, or None when the file has no `[tool.lint-mainlayer]` table."""
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
    settings = Settings(
        select=_codes(table["select"], "select", path) if "select" in table else defaults.select,
        ignore=_codes(table["ignore"], "ignore", path) if "ignore" in table else defaults.ignore,
        target_transformers=parse_version(target) if target else default_target(),
    )
    return ProjectConfig(
        root=path.parent,
        settings=settings,
        exclude=_patterns(table.get("exclude", []), "exclude", path),
        extend_exclude=_patterns(table.get("extend-exclude", []), "extend-exclude", path),
        source=path,
    )


@lru_cache(maxsize=None)
def for_directory(directory: Path) -> ProjectConfig:
    """The config that applies to files in `directory`: the nearest pyproject.toml with a
    `[tool.lint-mainlayer]` table, or the defaults."""
    for folder in (directory, *directory.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            found = load_file(candidate)
            if found is not None:
                return found
    return ProjectConfig(root=directory, settings=Settings(target_transformers=default_target()))
