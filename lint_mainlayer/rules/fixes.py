"""Fix plans: the libcst edits a finding proposes, built without touching the tree.

A plan is one of three edits (replace a call; rewrite a statement's line and add statements
after it; add a method to a class) with its description, safety and imports. `render`
turns a plan into the one `Fix` record that `--fix`, JSON, the cache and the editor share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

import libcst as cst

from lint_mainlayer.rules.calls import args_of, has_star_args, string_value
from lint_mainlayer.rules.facts import ModuleFacts, Site
from lint_mainlayer.rules.origin import Origin, is_pure, reusable_at
from lint_mainlayer.rules.scope import dotted
from lint_mainlayer.types import Applicability, ImportChange

_NO_SPACE = cst.SimpleWhitespace("")
_SPACE = cst.SimpleWhitespace(" ")


@dataclass(frozen=True)
class ReplaceCall:
    """Replace one call with a new expression."""

    call: cst.Call
    new_expr: cst.BaseExpression


@dataclass(frozen=True)
class AppendAfter:
    """Rewrite the line of `statement` (replacing `call` in it, if given) and add `after`
    below it, at its indentation."""

    statement: cst.SimpleStatementLine
    after: tuple[cst.SimpleStatementLine, ...]
    call: cst.Call | None = None
    new_expr: cst.BaseExpression | None = None
    # The statement's new form, when more than a call in it changes (`x.f()` -> `x = x.f()`).
    replacement: cst.SimpleStatementLine | None = None


@dataclass(frozen=True)
class AddMethod:
    """Append `method` to the body of `klass`, after a blank line."""

    klass: cst.ClassDef
    method: cst.FunctionDef


Edit = Union[ReplaceCall, AppendAfter, AddMethod]


@dataclass(frozen=True)
class FixPlan:
    edit: Edit
    description: str
    # Why the fix is unsafe; None when it is safe.
    unsafe_reason: str | None = None
    add_imports: tuple[ImportChange, ...] = ()
    remove_imports: tuple[ImportChange, ...] = ()
    # The code a finding's message suggests (`TFBertModel.from_pretrained(...).bert`).
    suggestion: str | None = None

    @property
    def applicability(self) -> Applicability:
        return "unsafe" if self.unsafe_reason else "safe"

    def applies(self, unsafe: bool) -> bool:
        """Whether `--fix` applies this plan (with `--unsafe-fixes` when `unsafe`)."""
        return self.applicability == "safe" or unsafe


@dataclass(frozen=True)
class NoFix:
    reason: str


def keras_default_name(class_name: str) -> str:
    """The name Keras gives an unnamed layer of this class (before uniquifying)."""
    # Keras' own `to_snake_case`.
    intermediate = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", intermediate).lower()


def code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def with_args(call: cst.Call, args: list[cst.Arg], func: cst.BaseExpression | None = None) -> cst.Call:
    """`call` with new arguments, keeping its layout: each argument but the last keeps (or
    gets) a comma, and the last takes the original last argument's trailing comma, if any."""
    trailing = call.args[-1].comma if call.args else cst.MaybeSentinel.DEFAULT
    fixed: list[cst.Arg] = []
    for i, arg in enumerate(args):
        if i == len(args) - 1:
            fixed.append(arg.with_changes(comma=trailing))
        elif isinstance(arg.comma, cst.MaybeSentinel):
            fixed.append(arg.with_changes(comma=cst.Comma(whitespace_after=_SPACE)))
        else:
            fixed.append(arg)
    return call.with_changes(func=func or call.func, args=fixed)


def keyword_arg(name: str, value: cst.BaseExpression, like: cst.Arg | None = None) -> cst.Arg:
    """A `name=value` argument, taking comma and layout from `like`."""
    arg = cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=_NO_SPACE, whitespace_after=_NO_SPACE),
    )
    if like is not None:
        arg = arg.with_changes(comma=like.comma, whitespace_after_arg=like.whitespace_after_arg)
    return arg


_PATH_CALLS = frozenset({"Path", "PurePath", "str", "os.fspath", "os.path.join", "pathlib.Path"})


def _literal_item(expr: cst.BaseExpression | None) -> bool:
    """Whether evaluating `expr` again gives the same path unless its names change:
    `os.environ["CKPT"]` (an item of a named mapping under a literal key), `Path(CKPT)`,
    `os.path.join(root, "bert")` (path calls of names and literals)."""
    if isinstance(expr, cst.Call):
        return dotted(expr.func) in _PATH_CALLS and all(
            not a.star and (is_pure(a.value) or string_value(a.value) is not None or _literal_item(a.value))
            for a in expr.args
        )
    if not isinstance(expr, cst.Subscript) or dotted(expr.value) is None or len(expr.slice) != 1:
        return False
    index = expr.slice[0].slice
    return isinstance(index, cst.Index) and string_value(index.value) is not None


def model_reference(site: Site, facts: ModuleFacts) -> tuple[str, tuple[ImportChange, ...]] | NoFix:
    """How the fixed code names the base model class, and the import that needs."""
    model = site.layer.model_class
    assert model is not None
    for local, names in facts.imported.items():
        if any(q.rpartition(".")[2] == model for q in names):
            return local, ()
    head, _, _ = site.callee.rpartition(".")
    if head:
        return f"{head}.{model}", ()
    if site.import_module is None:
        # Reached through `from transformers import *`, which exports the model too.
        return model, ()
    if model in facts.classes or model in facts.module_unit.assigned_names():
        return NoFix(f"the name `{model}` is already used in this module")
    return model, (ImportChange(site.import_module, model),)


def load_fix(
    site: Site, origin: Origin, facts: ModuleFacts, siblings: int, target: tuple[int, int] | None = None
) -> FixPlan | NoFix:
    """Rewrite `TFXMainLayer(config, ...)` to `TFXModel.from_pretrained(ckpt, config=config).field`."""
    layer = site.layer
    call = site.call
    if site.via is not None:
        return NoFix(f"the class is reached through {site.via}: load its model class by hand")
    if layer.model_class is None:
        return NoFix(f"no transformers model class holds {layer.name}")
    field = layer.field
    if field is None:
        fields = " and ".join(f"`{f}`" for f in layer.fields)
        return NoFix(f"{layer.model_class} holds {layer.name} twice ({fields}): choose one by hand")
    if layer.required_extras:
        needs = ", ".join(f"`{e.name}`" for e in layer.required_extras)
        return NoFix(f"{layer.name} needs {needs} besides the config")
    if has_star_args(call):
        return NoFix("the call passes `*args`/`**kwargs`")
    positional, keywords = args_of(call)
    config = keywords.get("config") or (positional[0] if positional else None)
    if config is None:
        return NoFix("the call passes no config")
    unsafe: list[str] = []
    kept: list[cst.Arg] = []
    trainable: cst.BaseExpression | None = None
    dropped_name: str | None = None
    extras: list[tuple[str, cst.Arg]] = []
    for position, arg in enumerate(positional[1:] if "config" not in keywords else positional, 1):
        extra = layer.extra_at(position)
        if extra is None:
            return NoFix(f"unexpected positional argument {position + 1}")
        extras.append((extra.name, arg))
    for name, arg in keywords.items():
        if name == "config":
            continue
        if name == "name":
            dropped_name = string_value(arg.value) or code(arg.value)
        elif name == "trainable":
            trainable = arg.value
        elif any(e.name == name for e in layer.extras):
            extras.append((name, arg))
        else:
            return NoFix(f"`{name}=` has no `from_pretrained` equivalent")
    for name, arg in extras:
        if name in layer.model_extras:
            kept.append(keyword_arg(name, arg.value, arg))
            continue
        default = next((e.default for e in layer.extras if e.name == name), None)
        if default is not None and code(arg.value).strip() == default:
            continue
        unsafe.append(
            f"{layer.model_class}.from_pretrained does not accept `{name}=`: the extracted "
            "layer keeps the model's default"
        )

    config_kw = keyword_arg("config", config.value, config)
    if origin.kind == "pretrained" and origin.checkpoint is None:
        # Never `config.name_or_path`: a config read by hand leaves it empty.
        return NoFix("the checkpoint the config was read from is not known")
    if origin.kind == "pretrained" and origin.checkpoint is not None:
        # The traced checkpoint, never `config.name_or_path`: `XConfig.from_pretrained`
        # leaves that empty in transformers 4.x.
        checkpoint = origin.checkpoint
        if origin.via_default or origin.via_caller:
            if not reusable_at(origin, site):
                return NoFix(f"the checkpoint `{code(checkpoint)}` is not visible here")
            unsafe.append(f"the config is {origin.why}: another call may pass another config")
        elif not reusable_at(origin, site):
            if is_pure(checkpoint) or _literal_item(checkpoint):
                unsafe.append(f"`{code(checkpoint)}` may not hold the same checkpoint here")
            else:
                return NoFix("the checkpoint expression cannot be repeated here")
    else:
        if not is_pure(config.value):
            return NoFix("bind the config to a name first")
        checkpoint = cst.parse_expression(f"{code(config.value)}.name_or_path")
        unsafe.append(
            "the config's origin is unknown: this loads `name_or_path`, and fails loudly if "
            "the config did not come from a checkpoint"
        )

    after: tuple[cst.SimpleStatementLine, ...] = ()
    statement = None
    if trainable is not None and not (isinstance(trainable, cst.Name) and trainable.value == "True"):
        holder = site.assign_target
        if site.statement is None or not isinstance(holder, (cst.Name, cst.Attribute)):
            return NoFix("`trainable=` must become a statement: bind the layer to a name first")
        # from_pretrained(trainable=False) would freeze only the outer model, not the layer.
        statement = site.statement
        after = (
            cst.SimpleStatementLine(
                [
                    cst.Assign(
                        [cst.AssignTarget(cst.Attribute(holder.deep_clone(), cst.Name("trainable")))],
                        trainable.deep_clone(),
                    )
                ]
            ),
        )
    if siblings == 1 and dropped_name is None and "name" not in keywords:
        default = keras_default_name(layer.name)
        if default in facts.strings:
            # `get_layer("tf_bert_main_layer")` finds the unnamed layer by Keras' default name.
            unsafe.append(f"the layer is renamed from Keras' default `{default}` to `{field}`, and this module uses that name")
    if siblings == 1 and dropped_name is not None and dropped_name != field:
        name_value = keywords["name"].value
        literal = string_value(name_value)
        if literal is None:
            # A constant or variable: the module can refer to the old name through it.
            unsafe.append(f"the layer is renamed from `{dropped_name}` to `{field}`, and its name comes from an expression this module may use elsewhere")
        elif facts.strings.count(literal) > 1:
            unsafe.append(f"the layer is renamed from `{dropped_name}` to `{field}`, and this module uses that name")

    reference = model_reference(site, facts)
    if isinstance(reference, NoFix):
        return reference
    model_ref, add_imports = reference
    if siblings > 1:
        return _load_into(site, checkpoint, config_kw, kept, model_ref, add_imports, unsafe, siblings, target)
    first = call.args[0] if call.args else None
    checkpoint_arg = cst.Arg(value=checkpoint.deep_clone())
    if first is not None and len(call.args) > 1:
        checkpoint_arg = checkpoint_arg.with_changes(comma=first.comma)
    new_call = with_args(
        call,
        [checkpoint_arg, config_kw, *kept],
        func=cst.Attribute(cst.parse_expression(model_ref), cst.Name("from_pretrained")),
    ).with_changes(lpar=(), rpar=())
    new_expr = cst.Attribute(new_call, cst.Name(field), lpar=call.lpar, rpar=call.rpar)
    remove: tuple[ImportChange, ...] = ()
    if site.import_module is not None and "." not in site.callee:
        alias = site.callee if site.callee != layer.name else None
        remove = (ImportChange(site.import_module, layer.name, alias),)
    shown = f"{model_ref}.from_pretrained({code(checkpoint)}, config={code(config.value)}).{field}"
    edit: Edit = ReplaceCall(call, new_expr)
    if statement is not None:
        edit = AppendAfter(statement, after, call, new_expr)
    return FixPlan(
        edit,
        description=f"Load the pretrained weights: `{shown}`",
        unsafe_reason="; ".join(unsafe) or None,
        add_imports=add_imports,
        remove_imports=remove,
        suggestion=shown,
    )


def _load_into(
    site: Site,
    checkpoint: cst.BaseExpression,
    config_kw: cst.Arg,
    kept: list[cst.Arg],
    model_ref: str,
    add_imports: tuple[ImportChange, ...],
    unsafe: list[str],
    siblings: int,
    target: tuple[int, int] | None,
) -> FixPlan | NoFix:
    """Keep the user's layer, and its name, and copy the pretrained weights into it.

    Layers extracted with `.from_pretrained(...).<field>` are all named `<field>`, and a
    model holding two of them fails; building the named layer and `set_weights` from the
    extracted one keeps each name through `.keras`/`.h5` saves (measured)."""
    layer = site.layer
    holder = site.assign_target
    if site.statement is None or not isinstance(holder, (cst.Name, cst.Attribute)):
        return NoFix(
            f"{siblings} layers of {layer.name} here would all be named `{layer.field}`: "
            "bind each to a name so the fix can keep its own"
        )
    args = ", ".join([code(checkpoint), *(code(a.with_changes(comma=cst.MaybeSentinel.DEFAULT)) for a in [config_kw, *kept])])
    source = f"{model_ref}.from_pretrained({args}).{layer.field}"
    name = code(holder)
    after = []
    for line in (f"{name}.build(None)", f"{name}.set_weights({source}.get_weights())"):
        statement = cst.parse_statement(line + "\n")
        assert isinstance(statement, cst.SimpleStatementLine)
        after.append(statement)
    if target is not None and target < (4, 37):
        unsafe.append("before transformers 4.37, `build(None)` may create no weights, and `set_weights` then fails")
    shown = f"{name}.set_weights({source}.get_weights())"
    return FixPlan(
        AppendAfter(site.statement, tuple(after)),
        description=f"Load the pretrained weights into the layer, keeping its name: `{shown}`",
        unsafe_reason="; ".join(unsafe) or None,
        add_imports=add_imports,
        suggestion=shown,
    )


def name_fix(site: Site, field: str) -> FixPlan:
    """Set the main layer's `name=` to the checkpoint prefix `field`."""
    call = site.call
    _, keywords = args_of(call)
    current = keywords.get("name")
    quote = '"'
    if isinstance(current is not None and current.value, cst.SimpleString):
        assert current is not None and isinstance(current.value, cst.SimpleString)
        quote = current.value.quote[0] if current.value.quote[0] in "'\"" else '"'
    value = cst.SimpleString(f"{quote}{field}{quote}")
    if current is not None:
        args = [a.with_changes(value=value) if a is current else a for a in call.args]
        new_call = call.with_changes(args=args)
    else:
        new_call = with_args(call, [*call.args, keyword_arg("name", value)])
    return FixPlan(ReplaceCall(call, new_call), description=f'Name the layer "{field}", as checkpoints store it')
