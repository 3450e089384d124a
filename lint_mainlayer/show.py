"""`--show-settings` and `--show-files`: what a run would check, and with which settings."""

from __future__ import annotations

import json
from pathlib import Path

from lint_mainlayer import api
from lint_mainlayer.api import ConfigError, ProjectConfig, discover, for_directory
from lint_mainlayer.console import echo

EXIT_CLEAN, EXIT_ERROR = 0, 2


def _toml(values: object) -> str:
    return json.dumps(sorted(values) if isinstance(values, (set, frozenset)) else values)


def describe(path: str, config: ProjectConfig, options: api.Options) -> str:
    """The settings a file is checked with, one `key = value` per line (TOML-like)."""
    settings = api.settings_for(config, options)
    target = settings.target_transformers
    version = f"{target[0]}.{target[1]}" if target is not None else "newest 4.x"
    lines = [
        f"Resolved settings for: {path}",
        f"Settings path: {config.source if config.source is not None else 'none (defaults)'}",
        "",
        f"select = {_toml(settings.select)}",
        f"ignore = {_toml(settings.ignore)}",
        f"per-file-ignores (this file) = {_toml(settings.per_file_ignore)}",
        f"per-file-ignores = {_toml({p: sorted(c) for p, c in config.per_file_ignores})}",
        f"include = {_toml(list(config.include))}",
        f"exclude = {_toml(list(config.exclude)) if config.exclude else '(the defaults)'}",
        f"extend-exclude = {_toml(list(config.extend_exclude))}",
        f"target-transformers = {json.dumps(version)}  # {settings.target_transformers_source}",
    ]
    if settings.target_transformers_range is not None:
        lines.append(f"# {settings.describe_target()}")
    if not settings.project_analysis:
        project = "off"
    else:
        root = api.project_root_of(Path(path))
        project = f"project root: {root}" if root is not None else "no project (no pyproject.toml or .git above the file)"
    lines.append(f"project-analysis = {json.dumps(settings.project_analysis)}  # {project}")
    return "\n".join(lines)


def show(
    paths: list[Path],
    options: api.Options,
    *,
    settings: bool,
    stdin_filename: str | None,
    warn: api.Warn = api.warn_on_stderr,
) -> int:
    """Print the files `paths` give (`--show-files`) or the first one's settings (`--show-settings`)."""
    errors = 0
    try:
        if paths == [Path("-")]:
            name = stdin_filename or "-"
            config = for_directory(Path(name).absolute().parent)
            candidates = [(name, config.for_file(Path(name)) if stdin_filename else config)]
        else:
            candidates = []
            for candidate in discover(paths, warn):
                if candidate.error is not None:
                    echo(f"{candidate.path}: error: {candidate.error}", err=True)
                    errors += 1
                    continue
                candidates.append((str(candidate.path), candidate.config))
                if settings:
                    break
    except ConfigError as exc:
        echo(f"error: {exc}", err=True)
        return EXIT_ERROR
    if settings:
        if candidates:
            echo(describe(candidates[0][0], candidates[0][1], options))
        else:
            folder = Path.cwd()
            echo(describe(str(folder), for_directory(folder), options))
    else:
        for name, _ in candidates:
            echo(name)
    return EXIT_ERROR if errors else EXIT_CLEAN
