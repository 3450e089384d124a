"""Does the code mark a construction as the deliberate no-pretraining path?

A construction is deliberate when the innermost branch around it that says anything about
pretraining is the no-pretraining side:
- the body of `if <flag>:` whose name says scratch or random (`from_scratch`,
  `random_init`, `args.scratch`), or says pretrained negated (`no_pretrained`,
  `not use_pretrained`, `without_pretraining`);
- the `else` of `if <flag>:` whose name says pretrained (`use_pretrained`, `pretrained`,
  `load_pretrained`), including the code after an `if pretrained: return ...` (a factory
  whose other branch loads: `def encoder(pretrained=False)`);
- a comparison with a string that says so (`init == "random"`, `init != "pretrained"`,
  `mode in ("scratch", "random")`), or `<checkpoint> is None` (`args.init_checkpoint`,
  `pretrained_path`, `weights`);
- the same shapes in a conditional expression (`TFBertMainLayer(c) if scratch else ...`).
Words are matched whole, in snake-case or camel-case names. Anything else (a flag only used
to choose the config, a comment) is not a signal: a flag the construction ignores does not
make it deliberate.
"""

from __future__ import annotations

import ast
import re

from lint_mainlayer.records import record
from lint_mainlayer.rules.calls import string_value
from lint_mainlayer.rules.facts import Construction
from lint_mainlayer.rules.scope import Unit, dotted
from lint_mainlayer.rules.tree import SourceText, call_args, children, inline_body

_SCRATCH = frozenset({"scratch", "random", "randomly", "randomize", "randomized", "untrained"})
_PRETRAINED = frozenset({"pretrained", "pretrain", "pretraining", "finetune", "finetuning"})
_CHECKPOINT = frozenset({"checkpoint", "ckpt", "weights", "pretrained", "init"})
_NEGATIONS = frozenset({"no", "not", "without", "skip", "disable", "dont"})


@record(frozen=True)
class Intent:
    """What the branch around a construction says: `deliberate` when it is the
    no-pretraining path, False when it is the pretrained one."""

    deliberate: bool
    why: str


# A branch: its test, and whether the statement runs when the test is true.
_Branch = tuple[ast.expr, bool]


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^a-zA-Z0-9]+", spaced.lower()) if w]


def _says(words: list[str]) -> bool | None:
    """True: "scratch", False: "pretrained", None: nothing, for a flag made of `words`."""
    joined = "".join(words)
    negated = any(w in _NEGATIONS for w in words)
    if any(w in _SCRATCH for w in words):
        return not negated
    if any(w in _PRETRAINED for w in words) or "pretrained" in joined or "pretrain" in joined:
        return negated
    return None


def _test_says(test: ast.expr) -> bool | None:
    """Whether `test` being true means no pretraining (True), pretraining (False), or None."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _test_says(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        # libcst nests `a and b and c` as `(a and b) and c`.
        left: bool | None = _test_says(test.values[0])
        for value in test.values[1:]:
            right = _test_says(value)
            # Both must hold for the body to run: one scratch operand makes the body scratch.
            left = True if True in (left, right) else None
        return left
    if isinstance(test, ast.Compare) and len(test.comparators) == 1:
        operator = test.ops[0]
        compared = test.comparators[0]
        if isinstance(compared, ast.Constant) and compared.value is None:
            name = dotted(test.left)
            if name is None or not any(w in _CHECKPOINT for w in _words(name.rpartition(".")[2])):
                return None
            if isinstance(operator, ast.Is):
                return True
            if isinstance(operator, ast.IsNot):
                return False
            return None
        values: list[str] = []
        if isinstance(compared, (ast.Tuple, ast.List, ast.Set)):
            values = [v for e in compared.elts if (v := string_value(e)) is not None]
        else:
            text = string_value(compared)
            values = [text] if text is not None else []
        said = {_says(_words(v)) for v in values} - {None}
        if len(said) != 1:
            return None
        says = said.pop()
        if isinstance(operator, (ast.Eq, ast.In)):
            return says
        if isinstance(operator, (ast.NotEq, ast.NotIn)):
            return None if says is None else not says
        return None
    if isinstance(test, (ast.Name, ast.Attribute)):
        name = dotted(test)
        return _says(_words(name.rpartition(".")[2])) if name is not None else None
    if isinstance(test, ast.Call) and dotted(test.func) == "getattr" and len(call_args(test)) >= 2:
        literal = string_value(call_args(test)[1].value)
        return _says(_words(literal)) if literal is not None else None
    return None


def _ends_flow(block: list[ast.stmt]) -> bool:
    return bool(block) and isinstance(block[-1], (ast.Return, ast.Raise, ast.Continue, ast.Break))


class Intents:
    """The branches around each statement of a unit, computed once per unit."""

    def __init__(self, source: SourceText | None = None) -> None:
        self._maps: dict[int, dict[int, tuple[_Branch, ...]]] = {}
        self._source = source

    def _statements(self, body: list[ast.stmt]) -> list[ast.stmt]:
        # A block on its header's line (`if x: y()`) holds no statement lines.
        if self._source is not None and inline_body(body, self._source):
            return []
        return body

    def _map(self, unit: Unit) -> dict[int, tuple[_Branch, ...]]:
        key = id(unit)
        if key not in self._maps:
            found: dict[int, tuple[_Branch, ...]] = {}
            node = unit.node
            if isinstance(node, ast.Module):
                self._block(list(node.body), (), found)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self._block(self._statements(node.body), (), found)
            self._maps[key] = found
        return self._maps[key]

    def _block(self, statements: list[ast.stmt], branches: tuple[_Branch, ...], found: dict[int, tuple[_Branch, ...]]) -> None:
        for statement in statements:
            found[id(statement)] = branches
            if isinstance(statement, ast.If):
                self._if(statement, branches, found)
                if not statement.orelse and _ends_flow(statement.body):
                    # What follows `if test: return` runs only when the test is false.
                    branches = (*branches, (statement.test, False))
            elif isinstance(statement, (ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith)):
                self._block(self._statements(statement.body), branches, found)
                orelse = getattr(statement, "orelse", None)
                if orelse:
                    self._block(self._statements(orelse), branches, found)
            elif isinstance(statement, ast.Try):
                for suite in (statement.body, *(h.body for h in statement.handlers)):
                    self._block(self._statements(suite), branches, found)
                for extra in (statement.orelse, statement.finalbody):
                    if extra:
                        self._block(self._statements(extra), branches, found)

    def _if(self, node: ast.If, branches: tuple[_Branch, ...], found: dict[int, tuple[_Branch, ...]]) -> None:
        self._block(self._statements(node.body), (*branches, (node.test, True)), found)
        negated = (*branches, (node.test, False))
        if _is_elif(node, self._source):
            elif_ = node.orelse[0]
            assert isinstance(elif_, ast.If)
            found[id(elif_)] = negated
            self._if(elif_, negated, found)
        elif node.orelse:
            self._block(self._statements(node.orelse), negated, found)

    def intent(self, construction: Construction) -> Intent | None:
        """What the innermost branch that signals anything says about the construction."""
        branches: list[_Branch] = []
        statement = construction.statement
        if statement is not None:
            branches += self._map(construction.unit).get(id(statement.body[0]), ())
            for small in statement.body:
                branches += _conditional_branches(small, construction.call)
        for test, taken in reversed(branches):
            says = _test_says(test)
            if says is None:
                continue
            code = construction.unit.code(test)
            side = "body" if taken else "else branch"
            return Intent(says == taken, f"the {side} of `{code}`")
        return None


def _is_elif(node: ast.If, source: SourceText | None) -> bool:
    """Whether the `orelse` of `node` is an `elif` (not an `else:` holding an `if`)."""
    if len(node.orelse) != 1 or not isinstance(node.orelse[0], ast.If):
        return False
    inner = node.orelse[0]
    if source is None:
        return True
    line = source.lines[inner.lineno - 1]
    return line[source.column(inner.lineno, inner.col_offset) :].startswith("elif")


def _conditional_branches(statement: ast.AST, call: ast.Call) -> list[_Branch]:
    """The `a if test else b` expressions around `call` in `statement`, outermost first."""
    out: list[_Branch] = []

    def visit(node: ast.AST) -> bool:
        if node is call:
            return True
        if isinstance(node, ast.IfExp):
            if visit(node.body):
                out.insert(0, (node.test, True))
                return True
            if visit(node.orelse):
                out.insert(0, (node.test, False))
                return True
            return False
        return any(visit(child) for child in children(node))

    visit(statement)
    return out
