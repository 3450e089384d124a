"""MLL004: a `TF*PreTrainedModel` subclass whose `build()` does not build its main layer."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from lint_mainlayer.rules.base import LIBRARY_PATTERN, Context, Finding, Invalid, Rule
from lint_mainlayer.rules.calls import string_value
from lint_mainlayer.rules.classes import ClassInfo
from lint_mainlayer.rules.facts import ModuleFacts, Site
from lint_mainlayer.rules.fixes import AddMethod, FixPlan
from lint_mainlayer.rules.provenance import layer_name
from lint_mainlayer.rules.scope import Unit, dotted
from lint_mainlayer.rules.tree import call_args, children
from lint_mainlayer.types import ImportChange

# transformers 4.37 (PR #27794) made from_pretrained build models through build(), which
# TFPreTrainedModel leaves empty.
FIRST_AFFECTED = (4, 37)

# Keras layers that hold no weights and keep the last dimension of their input (channels
# last, Keras' default), so a head after them is as wide as before them. Pooling layers go
# by both their names (`GlobalMaxPooling1D` and its alias `GlobalMaxPool1D`).
_WIDTH_KEEPING = frozenset(
    {
        "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
        "GaussianDropout", "AlphaDropout", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax",
        "RepeatVector", "Masking", "Identity", "ActivityRegularization",
        *(
            f"{kind}{dims}D"
            for kind in (
                "GlobalAveragePooling", "GlobalAvgPool", "GlobalMaxPooling", "GlobalMaxPool",
                "MaxPooling", "MaxPool", "AveragePooling", "AvgPool",
            )
            for dims in (1, 2, 3)
        ),
    }
)
# Keras layers that hold no weights, so need no explicit build. Those not above may change
# the width (`Flatten`, `Reshape`, `Permute`, `Lambda`, the merges of several inputs).
_UNWEIGHTED = _WIDTH_KEEPING | frozenset(
    {
        "Flatten", "Reshape", "Permute", "Lambda", "Concatenate", "Add", "Multiply", "Average",
        "Maximum", "Minimum", "Subtract", "Dot",
        *(f"{kind}{dims}D" for kind in ("UpSampling", "ZeroPadding", "Cropping") for dims in (1, 2, 3)),
    }
)
# Weighted layers whose weights depend only on the input's last dimension.
_LAST_DIM = frozenset({"Dense", "LayerNormalization"})
# Weighted layers that build without an input shape.
_NO_SHAPE = frozenset({"Embedding"})
_NOT_LAYERS = re.compile(r"\.(losses|metrics|activations|optimizers|initializers)\.")


def _self_attr(site: Site) -> str | None:
    target = site.assign_target
    name = dotted(target) if target is not None else None
    if name and name.startswith("self.") and name.count(".") == 1:
        return name[5:]
    return None


def _descendants(node: ast.AST | list[ast.stmt]) -> Iterator[ast.AST]:
    stack: list[ast.AST] = list(node) if isinstance(node, list) else children(node)
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def builds(method: ast.AST, attr: str, name: str | None = None) -> bool:
    """Whether `method` runs `self.<attr>.build(...)` inside `tf.name_scope(self.<attr>.name)`
    (or `tf.name_scope("<name>")`, the layer's literal name)."""
    return _scoped_build(method, f"self.{attr}", name)


def _scoped_build(node: ast.AST | list[ast.stmt], holder: str, name: str | None) -> bool:
    for block in _descendants(node):
        if not isinstance(block, (ast.With, ast.AsyncWith)):
            continue
        scoped = any(
            isinstance(item.context_expr, ast.Call)
            and (dotted(item.context_expr.func) or "").endswith("name_scope")
            and call_args(item.context_expr)
            and (
                dotted(call_args(item.context_expr)[0].value) == f"{holder}.name"
                or (name is not None and string_value(call_args(item.context_expr)[0].value) == name)
            )
            for item in block.items
        )
        if scoped and any(
            isinstance(call, ast.Call) and dotted(call.func) == f"{holder}.build"
            for call in _descendants(block.body)
        ):
            return True
    return False


def builds_each(method: ast.AST, attr: str) -> bool:
    """Whether `method` loops over the container `self.<attr>` (its items or `.values()`)
    and builds each in its own name scope."""
    for loop in _descendants(method):
        if not isinstance(loop, (ast.For, ast.AsyncFor)) or not isinstance(loop.target, ast.Name):
            continue
        source = loop.iter
        if isinstance(source, ast.Call) and isinstance(source.func, ast.Attribute):
            source = source.func.value
        if dotted(source) == f"self.{attr}" and _scoped_build(loop.body, loop.target.id, None):
            return True
    return False


def _holder(site: Site) -> tuple[str, bool] | None:
    """The attribute of `self` that holds the site's layer, and whether it holds it
    directly (`self.bert = ...`, `setattr(self, "bert", ...)`) or in a container
    (`self.encoders = [...]`, `self.encoders.append(...)`)."""
    attr = _self_attr(site)
    if attr is not None:
        return attr, True
    statement = site.statement
    if statement is None or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if isinstance(small, ast.Assign) and len(small.targets) == 1:
        target = dotted(small.targets[0]) or ""
        value = small.value
        elements: list[ast.expr] = []
        if isinstance(value, (ast.List, ast.Tuple)):
            elements = [e.value if isinstance(e, ast.Starred) else e for e in value.elts]
        elif isinstance(value, ast.Dict):
            elements = [v for k, v in zip(value.keys, value.values) if k is not None]
        if target.startswith("self.") and target.count(".") == 1 and any(e is site.call for e in elements):
            return target[5:], False
    if isinstance(small, ast.Expr) and isinstance(small.value, ast.Call):
        call = small.value
        callee = dotted(call.func) or ""
        args = [a.value for a in call_args(call)]
        if callee == "setattr" and len(args) == 3 and dotted(args[0]) == "self" and args[2] is site.call:
            name = string_value(args[1])
            # A computed attribute name: held like a container whose build cannot be checked.
            return (name, True) if name is not None else ("", False)
        head, _, method = callee.rpartition(".")
        if method in ("append", "insert") and head.startswith("self.") and head.count(".") == 1 and site.call in args:
            return head[5:], False
    return None


class _Heads:
    """The weighted sub-layers `__init__` stores on self, and the shapes to build them with."""

    def __init__(self, klass: ClassInfo, main_attrs: set[str]) -> None:
        self.shapes: dict[str, str] = {}
        self.unknown: list[str] = []
        init = klass.methods.get("__init__")
        call = klass.methods.get("call")
        if init is None:
            return
        layers: dict[str, str] = {}
        for bind in init.binds:
            if len(bind.targets) != 1 or not isinstance(bind.value, ast.Call):
                continue
            target = bind.targets[0]
            if not target.startswith("self.") or target.count(".") != 1:
                continue
            attr = target[5:]
            callee = dotted(bind.value.func) or ""
            last = callee.rpartition(".")[2]
            if attr in main_attrs or not last[:1].isupper() or _NOT_LAYERS.search(f".{callee}"):
                continue
            layers[attr] = last
        self.width_keeping = {a for a, kind in layers.items() if kind in _WIDTH_KEEPING}
        for attr, kind in layers.items():
            if kind in _UNWEIGHTED:
                continue
            if kind in _NO_SHAPE:
                self.shapes[attr] = "None"
            elif kind in _LAST_DIM and call is not None and self._fed_by_main_layer(call, attr, main_attrs):
                self.shapes[attr] = "[None, None, self.config.hidden_size]"
            else:
                self.unknown.append(attr)

    def _fed_by_main_layer(self, call: Unit, attr: str, main_attrs: set[str]) -> bool:
        uses = [e for e in call.calls if dotted(e.node.func) == f"self.{attr}"]
        in_loops = _in_loops(call.node)
        return bool(uses) and all(
            call_args(u.node)
            and self._from_main(call_args(u.node)[0].value, call, main_attrs, 0, u.index, in_loops)
            for u in uses
        )

    def _from_main(
        self, expr: ast.expr, unit: Unit, main: set[str], depth: int, index: int, in_loops: set[int]
    ) -> bool:
        """Whether `expr`, evaluated at `index`, is the main layer's output (width kept)."""
        # Width-preserving steps only: indexing, output attributes, dropout-like layers and
        # pooling, names.
        if depth > 12:
            return False
        if isinstance(expr, ast.Call):
            callee = dotted(expr.func) or ""
            if callee.startswith("self.") and callee[5:] in main:
                return True
            if callee.startswith("self.") and callee[5:] in self.width_keeping and call_args(expr):
                return self._from_main(call_args(expr)[0].value, unit, main, depth + 1, index, in_loops)
            return False
        if isinstance(expr, ast.Subscript):
            return self._from_main(expr.value, unit, main, depth + 1, index, in_loops)
        if isinstance(expr, ast.Attribute):
            return self._from_main(expr.value, unit, main, depth + 1, index, in_loops)
        if isinstance(expr, ast.Name):
            # The bindings that may reach the read: every one before it (either branch of
            # an `if`), so `pooled = self.dropout(pooled)` reads the `pooled` bound above it,
            # and `outputs = (logits,) + outputs[2:]` after the head's call does not count;
            # in a loop a later binding may reach it too. Outside loops, the binding whose
            # value holds the read (`x = self.classifier(x)`) comes after it.
            looped = id(expr) in in_loops
            binds = [
                b
                for b in unit.binds
                if expr.id in b.targets
                and (b.index < index or looped)
                and (looped or b.value is None or not any(n is expr for n in ast.walk(b.value)))
            ]
            return bool(binds) and all(
                b.targets == (expr.id,)
                and b.direct
                and b.value is not None
                and self._from_main(b.value, unit, main, depth + 1, b.index, in_loops)
                for b in binds
            )
        return False


def _in_loops(function: ast.AST) -> set[int]:
    """The ids of the nodes inside a loop of `function` (a read there may see a binding that
    comes after it in the text)."""
    inside: set[int] = set()
    for node in ast.walk(function):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            inside.update(id(n) for n in ast.walk(node))
    return inside


def _tf_name(facts: ModuleFacts) -> tuple[str, tuple[ImportChange, ...]]:
    if facts.tf_names:
        return facts.tf_names[0], ()
    return "tf", (ImportChange("tensorflow", None, "tf"),)


def _build_plan(klass: ClassInfo, attrs: list[str], heads: _Heads, facts: ModuleFacts) -> FixPlan:
    tf, imports = _tf_name(facts)
    indent = facts.default_indent
    newline = facts.default_newline
    lines = [
        "def build(self, input_shape=None):",
        f"{indent}if self.built:",
        f"{indent}{indent}return",
        f"{indent}self.built = True",
    ]
    for attr, shape in [*((a, "None") for a in attrs), *heads.shapes.items()]:
        lines.append(f"{indent}with {tf}.name_scope(self.{attr}.name):")
        lines.append(f"{indent}{indent}self.{attr}.build({shape})")
    method = newline.join(lines) + newline
    note = None
    if heads.unknown:
        names = ", ".join(f"`self.{u}`" for u in heads.unknown)
        note = f"it does not build {names}, whose input shape is unknown: add those by hand"
    built = ", ".join(f"`self.{a}`" for a in [*attrs, *heads.shapes])
    return FixPlan(
        AddMethod(klass.node, method),
        description=f"Add a `build()` to `{klass.name}` that builds {built}",
        unsafe_reason=note,
        add_imports=imports,
    )


def _built(build: Unit | None, site: Site, attr: str, direct: bool) -> bool:
    """Whether `build` builds the site's layer, held at `self.<attr>` or in that container."""
    if build is None:
        return False
    if direct:
        return builds(build.node, attr, layer_name(site))
    # With a computed attribute name, any `build()` may build it.
    return not attr or builds_each(build.node, attr)


class MissingBuild(Rule):
    """Model subclass without a `build()` that builds its main layer loads no weights.

    ## What it does
    Checks subclasses of a transformers `TF*PreTrainedModel` (directly, or through classes
    of the same module) that store a main layer on `self` in `__init__`, for a `build()`
    method that builds it: `self.bert.build(None)` inside `tf.name_scope(self.bert.name)`.
    It applies when the target transformers version is 4.37 or newer: `--target-transformers`,
    else the `target-transformers` setting, else the version the project pins (a lock file,
    `requirements*.txt`, `pyproject.toml`, `setup.cfg`, `environment.yml`), else the installed
    one, else the newest 4.x. The message names the version assumed and where it came from.

    ## Why is this bad?
    Since transformers 4.37, `from_pretrained` builds the model through `build()` before it
    reads the checkpoint, and `TFPreTrainedModel.build()` does nothing. A subclass whose own
    `build()` does not build its main layer has no variables when the checkpoint is read:
    no weight is loaded, the log says every layer was initialized, and the first call
    creates fresh random weights. Code written before 4.37 breaks this way on upgrade.

    ## Example
    ```python
    class Encoder(TFBertPreTrainedModel):
        def __init__(self, config, *inputs, **kwargs):
            super().__init__(config, *inputs, **kwargs)
            self.bert = TFBertMainLayer(config, name="bert")
    ```

    Use instead:
    ```python
    class Encoder(TFBertPreTrainedModel):
        def __init__(self, config, *inputs, **kwargs):
            super().__init__(config, *inputs, **kwargs)
            self.bert = TFBertMainLayer(config, name="bert")

        def build(self, input_shape=None):
            if self.built:
                return
            self.built = True
            with tf.name_scope(self.bert.name):
                self.bert.build(None)
    ```

    A main layer held in a list or dict attribute (`self.encoders = [...]`,
    `self.encoders.append(...)`) must be built by a loop over it, each in its own name scope;
    one set with `setattr(self, "bert", ...)` counts as `self.bert`, and one set under a
    computed name needs some `build()`. A `tf.name_scope("bert")` whose literal is the
    layer's `name=` is the same scope as `tf.name_scope(self.bert.name)`.

    ## Fix safety
    The fix adds that `build()`, one `with` block per main layer, and one per weighted head
    whose input width is known: a `Dense` or `LayerNormalization` fed (through indexing,
    output attributes, dropout, pooling, and names bound before the read, as in
    `pooled_output = self.dropout(pooled_output)`; not `Flatten`, `Reshape` or `Lambda`,
    which may change the width) by the main layer's output is built with
    `[None, None, self.config.hidden_size]`, an `Embedding` with `None`. It adds
    `import tensorflow as tf` when the module has no name for TensorFlow. It is safe unless
    the class has weighted sub-layers whose input shape cannot be derived: then it is unsafe
    and names them. No fix when a `build()` exists but does not build the layer (add the
    `with` block to it by hand), and no finding when the target version is below 4.37, where
    such a `build()` itself breaks loading. No fix either when the project's pin allows
    versions on both sides of 4.37 (`>=4.30,<4.40`): no one `build()` serves both, and the
    message says so. No fix for layers held in containers or set under a computed name.
    """

    code = "MLL004"
    name = "pretrained-subclass-without-build"
    summary = "Model subclass without a build() that builds its main layer loads no weights"
    fixable = "sometimes"
    VALID = (LIBRARY_PATTERN,)
    INVALID = (
        Invalid(
            "no-build-no-tensorflow-import",
            "from transformers import TFBertMainLayer, TFBertPreTrainedModel\n"
            "class Enc(TFBertPreTrainedModel):\n"
            "    def __init__(self, config, *inputs, **kwargs):\n"
            "        super().__init__(config, *inputs, **kwargs)\n"
            '        self.bert = TFBertMainLayer(config, name="bert")\n',
            "from transformers import TFBertMainLayer, TFBertPreTrainedModel\n"
            "import tensorflow as tf\n"
            "\n"
            "class Enc(TFBertPreTrainedModel):\n"
            "    def __init__(self, config, *inputs, **kwargs):\n"
            "        super().__init__(config, *inputs, **kwargs)\n"
            '        self.bert = TFBertMainLayer(config, name="bert")\n'
            "\n"
            "    def build(self, input_shape=None):\n"
            "        if self.built:\n"
            "            return\n"
            "        self.built = True\n"
            "        with tf.name_scope(self.bert.name):\n"
            "            self.bert.build(None)\n",
        ),
    )

    def check(self, ctx: Context) -> Iterator[Finding]:
        target = ctx.settings.target_transformers
        if target is not None and target < FIRST_AFFECTED:
            return
        facts = ctx.facts
        groups: dict[str, list[tuple[Site, str, bool]]] = {}
        for site in facts.sites:
            held = _holder(site)
            klass = site.klass
            if held is None or klass is None or site.unit is not klass.methods.get("__init__"):
                continue
            if facts.graph.pretrained_base(klass) is None:
                continue
            groups.setdefault(klass.name, []).append((site, *held))
        for name, members in groups.items():
            klass = facts.classes[name]
            base = facts.graph.pretrained_base(klass)
            build = facts.graph.find_method(klass, "build")

            missing = [(s, a, d) for s, a, d in members if not _built(build, s, a, d)]
            if not missing:
                continue
            plan = None
            # A range on both sides of 4.37: a `build()` breaks loading on the older side.
            if build is None and all(d for _, _, d in members) and ctx.settings.target_transformers_range is None:
                attrs = list(dict.fromkeys(a for _, a, _ in members))
                plan = _build_plan(klass, attrs, _Heads(klass, set(attrs)), facts)
            for site, attr, direct in missing:
                held_as = f"`self.{attr}`" if direct else f"the layers in `self.{attr}`" if attr else "the layer it sets with `setattr`"
                if build is None:
                    problem = f"has no `build()` that builds {held_as}"
                elif direct:
                    problem = f"has a `build()` that does not build `self.{attr}` inside `tf.name_scope(self.{attr}.name)`"
                else:
                    problem = f"has a `build()` that does not build each of the layers in `self.{attr}` in its name scope"
                message = (
                    f"`{name}` subclasses `{base}` but {problem}: since transformers 4.37, "
                    f"`from_pretrained` loads no weights into it (and logs success)"
                )
                if plan is not None:
                    message += "; add a `build()`"
                elif build is None and not all(d for _, _, d in members):
                    message += f" (no automatic fix: add a `build()` that builds {held_as} by hand)"
                else:
                    message += " (no automatic fix: add the block to `build()`)"
                message += f" [{ctx.settings.describe_target()}]"
                yield Finding(self.code, message, site.call, plan, top=site.top)
