"""Frozen records that cross the layers: rules -> engine -> api -> cli/lsp.

Positions are 1-based lines and 1-based columns counted in code points; `end_column` is
exclusive, as in ruff's JSON output. Converting to other units (LSP's UTF-16) is the
transport's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any, Literal

Applicability = Literal["safe", "unsafe"]


@dataclass(frozen=True)
class ImportChange:
    """`from module import name [as alias]`, or `import module [as alias]` when `name` is None."""

    module: str
    name: str | None = None
    alias: str | None = None


@dataclass(frozen=True)
class Fix:
    """A proposed rewrite of the flagged code: the one record of a fix that `--fix`, JSON
    output, the result cache and the editor all use.

    `replacement` is the new text for the span `[line:column, end_line:end_column)`; an empty
    span inserts. The imports the new text needs, and those it leaves unused, are data:
    `--fix` hands them to libcst's import visitors after splicing the text in.
    """

    applicability: Applicability
    description: str
    replacement: str
    line: int
    column: int
    end_line: int
    end_column: int
    # Why the fix is unsafe (None when it is safe).
    unsafe_reason: str | None = None
    add_imports: tuple[ImportChange, ...] = ()
    remove_imports: tuple[ImportChange, ...] = ()

    def applies(self, unsafe: bool) -> bool:
        """Whether `--fix` applies this fix (with `--unsafe-fixes` when `unsafe`)."""
        return self.applicability == "safe" or unsafe


@dataclass(frozen=True)
class Diagnostic:
    """One finding of one rule."""

    code: str
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    fix: Fix | None = None

    def fixable(self, unsafe: bool) -> bool:
        """Whether `--fix` (with `--unsafe-fixes` when `unsafe`) fixes this finding."""
        return self.fix is not None and self.fix.applies(unsafe)

    @property
    def key(self) -> tuple[str, int, int]:
        """Identifies the finding within one version of a file (for choosing fixes)."""
        return (self.code, self.line, self.column)


@dataclass(frozen=True)
class FileResult:
    """The outcome for one file: its findings, or the error that stopped it.

    After `--fix`, `fixed` counts the findings whose fix was applied and `diagnostics`
    holds what remains in the fixed source.
    """

    path: str
    diagnostics: tuple[Diagnostic, ...] = ()
    error: str | None = None
    fixed: int = 0
    changed: bool = False
    diff: str | None = None
    # The (fixed) source, when the caller asked for it (to show source lines).
    source: str | None = None


@dataclass(frozen=True)
class RuleDoc:
    """What the outputs say about a rule: its code, name, one-line summary, how often it can
    fix, and its documentation (markdown with ruff's headings)."""

    code: str
    name: str
    summary: str
    fixable: Literal["always", "sometimes", "never"]
    doc: str


@dataclass(frozen=True)
class Settings:
    """What to check: rule selection and the transformers version the code targets."""

    select: frozenset[str] = frozenset({"MLL"})
    ignore: frozenset[str] = frozenset()
    # (major, minor); None means "the newest 4.x".
    target_transformers: tuple[int, int] | None = None

    def enabled(self, code: str) -> bool:
        """Whether `code` is selected and not ignored (prefixes allowed, longest wins)."""
        selected = max((len(s) for s in self.select if code.startswith(s)), default=-1)
        ignored = max((len(s) for s in self.ignore if code.startswith(s)), default=-1)
        return selected >= 0 and selected > ignored


def diagnostic_from_dict(raw: Any) -> Diagnostic:
    """The finding that `dataclasses.asdict` turned into `raw` (read back from the cache or
    an editor's diagnostic data); raises KeyError, TypeError or ValueError on anything else.

    Optional fields may be missing, and empty lists may come back as `{}`: an editor whose
    JSON goes through Lua tables (Neovim) drops nulls and cannot tell `[]` from `{}`."""
    raw = _mapping(raw)
    fix = raw.get("fix")
    return Diagnostic(
        code=_str(raw["code"]),
        message=_str(raw["message"]),
        line=_int(raw["line"]),
        column=_int(raw["column"]),
        end_line=_int(raw["end_line"]),
        end_column=_int(raw["end_column"]),
        fix=None if fix is None else _fix(fix),
    )


def _fix(raw: Any) -> Fix:
    raw = _mapping(raw)
    applicability = raw["applicability"]
    if applicability not in ("safe", "unsafe"):
        raise ValueError("unknown applicability")
    return Fix(
        applicability=applicability,
        description=_str(raw["description"]),
        replacement=_str(raw["replacement"]),
        line=_int(raw["line"]),
        column=_int(raw["column"]),
        end_line=_int(raw["end_line"]),
        end_column=_int(raw["end_column"]),
        unsafe_reason=_optional_str(raw.get("unsafe_reason")),
        add_imports=tuple(_import(i) for i in _list(raw.get("add_imports"))),
        remove_imports=tuple(_import(i) for i in _list(raw.get("remove_imports"))),
    )


def _import(raw: Any) -> ImportChange:
    raw = _mapping(raw)
    return ImportChange(_str(raw["module"]), _optional_str(raw.get("name")), _optional_str(raw.get("alias")))


def _mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError("expected an object")
    return value


def _list(value: Any) -> list[Any] | tuple[Any, ...]:
    if value is None or value == {}:
        return []
    if not isinstance(value, (list, tuple)):
        raise TypeError("expected a list")
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("expected an integer")
    return value
