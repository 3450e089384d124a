"""MLL004: a `TF*PreTrainedModel` subclass whose `build()` does not build its main layer."""

from __future__ import annotations

import re
from typing import Iterator

import libcst as cst

from lint_mainlayer.rules.base import LIBRARY_PATTERN, Context, Finding, Invalid, Rule
from lint_mainlayer.rules.classes import ClassInfo
from lint_mainlayer.rules.facts import ModuleFacts, Site
from lint_mainlayer.rules.scope import Unit, dotted
from lint_mainlayer.rules.fixes import AddMethod, FixPlan
from lint_mainlayer.types import ImportChange

# transformers 4.37 (PR #27794) made from_pretrained build models through build(), which
# TFPreTrainedModel leaves empty.
FIRST_AFFECTED = (4, 37)

# Keras layers that hold no weights, so need no explicit build.
_UNWEIGHTED = frozenset(
    {
        "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
        "GaussianDropout", "AlphaDropout", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax",
        "Flatten", "Reshape", "Permute", "RepeatVector", "Lambda", "Masking", "Identity",
        "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
        "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "Concatenate",
        "Add", "Multiply", "Average", "Maximum", "Minimum", "Subtract", "Dot",
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


def _descendants(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = list(node.children)
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


def builds(method: cst.CSTNode, attr: str) -> bool:
    """Whether `method` runs `self.<attr>.build(...)` inside `tf.name_scope(self.<attr>.name)`."""
    for block in _descendants(method):
        if not isinstance(block, cst.With):
            continue
        scoped = any(
            isinstance(item.item, cst.Call)
            and (dotted(item.item.func) or "").endswith("name_scope")
            and item.item.args
            and dotted(item.item.args[0].value) == f"self.{attr}.name"
            for item in block.items
        )
        if scoped and any(
            isinstance(call, cst.Call) and dotted(call.func) == f"self.{attr}.build"
            for call in _descendants(block.body)
        ):
            return True
    return False


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
            if len(bind.targets) != 1 or not isinstance(bind.value, cst.Call):
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
        self.unweighted = {a for a, kind in layers.items() if kind in _UNWEIGHTED}
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
        uses = [e.node for e in call.calls if dotted(e.node.func) == f"self.{attr}"]
        return bool(uses) and all(
            u.args and self._from_main(u.args[0].value, call, main_attrs, 0) for u in uses
        )

    def _from_main(self, expr: cst.BaseExpression, unit: Unit, main: set[str], depth: int) -> bool:
        # Width-preserving steps only: indexing, output attributes, dropout-like layers, names.
        if depth > 12:
            return False
        if isinstance(expr, cst.Call):
            callee = dotted(expr.func) or ""
            if callee.startswith("self.") and callee[5:] in main:
                return True
            if callee.startswith("self.") and callee[5:] in self.unweighted and expr.args:
                return self._from_main(expr.args[0].value, unit, main, depth + 1)
            return False
        if isinstance(expr, cst.Subscript):
            return self._from_main(expr.value, unit, main, depth + 1)
        if isinstance(expr, cst.Attribute):
            return self._from_main(expr.value, unit, main, depth + 1)
        if isinstance(expr, cst.Name):
            binds = [b for b in unit.binds if b.targets == (expr.value,) and b.direct and b.value is not None]
            return bool(binds) and all(
                self._from_main(b.value, unit, main, depth + 1) for b in binds if b.value is not None
            )
        return False


def _tf_name(facts: ModuleFacts) -> tuple[str, tuple[ImportChange, ...]]:
    if facts.tf_names:
        return facts.tf_names[0], ()
    return "tf", (ImportChange("tensorflow", None, "tf"),)


def _build_plan(klass: ClassInfo, attrs: list[str], heads: _Heads, facts: ModuleFacts) -> FixPlan:
    tf, imports = _tf_name(facts)
    indent = facts.module.default_indent
    newline = facts.module.default_newline
    lines = [
        "def build(self, input_shape=None):",
        f"{indent}if self.built:",
        f"{indent}{indent}return",
        f"{indent}self.built = True",
    ]
    for attr, shape in [*((a, "None") for a in attrs), *heads.shapes.items()]:
        lines.append(f"{indent}with {tf}.name_scope(self.{attr}.name):")
        lines.append(f"{indent}{indent}self.{attr}.build({shape})")
    method = cst.parse_statement(newline.join(lines) + newline, config=facts.module.config_for_parsing)
    assert isinstance(method, cst.FunctionDef)
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

    ## Fix safety
    The fix adds that `build()`, one `with` block per main layer, and one per weighted head
    whose input width is known: a `Dense` or `LayerNormalization` fed (through indexing,
    output attributes and dropout) by the main layer's output is built with
    `[None, None, self.config.hidden_size]`, an `Embedding` with `None`. It adds
    `import tensorflow as tf` when the module has no name for TensorFlow. It is safe unless
    the class has weighted sub-layers whose input shape cannot be derived: then it is unsafe
    and names them. No fix when a `build()` exists but does not build the layer (add the
    `with` block to it by hand), and no finding when the target version is below 4.37, where
    such a `build()` itself breaks loading. No fix either when the project's pin allows
    versions on both sides of 4.37 (`>=4.30,<4.40`): no one `build()` serves both, and the
    message says so.
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
        groups: dict[str, list[tuple[Site, str]]] = {}
        for site in facts.sites:
            attr = _self_attr(site)
            klass = site.klass
            if attr is None or klass is None or site.unit is not klass.methods.get("__init__"):
                continue
            if facts.graph.pretrained_base(klass) is None:
                continue
            groups.setdefault(klass.name, []).append((site, attr))
        for name, members in groups.items():
            klass = facts.classes[name]
            base = facts.graph.pretrained_base(klass)
            build = facts.graph.find_method(klass, "build")
            missing = [(s, a) for s, a in members if build is None or not builds(build.node, a)]
            if not missing:
                continue
            plan = None
            # A range on both sides of 4.37: a `build()` breaks loading on the older side.
            if build is None and ctx.settings.target_transformers_range is None:
                attrs = list(dict.fromkeys(a for _, a in members))
                plan = _build_plan(klass, attrs, _Heads(klass, set(attrs)), facts)
            for site, attr in missing:
                if build is None:
                    problem = f"has no `build()` that builds `self.{attr}`"
                else:
                    problem = f"has a `build()` that does not build `self.{attr}` inside `tf.name_scope(self.{attr}.name)`"
                message = (
                    f"`{name}` subclasses `{base}` but {problem}: since transformers 4.37, "
                    f"`from_pretrained` loads no weights into it (and logs success)"
                )
                message += "; add a `build()`" if plan is not None else " (no automatic fix: add the block to `build()`)"
                message += f" [{ctx.settings.describe_target()}]"
                yield Finding(self.code, message, site.call, plan, top=site.top)
