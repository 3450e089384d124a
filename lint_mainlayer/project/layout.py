"""Where a project starts, which files are its modules, and what each module is called."""

from __future__ import annotations

from pathlib import Path

# The project's own modules are Python files; stubs and notebooks are not imported.
_SUFFIX = ".py"


def project_root(path: Path) -> Path | None:
    """The nearest folder above `path` holding a `pyproject.toml` or `.git`; None when the
    file belongs to no project."""
    start = path.absolute().parent
    for folder in (start, *start.parents):
        try:
            if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
                return folder
        except OSError:
            continue
    return None


def source_roots(root: Path) -> tuple[Path, ...]:
    """The folders module names are relative to: `root/src` first (a src layout), then `root`."""
    src = root / "src"
    return (src, root) if src.is_dir() else (root,)


def module_name(path: Path, root: Path) -> tuple[str, bool] | None:
    """The dotted module name of `path` and whether it is a package (`__init__.py`); None
    when it is outside the project or not importable by name (a folder with a dash).
    Folders without `__init__.py` count as packages (namespace packages)."""
    absolute = path.absolute()
    for base in source_roots(root):
        try:
            relative = absolute.relative_to(base.absolute())
        except ValueError:
            continue
        parts = list(relative.with_suffix("").parts)
        package = parts[-1] == "__init__"
        if package:
            parts = parts[:-1]
        if not parts or not all(p.isidentifier() for p in parts):
            return None
        return ".".join(parts), package
    return None


def module_names(files: list[str], root: Path) -> dict[str, str]:
    """`module_name` for many files at once (absolute path strings), with string operations
    only: a project of hundreds of modules is named on every run. Name -> file; the first
    file wins when two give one name (`src/` first)."""
    import os

    names: dict[str, str] = {}
    bases = [str(base.absolute()) + os.sep for base in source_roots(root)]
    for file in files:
        for base in bases:
            if not file.startswith(base):
                continue
            parts = file[len(base) : -len(_SUFFIX)].split(os.sep)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts and all(p.isidentifier() for p in parts):
                names.setdefault(".".join(parts), file)
            break
    return names


def module_file(name: str, root: Path) -> Path | None:
    """The file of the project module `name` (`pkg/mod.py` or `pkg/mod/__init__.py`)."""
    parts = name.split(".")
    for base in source_roots(root):
        stem = base.joinpath(*parts)
        for candidate in (stem.with_name(stem.name + _SUFFIX), stem / "__init__.py"):
            try:
                if candidate.is_file():
                    return candidate
            except OSError:
                continue
    return None


def project_files(root: Path) -> list[str]:
    """The project's Python modules, walked as the command line walks a folder (its
    excludes, `.gitignore`, virtual environments and the default excluded folders skipped),
    as absolute path strings."""
    from lint_mainlayer.config import ConfigError
    from lint_mainlayer.files import walk_files

    found: list[str] = []
    try:
        for file in walk_files(root):
            if file.endswith(_SUFFIX):
                found.append(file)
    except ConfigError:
        # A broken config in some folder is the named file's error to report, if it is
        # its own; the project analysis goes on with the modules walked so far.
        pass
    return found
