"""Frozen records that cross the layers: rules -> engine -> api -> cli/lsp.

Positions are 1-based lines and 1-based columns counted in code points; `end_column` is
exclusive, as in ruff's JSON output. Converting to other units (LSP's UTF-16) is the
transport's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Applicability = Literal["safe", "unsafe"]


@dataclass(frozen=True)
class Fix:
    """A proposed rewrite of the flagged code.

    `replacement` is the new text for the span `[line:column, end_line:end_column)`. Import
    changes that go with it are made by `engine.fix_source`, which applies fixes as a whole.
    """

    applicability: Applicability
    description: str
    replacement: str
    line: int
    column: int
    end_line: int
    end_column: int


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
