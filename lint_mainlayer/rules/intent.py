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

import re
from dataclasses import dataclass

import libcst as cst

from lint_mainlayer.rules.calls import string_value
from lint_mainlayer.rules.facts import Construction
from lint_mainlayer.rules.scope import Unit, dotted

_SCRATCH = frozenset({"scratch", "random", "randomly", "randomize", "randomized", "untrained"})
_PRETRAINED = frozenset({"pretrained", "pretrain", "pretraining", "finetune", "finetuning"})
_CHECKPOINT = frozenset({"checkpoint", "ckpt", "weights", "pretrained", "init"})
_NEGATIONS = frozenset({"no", "not", "without", "skip", "disable", "dont"})


@dataclass(frozen=True)
class Intent:
    """What the branch around a construction says: `deliberate` when it is the
    no-pretraining path, False when it is the pretrained one."""

    deliberate: bool
    why: str


# A branch: its test, and whether the statement runs when the test is true.
_Branch = tuple[cst.BaseExpression, bool]


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


def _test_says(test: cst.BaseExpression) -> bool | None:
    """Whether `test` being true means no pretraining (True), pretraining (False), or None."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = _test_says(test.expression)
        return None if inner is None else not inner
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        left, right = _test_says(test.left), _test_says(test.right)
        # Both must hold for the body to run: one scratch operand makes the body scratch.
        return True if True in (left, right) else None
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        operator = target.operator
        if isinstance(target.comparator, cst.Name) and target.comparator.value == "None":
            name = dotted(test.left)
            if name is None or not any(w in _CHECKPOINT for w in _words(name.rpartition(".")[2])):
                return None
            if isinstance(operator, cst.Is):
                return True
            if isinstance(operator, cst.IsNot):
                return False
            return None
        values: list[str] = []
        comparator = target.comparator
        if isinstance(comparator, (cst.Tuple, cst.List, cst.Set)):
            values = [v for e in comparator.elements if (v := string_value(e.value)) is not None]
        else:
            value = string_value(comparator)
            values = [value] if value is not None else []
        said = {_says(_words(v)) for v in values} - {None}
        if len(said) != 1:
            return None
        says = said.pop()
        if isinstance(operator, (cst.Equal, cst.In)):
            return says
        if isinstance(operator, (cst.NotEqual, cst.NotIn)):
            return None if says is None else not says
        return None
    if isinstance(test, (cst.Name, cst.Attribute)):
        name = dotted(test)
        return _says(_words(name.rpartition(".")[2])) if name is not None else None
    if isinstance(test, cst.Call) and dotted(test.func) == "getattr" and len(test.args) >= 2:
        value = string_value(test.args[1].value)
        return _says(_words(value)) if value is not None else None
    return None


def _ends_flow(block: cst.BaseSuite) -> bool:
    body = block.body if isinstance(block, cst.IndentedBlock) else ()
    if not body:
        if isinstance(block, cst.SimpleStatementSuite) and block.body:
            return isinstance(block.body[-1], (cst.Return, cst.Raise, cst.Continue, cst.Break))
        return False
    last = body[-1]
    return isinstance(last, cst.SimpleStatementLine) and bool(last.body) and isinstance(
        last.body[-1], (cst.Return, cst.Raise, cst.Continue, cst.Break)
    )


def _statements(suite: cst.BaseSuite) -> list[cst.CSTNode]:
    if isinstance(suite, cst.IndentedBlock):
        return list(suite.body)
    return []


class Intents:
    """The branches around each statement of a unit, computed once per unit."""

    def __init__(self) -> None:
        self._maps: dict[int, dict[int, tuple[_Branch, ...]]] = {}

    def _map(self, unit: Unit) -> dict[int, tuple[_Branch, ...]]:
        key = id(unit)
        if key not in self._maps:
            found: dict[int, tuple[_Branch, ...]] = {}
            node = unit.node
            if isinstance(node, cst.Module):
                self._block(list(node.body), (), found)
            elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
                self._block(_statements(node.body), (), found)
            self._maps[key] = found
        return self._maps[key]

    def _block(self, statements: list[cst.CSTNode], branches: tuple[_Branch, ...], found: dict[int, tuple[_Branch, ...]]) -> None:
        for statement in statements:
            found[id(statement)] = branches
            if isinstance(statement, cst.If):
                self._if(statement, branches, found)
                if statement.orelse is None and _ends_flow(statement.body):
                    # What follows `if test: return` runs only when the test is false.
                    branches = (*branches, (statement.test, False))
            elif isinstance(statement, (cst.For, cst.While, cst.With)):
                self._block(_statements(statement.body), branches, found)
                orelse = getattr(statement, "orelse", None)
                if orelse is not None:
                    self._block(_statements(orelse.body), branches, found)
            elif isinstance(statement, cst.Try):
                for suite in (statement.body, *(h.body for h in statement.handlers)):
                    self._block(_statements(suite), branches, found)
                for extra in (statement.orelse, statement.finalbody):
                    if extra is not None:
                        self._block(_statements(extra.body), branches, found)

    def _if(self, node: cst.If, branches: tuple[_Branch, ...], found: dict[int, tuple[_Branch, ...]]) -> None:
        self._block(_statements(node.body), (*branches, (node.test, True)), found)
        negated = (*branches, (node.test, False))
        if isinstance(node.orelse, cst.If):
            found[id(node.orelse)] = negated
            self._if(node.orelse, negated, found)
        elif isinstance(node.orelse, cst.Else):
            self._block(_statements(node.orelse.body), negated, found)

    def intent(self, construction: Construction) -> Intent | None:
        """What the innermost branch that signals anything says about the construction."""
        branches: list[_Branch] = []
        statement = construction.statement
        if statement is not None:
            branches += self._map(construction.unit).get(id(statement), ())
            branches += _conditional_branches(statement, construction.call)
        for test, taken in reversed(branches):
            says = _test_says(test)
            if says is None:
                continue
            code = cst.Module(body=[]).code_for_node(test)
            side = "body" if taken else "else branch"
            return Intent(says == taken, f"the {side} of `{code}`")
        return None


def _conditional_branches(statement: cst.CSTNode, call: cst.Call) -> list[_Branch]:
    """The `a if test else b` expressions around `call` in `statement`, outermost first."""
    out: list[_Branch] = []

    def visit(node: cst.CSTNode) -> bool:
        if node is call:
            return True
        if isinstance(node, cst.IfExp):
            if visit(node.body):
                out.insert(0, (node.test, True))
                return True
            if visit(node.orelse):
                out.insert(0, (node.test, False))
                return True
            return False
        return any(visit(child) for child in node.children)

    visit(statement)
    return out
