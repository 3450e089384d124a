"""Frozen records that cross the layers: rules -> engine -> api -> cli/lsp.

Positions are 1-based lines and 1-based columns counted in code points; `end_column` is
exclusive, as in ruff's JSON output. Converting to other units (LSP's UTF-16) is the
transport's job.
"""

from __future__ import annotations

import re
from dataclasses import field
from collections.abc import Mapping
from typing import Any, Literal

from lint_mainlayer.records import record

Applicability = Literal["safe", "unsafe"]

# Python, libcst and LSP all end lines at \r\n, \r or \n (`str.splitlines` also splits at
# \f, \x1c, ...): every split of a source into lines, in the analysis, noqa, fixes and the
# editor, uses this one. (Here, below every layer: `noqa` and the api, which a run imports
# before it knows whether any file needs the rules, must not import the rules package.)
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The lines of `text` without their terminators, split where Python splits them."""
    return LINE_BREAK.split(text)


@record(frozen=True)
class ImportChange:
    """`from module import name [as alias]`, or `import module [as alias]` when `name` is None."""

    module: str
    name: str | None = None
    alias: str | None = None


@record(frozen=True)
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


@record(frozen=True)
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


@record(frozen=True)
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


@record(frozen=True)
class FileResult:
    """The outcome for one file: its findings, or the error that stopped it.

    After `--fix`, `fixed_codes` holds the code of each finding whose fix was applied
    (`fixed` counts them) and `diagnostics` what remains in the fixed source.
    """

    path: str
    diagnostics: tuple[Diagnostic, ...] = ()
    error: str | None = None
    fixed_codes: tuple[str, ...] = ()
    changed: bool = False
    diff: str | None = None
    # The (fixed) source, when the caller asked for it (to show source lines).
    source: str | None = None
    # For a notebook: how the lines of `diagnostics` map to cells (None for other files).
    cells: CellIndex | None = None
    # A module that was not named, reported because a named module's call decides one of its
    # findings (the project analysis): never fixed, never edited (`--add-noqa`).
    context: bool = False

    @property
    def fixed(self) -> int:
        """How many findings `--fix` fixed."""
        return len(self.fixed_codes)


@record(frozen=True)
class RuleDoc:
    """What the outputs say about a rule: its code, name, one-line summary, how often it can
    fix, and its documentation (markdown with ruff's headings)."""

    code: str
    name: str
    summary: str
    fixable: Literal["always", "sometimes", "never"]
    doc: str
    # Where the documentation is published.
    url: str


@record(frozen=True)
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
    # Follow configs and loads into the project's other modules (`project/`); off with
    # `project-analysis = false` or `--no-project`.
    project_analysis: bool = True

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


def _matches(code: str, prefix: str) -> bool:
    return prefix == "ALL" or code.startswith(prefix)


def _prefix_length(prefix: str) -> int:
    return 0 if prefix == "ALL" else len(prefix)


# -- the project analysis (`project/`): what other modules say about one module ------------


@record(frozen=True)
class ArgOrigin:
    """Where a config passed at a call site comes from, as the caller's module shows it
    (`rules.origin`'s kinds); `checkpoint` is the checkpoint expression's source text."""

    kind: str
    why: str
    checkpoint: str | None = None
    # An unknown config that is a parameter of the caller's own function or class (`name`,
    # `position`, `param`: as other modules call it) that no caller in its module passes:
    # `project.index` resolves it through that callable's callers in the project.
    parameter: tuple[str, int, str] | None = None


@record(frozen=True)
class Caller:
    """A call, in another module of the project, of one of this module's callables."""

    path: str
    line: int
    # What it passes, by position and by keyword (origins of every argument).
    positional: tuple[ArgOrigin, ...] = ()
    keywords: tuple[tuple[str, ArgOrigin], ...] = ()
    # It passes `*args`/`**kwargs`: any parameter may come from them.
    star: bool = False
    # A load of pretrained weights reaches what the call returns (in the caller's module,
    # its own loader helpers, or those it imports from the project).
    loaded: bool = False
    # When the load fills a main layer the callable built (`Loader.when`): empty, always.
    when: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        """`path:line`, as messages show a caller."""
        return f"{self.path}:{self.line}"

    def argument(self, position: int, name: str) -> ArgOrigin | None:
        """What the call passes for the parameter `name` at `position` (None: nothing
        visible, or a `*`/`**` argument that may hold it)."""
        for keyword, origin in self.keywords:
            if keyword == name:
                return origin
        if 0 <= position < len(self.positional):
            return self.positional[position]
        return None


@record(frozen=True)
class Loader:
    """A callable of the project that loads weights into one of its parameters: which ones
    (positions and names), and when the load fills a main layer inside what is passed.
    `when` holds alternatives, any one sufficing; empty: always. `by_name`: an h5 read by
    layer name (`load_weights(path, by_name=True)`), which fills a main layer only when its
    `name=` is the checkpoint's prefix; `attr:a.b`: a load into (or a replacement of) the
    attribute `a.b` of the parameter, which fills a main layer held there or below."""

    params: frozenset[int | str]
    when: frozenset[str] = frozenset()


@record(frozen=True)
class Factory:
    """A function of the project that returns a config: the origin of what it returns, and
    when its checkpoint is one of its parameters, that parameter's position and name (the
    caller's argument for it is then the checkpoint)."""

    origin: ArgOrigin
    param: tuple[int, str] | None = None


@record(frozen=True)
class ProjectView:
    """One module's place in its project: who calls its callables from other modules, and
    which of the callables it imports from the project load weights into a parameter."""

    module: str
    # callable of this module (a function's name, a class's name) -> its callers elsewhere.
    callers: dict[str, tuple[Caller, ...]] = field(default_factory=dict)
    # local dotted name of an imported project callable (`load_pretrained`, `L.load`) ->
    # the parameters it loads weights into, and when.
    loaders: dict[str, Loader] = field(default_factory=dict)
    # local dotted name of an imported project function that returns a config (`small_config`,
    # `C.read_config`) -> what it returns.
    factories: dict[str, Factory] = field(default_factory=dict)
    # A digest of everything above: part of the result cache's key.
    digest: str = ""
