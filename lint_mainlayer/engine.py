"""Pure functions: source text -> diagnostics, source text -> fixed source. No I/O.

Both raise `SourceError` (one-line message) for source that libcst cannot parse; the api
layer turns that into a per-file error.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from dataclasses import dataclass
from typing import Callable, Collection, Mapping, TypeVar, cast

import libcst as cst
from libcst.metadata import CodeRange

from lint_mainlayer.positions import locate
from lint_mainlayer import prefilter
from lint_mainlayer.prefilter import too_large
from lint_mainlayer.rules import ALL_RULES
from lint_mainlayer.rules.base import Context, Finding
from lint_mainlayer.rules.facts import ModuleFacts, collect
from lint_mainlayer.rules.fixes import FixPlan, code, with_method
from lint_mainlayer.types import Diagnostic, Fix, Settings

# Suppression comments, bare or with codes (the language server writes this syntax too).
NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)
T = TypeVar("T")
# One fix can make another safe (a renamed layer), so fixing repeats, as in ruff.
MAX_FIX_PASSES = 10


class SourceError(Exception):
    """The source cannot be analysed; the message is one line."""


class FixBug(Exception):
    """A fix produced source that does not parse: a bug in lint-mainlayer, never written."""


@dataclass(frozen=True)
class FixOutcome:
    source: str
    applied: int
    diagnostics: tuple[Diagnostic, ...]


# libcst's native parser recurses on the C stack: nesting that CPython itself refuses, or a
# long flat chain (`a and a and ...`), overflows the main thread's 8 MB and kills the process.
# A thread's stack is only reserved address space until used.
_PARSE_STACK_BYTES = 1 << 30


def _parse(source: str) -> cst.Module:
    reason = too_large(source)
    if reason is not None:
        raise SourceError(reason)
    if _too_nested_for_python(source):
        raise SourceError("too deeply nested to parse")
    try:
        return _on_a_big_stack(cst.parse_module, source)
    except cst.ParserSyntaxError as exc:
        raise SourceError(_syntax_error(source) or f"cannot parse: {exc.message}") from None
    except RecursionError:
        raise SourceError("too deeply nested to parse") from None
    except Exception as exc:  # libcst raises a few non-syntax errors on odd input
        raise SourceError(f"cannot parse: {exc}".splitlines()[0]) from None


def _on_a_big_stack(function: Callable[[str], T], argument: str) -> T:
    import threading

    result: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(function(argument))
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    try:
        previous = threading.stack_size(_PARSE_STACK_BYTES)
    except (ValueError, RuntimeError):
        return function(argument)
    try:
        thread = threading.Thread(target=run, name="lint-mainlayer-parse")
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    if error:
        raise error[0]
    return result[0]


def _too_nested_for_python(source: str) -> bool:
    # What CPython refuses for its own parser's sake is what can overflow libcst's.
    try:
        _compile_quietly(source)
    except SyntaxError as exc:
        return exc.msg in ("too many nested parentheses", "too complex", "too many statically nested blocks")
    except (RecursionError, MemoryError):
        return True
    except ValueError:
        return False
    return False


def _compile_quietly(source: str) -> None:
    # SyntaxWarnings are about the user's file, not ours to print.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(source, "<source>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)


def _syntax_error(source: str) -> str | None:
    # Python's own message and position read better than libcst's parser trace.
    try:
        _compile_quietly(source)
    except SyntaxError as exc:
        return f"syntax error at {exc.lineno}:{exc.offset}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


def _analyse(source: str, settings: Settings) -> tuple[cst.Module, ModuleFacts, list[Finding]] | None:
    # `# lint-mainlayer: noqa[: CODES]` is the rules' own semantics: honoured here, not only
    # by the cheap stages, which may skip only what the rules would not flag.
    exempt = prefilter.file_noqa(source) or frozenset()
    if exempt == prefilter.ALL_CODES:
        return None
    # The cheap stages (text, imports, Python's ast) never drop a source the rules would flag.
    if not prefilter.needs_rules(source):
        return None
    module = _parse(source)
    try:
        facts = collect(module)
        if not facts.sites:
            return module, facts, []
        ctx = Context(facts, settings)
        findings = [
            finding
            for rule in ALL_RULES
            if settings.enabled(rule.code) and rule.code not in exempt
            for finding in rule().check(ctx)
        ]
    except RecursionError:
        raise SourceError("too deeply nested to analyse") from None
    return module, facts, findings


def _suppressed(source: str, findings: list[Finding], positions: dict[int, tuple[int, int, int, int]]) -> set[int]:
    """ids of findings silenced by `# noqa` / `# noqa: CODE` on a line they span."""
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string
    except (tokenize.TokenError, SyntaxError):
        pass
    silenced = set()
    for finding in findings:
        line, _, end_line, _ = positions[id(finding)]
        for number in range(line, end_line + 1):
            match = NOQA.search(comments.get(number, ""))
            if match is None:
                continue
            codes = match.group("codes")
            if codes is None or finding.code in re.split(r"[\s,]+", codes.upper()):
                silenced.add(id(finding))
                break
    return silenced


def _diagnostics(
    source: str, module: cst.Module, findings: list[Finding]
) -> list[tuple[Diagnostic, Finding]]:
    if not findings:
        return []
    # Positions only for files with findings, and only for the statements that hold them.
    wanted = []
    for finding in findings:
        wanted.append((finding.node, finding.top))
        plan = finding.plan
        if plan is not None:
            wanted += [(n, finding.top) for n in (plan.call, plan.statement, plan.klass) if n is not None]
    ranges = locate(module, source, wanted)
    positions = {}
    for finding in findings:
        span = ranges[finding.node]
        # libcst columns are 0-based code points; ours are 1-based.
        positions[id(finding)] = (span.start.line, span.start.column + 1, span.end.line, span.end.column + 1)
    silenced = _suppressed(source, findings, positions)
    out = []
    for finding in findings:
        if id(finding) in silenced:
            continue
        line, column, end_line, end_column = positions[id(finding)]
        fix = _fix_record(finding.plan, module, ranges) if finding.plan else None
        out.append((Diagnostic(finding.code, finding.message, line, column, end_line, end_column, fix), finding))
    out.sort(key=lambda pair: (pair[0].line, pair[0].column, pair[0].code))
    return out


def _fix_record(plan: FixPlan, module: cst.Module, ranges: Mapping[cst.CSTNode, CodeRange]) -> Fix:
    if plan.klass is not None and plan.method is not None:
        span = ranges[plan.klass]
        replacement = code(with_method(plan.klass, plan.method))
    elif plan.statement is not None:
        span = ranges[plan.statement]
        indent = " " * span.start.column
        # The span ends before the line's comment, so the text must too.
        bare: cst.CSTNode = plan.statement.with_changes(
            leading_lines=(), trailing_whitespace=cst.TrailingWhitespace()
        )
        if plan.call is not None and plan.new_expr is not None:
            bare = _replace_call(bare, plan.call, plan.new_expr)
        line = code(bare).strip("\r\n")
        extra = [code(s).strip("\r\n") for s in plan.after]
        replacement = (module.default_newline + indent).join([line.lstrip(), *extra])
    else:
        assert plan.call is not None and plan.new_expr is not None
        span = ranges[plan.call]
        replacement = code(plan.new_expr)
    description = plan.description + (f" (unsafe: {plan.note})" if plan.note else "")
    return Fix(
        applicability="safe" if plan.applicability == "safe" else "unsafe",
        description=description,
        replacement=replacement.strip("\r\n") if plan.klass is not None else replacement,
        line=span.start.line,
        column=span.start.column + 1,
        end_line=span.end.line,
        end_column=span.end.column + 1,
    )


def lint_source(source: str, settings: Settings | None = None) -> list[Diagnostic]:
    """Findings in `source`, sorted by position, `# noqa` applied."""
    analysed = _analyse(source, settings or Settings())
    if analysed is None:
        return []
    module, _, findings = analysed
    return [d for d, _ in _diagnostics(source, module, findings)]


def fix_source(
    source: str,
    settings: Settings | None = None,
    *,
    unsafe: bool = False,
    only: Collection[tuple[str, int, int]] | None = None,
) -> FixOutcome:
    """Apply the fixes of the findings in `source` (safe ones, and unsafe ones if asked;
    with `only`, just the findings with those `Diagnostic.key`s). Returns the new source,
    how many fixes were applied, and the findings left in the new source.

    Without `only`, fixes are applied until none applies (one fix can make another safe),
    at most `MAX_FIX_PASSES` times, as ruff does."""
    settings = settings or Settings()
    current, applied, remaining = source, 0, None
    for _ in range(1 if only is not None else MAX_FIX_PASSES):
        outcome = _fix_once(current, settings, unsafe=unsafe, only=only)
        remaining = outcome.diagnostics
        if not outcome.applied:
            break
        current, applied = outcome.source, applied + outcome.applied
        if not any(d.fix is not None and (unsafe or d.fix.applicability == "safe") for d in remaining):
            break
    return FixOutcome(current, applied, remaining or ())



def _fix_once(
    source: str, settings: Settings, *, unsafe: bool, only: Collection[tuple[str, int, int]] | None
) -> FixOutcome:
    analysed = _analyse(source, settings)
    if analysed is None:
        return FixOutcome(source, 0, ())
    module, facts, findings = analysed
    pairs = _diagnostics(source, module, findings)
    chosen = [
        finding.plan
        for diagnostic, finding in pairs
        if finding.plan is not None
        and (unsafe or finding.plan.applicability == "safe")
        and (only is None or diagnostic.key in only)
    ]
    if not chosen:
        return FixOutcome(source, 0, tuple(d for d, _ in pairs))
    new_source = _apply(module, chosen)
    try:
        # Parsed explicitly: lint_source's fast path would skip text without "MainLayer".
        _parse(new_source)
        remaining = lint_source(new_source, settings)
    except SourceError as exc:
        raise FixBug(f"the fixed source does not parse ({exc}); nothing was written") from None
    return FixOutcome(new_source, len(chosen), tuple(remaining))


def _replace_call(node: cst.CSTNode, call: cst.Call, new: cst.BaseExpression) -> cst.CSTNode:
    class _One(cst.CSTTransformer):
        def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
            return new if original_node is call else updated_node

    return cast(cst.CSTNode, node.visit(_One()))


def _apply(module: cst.Module, plans: list[FixPlan]) -> str:
    # libcst.codemod is imported only when something is fixed: it costs a lint run ~0.1 s.
    from lint_mainlayer.rewrite import apply_plans

    return apply_plans(module, plans)
