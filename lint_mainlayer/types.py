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
class CellIndex:
    """Where a notebook's code cells start in the one source the rules read: cell
    `numbers[i]` (1-based among all cells, as ruff counts them) starts at line `starts[i]`."""

    numbers: tuple[int, ...]
    starts: tuple[int, ...]

    def locate(self, line: int) -> tuple[int, int]:
        """(cell number, 1-based line in that cell) of a line of the joined source."""
        import bisect

        at = max(bisect.bisect_right(self.starts, line) - 1, 0)
        return self.numbers[at], line - self.starts[at] + 1


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
    # For a notebook: how the lines of `diagnostics` map to cells (None for other files).
    cells: CellIndex | None = None


@dataclass(frozen=True)
class Settings:
    """What to check: rule selection and the transformers version the code targets."""

    select: frozenset[str] = frozenset({"MLL"})
    ignore: frozenset[str] = frozenset()
    # (major, minor); None means "the newest 4.x".
    target_transformers: tuple[int, int] | None = None
    # Where `target_transformers` came from, as rule messages and --show-settings name it
    # ("--target-transformers", "uv.lock: transformers 4.36.2", "the installed version", ...).
    target_transformers_source: str = "no version found"
    # A version range that allows both sides of a version-dependent rule's boundary (e.g.
    # ">=4.30,<4.40"): the rules say so instead of guessing. None: no such range.
    target_transformers_range: str | None = None
    # Codes ignored for this file by `per-file-ignores` (kept apart from `ignore`, which
    # `--select` replaces, as ruff keeps per-file ignores under `--select`).
    per_file_ignore: frozenset[str] = frozenset()

    def describe_target(self) -> str:
        """The transformers version assumed and where it came from, for messages."""
        if self.target_transformers_range is not None:
            return (
                f"{self.target_transformers_source} allows transformers on both sides of 4.37, "
                f"which no single `build()` serves: pin one side"
            )
        if self.target_transformers is None:
            return f"assuming the newest transformers 4.x ({self.target_transformers_source})"
        major, minor = self.target_transformers
        return f"assuming transformers {major}.{minor} ({self.target_transformers_source})"

    def enabled(self, code: str) -> bool:
        """Whether `code` is selected and not ignored (prefixes allowed, longest wins; `ALL`
        is the shortest prefix of all)."""
        selected = max((_prefix_length(s) for s in self.select if _matches(code, s)), default=-1)
        ignored = max(
            (_prefix_length(s) for s in self.ignore | self.per_file_ignore if _matches(code, s)), default=-1
        )
        return selected >= 0 and selected > ignored


def _matches(code: str, prefix: str) -> bool:
    return prefix == "ALL" or code.startswith(prefix)


def _prefix_length(prefix: str) -> int:
    return 0 if prefix == "ALL" else len(prefix)
