"""Pure functions: source text -> findings, source text -> fixed source. No I/O.

Results, not exceptions, cross this boundary: `analyse` and `fix_source` return what they
found or why they could not (source Python cannot parse, a file too large or too nested),
as libcst's codemods return a `TransformResult`.

The analysis runs on Python's `ast`: the prefilter's one parse of the source is the tree the
rules read. libcst is imported only to apply fixes (`rewrite.py`), never to lint.

The engine owns the decision to skip a source (`prefilter`): the api only runs its text
stage early, to avoid hashing and parsing files that cannot hold a finding.
"""

from __future__ import annotations

import ast
from collections.abc import Collection

from lint_mainlayer import prefilter
from lint_mainlayer.noqa import silenced
from lint_mainlayer.positions import locate
from lint_mainlayer.records import record
from lint_mainlayer.render import plan_nodes, render
from lint_mainlayer.rules import ALL_RULES
from lint_mainlayer.rules.base import Context, Finding
from lint_mainlayer.rules.facts import ModuleFacts, collect
from lint_mainlayer.rules.tree import Line, SourceText
from lint_mainlayer.types import Diagnostic, ProjectView, Settings

# One fix can make another safe (a renamed layer), so fixing repeats, as in ruff.
MAX_FIX_PASSES = 10
Key = tuple[str, int, int]


@record(frozen=True)
class Analysis:
    """The findings in one source, sorted by position with `# noqa` applied; or the
    one-line reason it could not be analysed. `module` is Python's parse, when the rules ran."""

    diagnostics: tuple[Diagnostic, ...] = ()
    error: str | None = None
    module: ast.Module | None = None


@record(frozen=True)
class FixResult:
    """The fixed source, the code of each finding its fixes fixed, and the findings left in
    it; or the reason nothing was fixed. `internal` marks a bug of lint-mainlayer (a fix that does
    not parse: never written), as opposed to a source that cannot be analysed."""

    source: str
    applied: tuple[str, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    error: str | None = None
    internal: bool = False


def analyse(
    source: str,
    settings: Settings | None = None,
    *,
    screen: bool = True,
    module: ast.Module | None = None,
    project: ProjectView | None = None,
) -> Analysis:
    """The findings in `source`. With `screen`, a source the prefilter rules out is not
    parsed at all; without it (a source a fix just produced) it is always parsed, unless
    `module`, a parse of exactly `source`, is given. `project`: what the project's other
    modules say about this one (`project.index`), when it belongs to one."""
    settings = settings or Settings()
    # `# lint-mainlayer: noqa[: CODES]` is the rules' own semantics, not only a shortcut.
    exempt = prefilter.file_noqa(source) or frozenset()
    if exempt == prefilter.ALL_CODES:
        return Analysis()
    if screen and not prefilter.needs_rules(source):
        return Analysis()
    if module is None:
        parsed = parse(source)
        if isinstance(parsed, str):
            return Analysis(error=parsed)
        module = parsed
    try:
        facts = collect(module, source)
        findings: list[Finding] = []
        if facts.sites or facts.model_calls:
            ctx = Context(facts, settings, project)
            findings = [
                f
                for rule in ALL_RULES
                if settings.enabled(rule.code) and rule.code not in exempt
                for f in rule().check(ctx)
            ]
        diagnostics = _diagnostics(source, facts, findings)
    except RecursionError:
        return Analysis(error="too deeply nested to analyse")
    return Analysis(diagnostics, module=module)


def lint_source(source: str, settings: Settings | None = None) -> list[Diagnostic]:
    """The findings in `source` (for tests and scripts: raises ValueError when the source
    cannot be analysed; the api uses `analyse`)."""
    analysis = analyse(source, settings)
    if analysis.error is not None:
        raise ValueError(analysis.error)
    return list(analysis.diagnostics)


def parse(source: str) -> ast.Module | str:
    """Python's parse of `source` (the prefilter's, made once), or a one-line reason it
    cannot be parsed."""
    reason = prefilter.too_large(source)
    if reason is not None:
        return reason
    facts = prefilter.python_facts(source)
    if facts.too_nested:
        return "too deeply nested to parse"
    if facts.tree is None:
        return facts.syntax_error or f"cannot parse: {facts.parse_error or 'invalid source'}"
    return facts.tree


def _diagnostics(source: str, facts: ModuleFacts, findings: list[Finding]) -> tuple[Diagnostic, ...]:
    if not findings:
        return ()
    text: SourceText = facts.source
    # Positions only for files with findings, and only for the nodes that need them.
    wanted: list[ast.AST | Line] = [finding.node for finding in findings]
    wanted += [node for f in findings if f.plan is not None for node in plan_nodes(f.plan)]
    ranges = locate(text, wanted)
    spans = [ranges[finding.node] for finding in findings]
    quiet = silenced(source, [(f.code, s.start.line, s.end.line) for f, s in zip(findings, spans)])
    out = []
    for index, (finding, span) in enumerate(zip(findings, spans)):
        if index in quiet:
            continue
        fix = render(finding.plan, text, ranges, facts.default_indent) if finding.plan is not None else None
        # Columns are 0-based code points; ours are 1-based.
        start, end = span.start, span.end
        out.append(Diagnostic(finding.code, finding.message, start.line, start.column + 1, end.line, end.column + 1, fix))
    out.sort(key=lambda d: (d.line, d.column, d.code))
    return tuple(out)


def fix_source(
    source: str,
    settings: Settings | None = None,
    *,
    unsafe: bool = False,
    only: Collection[Key] | None = None,
    project: ProjectView | None = None,
) -> FixResult:
    """Apply the fixes of the findings in `source` (safe ones, and unsafe ones if asked;
    with `only`, just the findings with those `Diagnostic.key`s), each pass re-analysing
    the new source, whose parse is also the proof that the fix produced valid Python.

    Without `only`, passes repeat until no fix applies (one fix can make another safe, and
    overlapping fixes wait for the next pass), at most `MAX_FIX_PASSES` times, as ruff does."""
    # Imported here: libcst.codemod costs a lint run ~0.1 s, and only fixing needs it.
    from lint_mainlayer.rewrite import apply_fixes

    settings = settings or Settings()
    analysis = analyse(source, settings, project=project)
    if analysis.error is not None:
        return FixResult(source, error=analysis.error)
    current = source
    applied: tuple[str, ...] = ()
    for _ in range(1 if only is not None else MAX_FIX_PASSES):
        chosen = [
            d
            for d in analysis.diagnostics
            if d.fix is not None and d.fix.applies(unsafe) and (only is None or d.key in only)
        ]
        if not chosen:
            break
        rewritten = apply_fixes(current, [d.fix for d in chosen if d.fix is not None])
        after = None
        if rewritten.error is None:
            after = analyse(rewritten.source, settings, screen=False, project=project)
        if after is None or after.error is not None:
            reason = rewritten.error or f"the fixed source does not parse ({after.error if after else ''})"
            return FixResult(source, diagnostics=analysis.diagnostics, error=f"{reason}; nothing was written", internal=True)
        current, analysis = rewritten.source, after
        applied += tuple(d.code for d in chosen if d.fix in rewritten.applied)
    return FixResult(current, applied, analysis.diagnostics)
