"""Whole models: the calls that build or load a transformers TF model, and what the module
does with the model afterwards.

A `ModelSite` is a `Construction` (the flow and origin analyses ask it what they ask a main
layer's site) that says which model it is: a transformers class called with a config
(`TFBertForSequenceClassification(config)`), an auto class's `from_config(config)` or
`from_pretrained(...)`, a class of the module deriving from a transformers model
(`MyModel(config)`), or `x.from_pretrained(...)` as a statement of its own.

The signals the model rules use live here, each one function:

- `architecture_changed`: the config's architecture is changed (`config.num_hidden_layers = 4`,
  `from_pretrained(ckpt, n_layer=2)`, `config.update({"hidden_size": ...})`), so pretrained
  weights would not fit: random initialisation is the point.
- `says_from_scratch`: a string of the module says so ("Training new model from scratch").
- `in_no_pretraining_branch`: the call sits in one branch of an `if` whose other branch loads
  a model with `from_pretrained`, or whose test names the choice (`scratch`, `pretrain`,
  `random`, `init`, `checkpoint`, `name_or_path`, `resume`).
- `weights_used`: something depends on the weights: the model is trained or run on data
  (`fit`, `predict`, `evaluate`, `generate`, a call on anything but constant inputs such as
  `tf.ones(...)` or `model.dummy_inputs`), or leaves the code that built it (returned, stored,
  handed to a function other than a saver or converter). A model only measured, exported or
  converted, or never used, does not depend on its weights.
- `replaced_by_load`: the model is only a template: `model = model.from_pretrained(...)`, or
  the discarded `model.from_pretrained(...)` statement, follows it, or the instance is only
  the receiver of `from_pretrained` (`TFBertModel(config).from_pretrained(ckpt)`).
"""

from __future__ import annotations

import ast
import re
from typing import Literal

from lint_mainlayer import registry
from lint_mainlayer.records import record
from lint_mainlayer.registry import AutoClass, ModelClass
from lint_mainlayer.rules.calls import args_of
from lint_mainlayer.rules.classes import ClassInfo
from lint_mainlayer.rules.facts import Construction, ModelCall, ModuleFacts
from lint_mainlayer.rules.scope import Unit, dotted
from lint_mainlayer.rules.tree import call_args, children, walk

How = Literal["constructor", "from_config", "from_pretrained", "instance_from_pretrained"]


@record(kw_only=True)
class ModelSite(Construction):
    """A call that builds or loads a whole model."""

    how: How
    # The transformers class called (constructor, `from_pretrained`), if any.
    model: ModelClass | None = None
    # The `TFAutoModel*` class whose `from_config`/`from_pretrained` is called, if any.
    auto: AutoClass | None = None
    # A class of the module deriving from a transformers model, called directly.
    local: ClassInfo | None = None
    # How the user named the class (`TFBertModel`, `hf.TFAutoModel`, `MyModel`), or the
    # instance for `instance_from_pretrained` (`model`, `self.model`).
    callee: str = ""
    branches: tuple[tuple[ast.If, bool], ...] = ()

    @property
    def class_name(self) -> str:
        """The class built, as transformers or the module names it."""
        if self.model is not None:
            return self.model.name
        if self.auto is not None:
            return self.auto.name
        if self.local is not None:
            return self.local.name
        return self.callee

    @property
    def is_pretraining_head(self) -> bool:
        """A head whose weights a pretraining checkpoint holds (ForMaskedLM, ForCausalLM...)."""
        if self.model is not None:
            return self.model.kind == "pretraining"
        return self.auto is not None and self.auto.kind == "pretraining"


def model_sites(facts: ModuleFacts) -> list[ModelSite]:
    """Every call of the module that builds or loads a whole model."""
    found = []
    for call in facts.model_calls:
        site = _resolve(call, facts)
        if site is not None:
            found.append(site)
    return found


def _resolve(call: ModelCall, facts: ModuleFacts) -> ModelSite | None:
    func = call.call.func
    method = func.attr if isinstance(func, ast.Attribute) else None
    named = func.value if method in ("from_config", "from_pretrained") and isinstance(func, ast.Attribute) else func
    callee = dotted(named) or ""
    model = next((m for q in sorted(call.qualified) if (m := registry.lookup_model(q))), None)
    auto = next((a for q in sorted(call.qualified) if (a := registry.lookup_auto(q))), None)
    local = None
    if not call.qualified and isinstance(named, ast.Name):
        info = facts.classes.get(named.id)
        if info is not None and info.name in facts.graph.pretrained_model_classes:
            local = info
    how: How
    if method == "from_config":
        if auto is None:
            return None
        how = "from_config"
    elif method == "from_pretrained":
        if model is None and auto is None and local is None:
            if not isinstance(named, (ast.Name, ast.Attribute)) or callee in facts.classes:
                return None
            how = "instance_from_pretrained"
        else:
            how = "from_pretrained"
    elif method is None or model is not None or local is not None:
        if model is None and local is None:
            return None
        how = "constructor"
    else:
        return None
    return ModelSite(
        call=call.call,
        unit=call.unit,
        index=call.index,
        klass=call.klass,
        statement=call.statement,
        assign_target=call.assign_target,
        top=call.top,
        enclosing=call.enclosing,
        how=how,
        model=model,
        auto=auto,
        local=local,
        callee=callee,
        branches=call.branches,
    )


def _config_arg(site: ModelSite) -> ast.expr | None:
    positional, keywords = args_of(site.call)
    if "config" in keywords:
        return keywords["config"].value
    return positional[0].value if positional else None


# --- deliberate random initialisation ---------------------------------------------------

_ARCHITECTURE_NAMES = frozenset(
    {
        "hidden_size", "hidden_dim", "dim", "d_model", "d_ff", "d_kv", "n_embd", "n_ctx", "n_positions",
        "intermediate_size", "vocab_size", "max_position_embeddings", "type_vocab_size",
        "embedding_size", "ffn_dim", "num_experts", "image_size", "patch_size", "num_channels",
    }
)


def is_architecture_attribute(name: str) -> bool:
    """Whether a config attribute shapes the weights (layers, heads, widths, vocabulary)."""
    return (
        name in _ARCHITECTURE_NAMES
        or name.endswith(("layers", "_layer", "heads", "_head", "_ffn_dim", "hidden_sizes"))
        or name in ("n_layer", "n_head")
    )


def architecture_changed(site: ModelSite, facts: ModuleFacts, origin_call: ast.Call | None) -> bool:
    """Whether the config's architecture is changed before the model is built: keyword
    overrides in the config's `from_pretrained`, attribute assignments, `update({...})` or
    `setattr` on the config's name anywhere in the module."""
    if origin_call is not None:
        _, keywords = args_of(origin_call)
        if any(is_architecture_attribute(k) for k in keywords):
            return True
    config = _config_arg(site)
    name = dotted(config) if config is not None else None
    if name is None:
        return False
    for unit in facts.units:
        for bind in unit.binds:
            for target in bind.targets:
                head, _, attribute = target.rpartition(".")
                if head == name and is_architecture_attribute(attribute):
                    return True
        for event in unit.calls:
            call = event.node
            callee = dotted(call.func)
            args = call_args(call)
            if callee == f"{name}.update" and args:
                value = args[0].value
                if isinstance(value, ast.Dict) and any(
                    _simple_string(key) and is_architecture_attribute(str(key.value))  # type: ignore[union-attr]
                    for key in value.keys
                ):
                    return True
                if any(a.keyword is not None and is_architecture_attribute(a.keyword) for a in args):
                    return True
            if callee == "setattr" and len(args) >= 2 and dotted(args[0].value) == name:
                key = args[1].value
                if _simple_string(key) and is_architecture_attribute(str(key.value)):  # type: ignore[attr-defined]
                    return True
    return False


_FROM_SCRATCH = re.compile(r"\bscratch\b|\brandom(ly)?[\s_-]+init", re.IGNORECASE)


def says_from_scratch(facts: ModuleFacts) -> bool:
    """Whether a string of the module says the model is trained from scratch."""
    return any(_FROM_SCRATCH.search(s) for s in facts.strings)


_CHOICE_WORDS = re.compile(r"scratch|pretrain|random|init|checkpoint|name_or_path|resume", re.IGNORECASE)


def in_no_pretraining_branch(site: ModelSite, facts: ModuleFacts) -> bool:
    """Whether the call is one side of an `if` that chooses between loading and not: the
    other side loads a model with `from_pretrained`, or the test names the choice."""
    for node, in_body in site.branches:
        if _CHOICE_WORDS.search(facts.source.code(node.test)):
            return True
        other = node.orelse if in_body else node.body
        if other and _loads_model(other, facts):
            return True
    return False


def _simple_string(node: ast.AST | None) -> bool:
    # libcst's `SimpleString`: one literal, not implicitly concatenated, not bytes.
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _loads_model(nodes: list[ast.stmt], facts: ModuleFacts) -> bool:
    names = frozenset(registry.load_models()) | frozenset(registry.load_auto_classes()) | facts.graph.pretrained_model_classes
    for statement in nodes:
        for node in walk(statement):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "from_pretrained":
                receiver = (dotted(node.func.value) or "").rpartition(".")[2]
                if receiver in names:
                    return True
    return False


# --- what the module does with the model ------------------------------------------------

# Methods that run the model on data or train it.
_DATA_METHODS = frozenset(
    {
        "fit", "predict", "evaluate", "train_on_batch", "test_on_batch", "predict_on_batch",
        "generate", "train_step", "test_step", "predict_step", "call", "__call__",
    }
)
# Functions a model may be handed to without its weights mattering: savers, converters,
# and inspection.
_NEUTRAL_CALLEES = frozenset(
    {
        "print", "len", "isinstance", "hasattr", "getattr", "type", "id", "str", "repr", "summary",
        "plot_model", "save", "save_model", "from_keras_model", "from_keras", "convert",
        "count_params", "assertIsNotNone", "assertIsInstance", "info", "debug", "warning",
    }
)
# Callees whose result is a constant input when their arguments are (literals in, a tensor
# out): the values of the tensor are the arguments'.
_CONSTANT_FACTORIES = frozenset(
    {"fill", "constant", "full", "convert_to_tensor", "array", "int32", "int64", "float32"}
)
# Callees whose values never come from their arguments, which are shapes, dtypes and bounds
# (`tf.ones((batch_size, seq_len))` with a batch size read from the command line, as latency
# benchmarks take it, is as constant as `tf.ones((1, 128))`).
_SHAPED_FACTORIES = frozenset(
    {
        "ones", "zeros", "ones_like", "zeros_like", "uniform", "normal", "truncated_normal",
        "randint", "rand", "randn", "random", "range", "arange", "linspace", "eye", "TensorSpec",
    }
)
_MODULE_ROOTS = frozenset({"tf", "tensorflow", "np", "numpy", "jnp", "keras"})


def weights_used(site: ModelSite, facts: ModuleFacts) -> bool:
    """Whether anything depends on the model's weights (see the module docstring)."""
    name = _tracked_name(site)
    if name is None:
        statement = site.statement
        alone = (
            statement is not None
            and len(statement.body) == 1
            and isinstance(statement.body[0], ast.Expr)
            and statement.body[0].value is site.call
        )
        # Built and thrown away: nothing uses it. Anywhere else it leaves this code.
        return not alone
    scope: ast.AST = site.unit.node
    if name.startswith("self.") and site.klass is not None:
        scope = site.klass.node
    uses = _Uses(name, _constants(site.unit))
    uses.visit(scope)
    return uses.used


def _tracked_name(site: ModelSite) -> str | None:
    """The name the model (or a field taken from it) is bound to, when the call's value is
    assigned whole or through attribute reads (`TFBertModel(config).bert`)."""
    target = site.assign_target
    if target is None and site.statement is not None:
        for small in site.statement.body:
            if isinstance(small, ast.Assign) and len(small.targets) == 1 and _reads_through(small.value, site.call):
                target = small.targets[0]
    if target is None:
        return None
    return dotted(target)


def _reads_through(value: ast.expr, call: ast.Call) -> bool:
    while isinstance(value, (ast.Attribute, ast.Subscript)):
        value = value.value
    return value is call


def _constants(unit: Unit) -> frozenset[str]:
    """Names bound only to constant inputs, in the unit or the functions and module around
    it (`INPUT_IDS = [[...]]` at module level, used in a benchmark function)."""
    found: set[str] = set()
    bound: dict[str, list[ast.expr | None]] = {}
    current: Unit | None = unit
    while current is not None:
        if current is unit or current.kind != "class":
            for bind in current.binds:
                for target in bind.targets:
                    value = bind.value if bind.direct and len(bind.targets) == 1 else None
                    bound.setdefault(target, []).append(value)
        current = current.parent
    changed = True
    while changed:
        changed = False
        for target, values in bound.items():
            if target not in found and all(v is not None and _is_constant(v, frozenset(found)) for v in values):
                found.add(target)
                changed = True
    return frozenset(found)


def _is_constant(expr: ast.expr, constants: frozenset[str]) -> bool:
    if isinstance(expr, ast.Constant):
        # libcst: integers, floats, strings, and the names `None`, `True`, `False`
        # (not imaginary numbers, bytes are strings there too, `...` is not).
        return expr.value is not Ellipsis and not isinstance(expr.value, complex)
    if isinstance(expr, ast.Name):
        return expr.id in constants
    if isinstance(expr, ast.Attribute):
        name = dotted(expr) or ""
        return name.endswith("dummy_inputs") or name.partition(".")[0] in _MODULE_ROOTS or name in constants
    if isinstance(expr, (ast.Tuple, ast.List)):
        return all(_is_constant(e.value if isinstance(e, ast.Starred) else e, constants) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return all(k is not None and _is_constant(v, constants) for k, v in zip(expr.keys, expr.values))
    if isinstance(expr, ast.BinOp):
        return _is_constant(expr.left, constants) and _is_constant(expr.right, constants)
    if isinstance(expr, ast.UnaryOp):
        return _is_constant(expr.operand, constants)
    if isinstance(expr, ast.Call):
        last = (dotted(expr.func) or "").rpartition(".")[2]
        if last in _SHAPED_FACTORIES:
            return True
        return last in _CONSTANT_FACTORIES and all(_is_constant(a.value, constants) for a in call_args(expr))
    return False


class _Uses:
    """Whether some use of `name` depends on the weights."""

    def __init__(self, name: str, constants: frozenset[str]) -> None:
        self.name = name
        self.constants = constants
        self.stack: list[ast.AST] = []
        self.used = False

    def visit(self, node: ast.AST) -> None:
        self.stack.append(node)
        try:
            if self.used:
                return
            if isinstance(node, (ast.Name, ast.Attribute)) and dotted(node) == self.name:
                if self._depends(node):
                    self.used = True
                return
            if isinstance(node, ast.keyword) and node.arg == self.name:
                # libcst's keyword is a `Name`: `f(model=x)` reads as a use of `model`.
                if self._argument_depends(1):
                    self.used = True
                    return
            for child in children(node):
                self.visit(child)
                if self.used:
                    return
        finally:
            self.stack.pop()

    def _parent(self, level: int) -> ast.AST | None:
        return self.stack[-1 - level] if len(self.stack) > level else None

    def _argument_depends(self, level: int) -> bool:
        # An argument (libcst's `Arg`): of a call, it counts unless the callee is neutral;
        # of a class definition (a base), it counts.
        call = self._parent(level)
        if isinstance(call, ast.Call):
            last = (dotted(call.func) or "").rpartition(".")[2]
            return last not in _NEUTRAL_CALLEES
        return True

    def _depends(self, node: ast.AST) -> bool:
        parent = self._parent(1)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            grand = self._parent(2)
            if isinstance(grand, ast.Call) and grand.func is parent:
                return parent.attr in _DATA_METHODS
            return False
        if isinstance(parent, ast.Call) and parent.func is node:
            return not all(_is_constant(a.value, self.constants) for a in call_args(parent))
        if isinstance(parent, ast.Call) or isinstance(parent, ast.ClassDef) and node in (*parent.bases,):
            return self._argument_depends(1)
        if isinstance(parent, ast.keyword):
            return self._argument_depends(2)
        if isinstance(parent, ast.Starred) and isinstance(self._parent(2), ast.Call):
            return self._argument_depends(2)
        if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            # A target (`model = ...`) is not a use; as the value, the model is handed on.
            return getattr(parent, "value", None) is node
        if isinstance(parent, (ast.Return, ast.Yield, ast.List, ast.Tuple, ast.Set, ast.Starred)):
            return True
        if isinstance(parent, ast.Dict):
            return node in parent.values and parent.keys[parent.values.index(node)] is not None or node in parent.keys
        return False


def replaced_by_load(site: ModelSite) -> bool:
    """Whether the unit that binds the model later calls `from_pretrained` on that name
    (`model = model.from_pretrained(...)`, or the discarded statement): the model is only
    a template. So is an instance built only to call `from_pretrained` on
    (`TFBertModel(config).from_pretrained(ckpt)`): the class method returns a new, loaded
    model, and the instance is gone."""
    if site.statement is not None and any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "from_pretrained"
        and node.func.value is site.call
        for small in site.statement.body
        for node in ast.walk(small)
    ):
        return True
    name = dotted(site.assign_target) if site.assign_target is not None else None
    if name is None:
        return False
    for event in site.unit.calls:
        func = event.node.func
        if (
            event.index > site.index
            and isinstance(func, ast.Attribute)
            and func.attr == "from_pretrained"
            and dotted(func.value) == name
        ):
            return True
    return False
