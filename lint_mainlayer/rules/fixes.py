"""Fix plans: the edits a finding proposes, as text built from the source's own segments.

A plan is one of three edits (replace a call; rewrite a statement's line and add statements
after it; add a method to a class) with its description, safety and imports. `render`
turns a plan into the one `Fix` record that `--fix`, JSON, the cache and the editor share.

The new code is what libcst printed when fixes were built from its nodes, and it is built
the way libcst built it: each argument keeps its own text (its value, the comma and the
whitespace around it), new arguments get `, `, and continuation lines lose the block's
indentation (`render` puts back the indentation of where the code lands). Python's `ast`
cannot print code as written, so the text comes from the source (`rules/tree.py`).
"""

from __future__ import annotations

import ast
import re
from typing import Union

from lint_mainlayer.records import record
from lint_mainlayer.rules.calls import args_of, has_star_args, string_value
from lint_mainlayer.rules.facts import Construction, ModuleFacts, Site
from lint_mainlayer.rules.origin import Origin, is_pure, reusable_at
from lint_mainlayer.rules.scope import dotted
from lint_mainlayer.rules.tree import (
    LINE_BREAK,
    Arg,
    Line,
    SourceText,
    call_args,
    call_text,
)
from lint_mainlayer.types import Applicability, ImportChange


@record(frozen=True)
class ReplaceCall:
    """Replace one call (with its own parentheses) with a new expression."""

    call: ast.Call
    new_expr: str


@record(frozen=True)
class AppendAfter:
    """Rewrite the line of `statement` (replacing `call` in it, if given) and add `after`
    below it, at its indentation."""

    statement: Line
    after: tuple[str, ...]
    call: ast.Call | None = None
    new_expr: str | None = None
    # The statement's new form, when more than a call in it changes (`x.f()` -> `x = x.f()`).
    replacement: str | None = None


@record(frozen=True)
class AddMethod:
    """Append `method` to the body of `klass`, after a blank line."""

    klass: ast.ClassDef
    method: str


Edit = Union[ReplaceCall, AppendAfter, AddMethod]


@record(frozen=True)
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


@record(frozen=True)
class NoFix:
    reason: str


class Writer:
    """The code of a construction's nodes as libcst printed them: as written, with the
    block's indentation taken off continuation lines."""

    def __init__(self, source: SourceText, site: Construction) -> None:
        self.source = source
        statement = site.enclosing
        self.block = source.line_indent(statement.lineno) if statement is not None else ""

    def text(self, start: int, end: int) -> str:
        return dedent(self.source.text[start:end], self.block)

    def dedent(self, text: str | None) -> str | None:
        return None if text is None else dedent(text, self.block)

    def code(self, node: ast.AST) -> str:
        start, end = self.source.span(node)
        return self.text(start, end)

    def args(self, call: ast.Call) -> list[Arg]:
        """The call's arguments, with their text."""
        return call_text(call, self.source).args

    def piece(self, arg: Arg) -> Piece:
        """An argument as it is: its code, its comma, the whitespace after it."""
        return Piece(self.text(arg.start, arg.value_end), self.dedent(arg.comma), dedent(arg.whitespace_after, self.block))

    def keyword(self, name: str, value: str, like: Arg | None = None) -> Piece:
        """A `name=value` argument, taking comma and layout from `like`."""
        if like is None:
            return Piece(f"{name}={value}", None, "")
        return Piece(f"{name}={value}", self.dedent(like.comma), dedent(like.whitespace_after, self.block))

    def call(self, call: ast.Call, pieces: list[Piece], func: str | None = None, parens: bool = True) -> str:
        """`call` with new arguments, keeping its layout (libcst's `with_args`): each
        argument but the last keeps (or gets) a comma, and the last takes the original last
        argument's trailing comma, if any. `func` replaces the callee; `parens` keeps the
        call's own parentheses."""
        layout = call_text(call, self.source)
        args = call_args(call)
        trailing = self.dedent(args[-1].comma) if args else None
        out = []
        for i, piece in enumerate(pieces):
            if i == len(pieces) - 1:
                comma = trailing
            elif piece.comma is None:
                comma = ", "
            else:
                comma = piece.comma
            out.append(piece.body + (comma or "") + piece.whitespace_after)
        inner_start = self.source.start(call)
        first = args[0].start if args else layout.close_paren
        code = (
            (self.text(inner_start, layout.func_end) if func is None else func)
            + self.text(layout.func_end, first)
            + "".join(out)
            + ")"
        )
        if parens:
            left, right = self.parens(call)
            code = left + code + right
        return code

    def parens(self, call: ast.Call) -> tuple[str, str]:
        """The call's own parentheses (libcst's `lpar`, `rpar`), as written."""
        start, end = self.source.span(call)
        return self.text(start, self.source.start(call)), self.text(self.source.end(call), end)


@record(frozen=True)
class Piece:
    """An argument of a new call: its code, its comma (None: none yet), and the whitespace
    after it (libcst's `Arg`)."""

    body: str
    comma: str | None
    whitespace_after: str


def dedent(text: str, block: str) -> str:
    """`text` with `block` taken off the start of each line after the first, where present."""
    if not block or ("\n" not in text and "\r" not in text):
        return text
    pieces = LINE_BREAK.split(text)
    breaks = LINE_BREAK.findall(text)
    out = [pieces[0]]
    for line_break, piece in zip(breaks, pieces[1:]):
        out.append(line_break + (piece[len(block):] if piece.startswith(block) else piece))
    return "".join(out)


def keras_default_name(class_name: str) -> str:
    """The name Keras gives an unnamed layer of this class (before uniquifying)."""
    # Keras' own `to_snake_case`.
    intermediate = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", intermediate).lower()


_PATH_CALLS = frozenset({"Path", "PurePath", "str", "os.fspath", "os.path.join", "pathlib.Path"})


def _literal_item(expr: ast.expr | None) -> bool:
    """Whether evaluating `expr` again gives the same path unless its names change:
    `os.environ["CKPT"]` (an item of a named mapping under a literal key), `Path(CKPT)`,
    `os.path.join(root, "bert")` (path calls of names and literals)."""
    if isinstance(expr, ast.Call):
        return dotted(expr.func) in _PATH_CALLS and all(
            not a.star and (is_pure(a.value) or string_value(a.value) is not None or _literal_item(a.value))
            for a in call_args(expr)
        )
    if not isinstance(expr, ast.Subscript) or dotted(expr.value) is None or isinstance(expr.slice, (ast.Tuple, ast.Slice)):
        return False
    return string_value(expr.slice) is not None


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
    write = Writer(facts.source, site)
    write.args(call)
    code = write.code
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
    kept: list[Piece] = []
    trainable: ast.expr | None = None
    dropped_name: str | None = None
    extras: list[tuple[str, Arg]] = []
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
            kept.append(write.keyword(name, code(arg.value), arg))
            continue
        default = next((e.default for e in layer.extras if e.name == name), None)
        if default is not None and code(arg.value).strip() == default:
            continue
        unsafe.append(
            f"{layer.model_class}.from_pretrained does not accept `{name}=`: the extracted "
            "layer keeps the model's default"
        )

    config_kw = write.keyword("config", code(config.value), config)
    checkpoint: str
    if origin.kind == "pretrained" and origin.checkpoint is None:
        # Never `config.name_or_path`: a config read by hand leaves it empty.
        return NoFix("the checkpoint the config was read from is not known")
    if origin.kind == "pretrained" and origin.checkpoint is not None:
        # The traced checkpoint, never `config.name_or_path`: `XConfig.from_pretrained`
        # leaves that empty in transformers 4.x.
        checkpoint = origin.checkpoint_code(code)
        if origin.via_default or origin.via_caller:
            if not reusable_at(origin, site):
                return NoFix(f"the checkpoint `{checkpoint}` is not visible here")
            unsafe.append(f"the config is {origin.why}: another call may pass another config")
        elif not reusable_at(origin, site):
            if is_pure(origin.checkpoint) or _literal_item(origin.checkpoint):
                unsafe.append(f"`{checkpoint}` may not hold the same checkpoint here")
            else:
                return NoFix("the checkpoint expression cannot be repeated here")
    else:
        if not is_pure(config.value):
            return NoFix("bind the config to a name first")
        checkpoint = f"{code(config.value)}.name_or_path"
        unsafe.append(
            "the config's origin is unknown: this loads `name_or_path`, and fails loudly if "
            "the config did not come from a checkpoint"
        )

    after: tuple[str, ...] = ()
    statement = None
    if trainable is not None and not (isinstance(trainable, ast.Constant) and trainable.value is True):
        holder = site.assign_target
        if site.statement is None or not isinstance(holder, (ast.Name, ast.Attribute)):
            return NoFix("`trainable=` must become a statement: bind the layer to a name first")
        # from_pretrained(trainable=False) would freeze only the outer model, not the layer.
        statement = site.statement
        after = (f"{code(holder)}.trainable = {code(trainable)}",)
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
        return _load_into(site, write, checkpoint, config_kw, kept, model_ref, add_imports, unsafe, siblings, target)
    args = write.args(call)
    first = args[0] if args else None
    checkpoint_arg = Piece(checkpoint, None, "")
    if first is not None and len(args) > 1:
        checkpoint_arg = Piece(checkpoint, write.dedent(first.comma), "")
    new_call = write.call(call, [checkpoint_arg, config_kw, *kept], func=f"{model_ref}.from_pretrained", parens=False)
    left, right = write.parens(call)
    new_expr = f"{left}{new_call}.{field}{right}"
    remove: tuple[ImportChange, ...] = ()
    if site.import_module is not None and "." not in site.callee:
        alias = site.callee if site.callee != layer.name else None
        remove = (ImportChange(site.import_module, layer.name, alias),)
    shown = f"{model_ref}.from_pretrained({checkpoint}, config={code(config.value)}).{field}"
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
    write: Writer,
    checkpoint: str,
    config_kw: Piece,
    kept: list[Piece],
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
    if site.statement is None or not isinstance(holder, (ast.Name, ast.Attribute)):
        return NoFix(
            f"{siblings} layers of {layer.name} here would all be named `{layer.field}`: "
            "bind each to a name so the fix can keep its own"
        )
    # Each argument without its comma, as libcst printed `arg.with_changes(comma=DEFAULT)`.
    args = ", ".join([checkpoint, *(a.body + a.whitespace_after for a in [config_kw, *kept])])
    source = f"{model_ref}.from_pretrained({args}).{layer.field}"
    name = write.code(holder)
    after = (f"{name}.build(None)", f"{name}.set_weights({source}.get_weights())")
    if target is not None and target < (4, 37):
        unsafe.append("before transformers 4.37, `build(None)` may create no weights, and `set_weights` then fails")
    shown = f"{name}.set_weights({source}.get_weights())"
    return FixPlan(
        AppendAfter(site.statement, after),
        description=f"Load the pretrained weights into the layer, keeping its name: `{shown}`",
        unsafe_reason="; ".join(unsafe) or None,
        add_imports=add_imports,
        suggestion=shown,
    )


def name_fix(site: Site, field: str, facts: ModuleFacts) -> FixPlan:
    """Set the main layer's `name=` to the checkpoint prefix `field`."""
    call = site.call
    write = Writer(facts.source, site)
    _, keywords = args_of(call)
    current = keywords.get("name")
    quote = '"'
    if current is not None and isinstance(current.value, ast.Constant):
        first = simple_string_quote(write.code(current.value))
        if first is not None:
            quote = first if first in "'\"" else '"'
    value = f"{quote}{field}{quote}"
    if current is not None:
        call_text(call, facts.source)
        start, end = facts.source.span(call)
        new_call = write.text(start, current.value_start) + value + write.text(current.value_end, end)
    else:
        pieces = [write.piece(a) for a in write.args(call)] + [write.keyword("name", value)]
        new_call = write.call(call, pieces)
    return FixPlan(ReplaceCall(call, new_call), description=f'Name the layer "{field}", as checkpoints store it')


_STRING_START = re.compile(r"[rRbBuUfF]*('''|\"\"\"|'|\")")


def simple_string_quote(code: str) -> str | None:
    """The first character of the quote of a single string literal (libcst's
    `SimpleString.quote[0]`), or None for anything else (an implicit concatenation)."""
    match = _STRING_START.match(code)
    if match is None:
        return None
    quote = match.group(1)
    index = match.end()
    while index < len(code):
        if code[index] == "\\":
            index += 2
            continue
        if code.startswith(quote, index):
            return quote[0] if index + len(quote) == len(code) else None
        index += 1
    return None
