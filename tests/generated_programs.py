"""Generated programs for the fuzz and real-code tests: main-layer calls in every kind of
statement and expression context, spliced into host modules (hypothesmith's, or real ones),
and the properties every such program must have under lint and `--fix`."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import libcst as cst
from hypothesis import HealthCheck, event, note, settings
from hypothesis import strategies as st

from lint_mainlayer import registry
from lint_mainlayer.source import decode
from lint_mainlayer.types import Settings
from tests.safety_support import fix_properties, python_parses

SETTINGS = Settings()
# Derandomized with bounded examples: CI sees the same inputs, in bounded time.
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    max_examples=60,
)

LAYERS = ("TFBertMainLayer", "TFDistilBertMainLayer", "TFGPT2MainLayer", "TFT5MainLayer", "TFRobertaMainLayer")
CHECKPOINTS = ("bert-base-uncased", "distilbert-base-uncased", "gpt2", "t5-small", "roberta-base")
KWARGS = ("", ", trainable=False", ', name="bert"', ", name='encoder'", ", trainable=False, name=n", ", **kw", ", name=n")


@dataclass(frozen=True)
class Style:
    """How the module imports transformers, and the prefix its names then take."""

    header: str
    prefix: str


def _styles() -> list[Style]:
    table = registry.load()
    names = sorted(
        {"AutoConfig"}
        | {n for layer in LAYERS for n in (layer, table[layer].config_class, table[layer].pretrained_class)}
    )
    return [
        Style(f"from transformers import {', '.join(names)}\n", ""),
        Style("import transformers as hf\n", "hf."),
        Style("import transformers\n", "transformers."),
        Style("from transformers import *\n", ""),
    ]


STYLES = _styles()


@st.composite
def main_layer_calls(draw: st.DrawFn, style: Style) -> str:
    """A main-layer construction, with a config of some origin and some keyword arguments."""
    layer = draw(st.sampled_from(LAYERS))
    config_class = registry.load()[layer].config_class
    p = style.prefix
    config = draw(
        st.sampled_from(
            [
                f'{p}{config_class}.from_pretrained("{draw(st.sampled_from(CHECKPOINTS))}")',
                f"{p}AutoConfig.from_pretrained(ckpt)",
                "cfg",
                "config",
                "self.config",
                f"{p}{config_class}()",
                f"{p}{config_class}.from_dict(d)",
                f"{p}{config_class}.from_pretrained(ckpt, num_labels=2)",
            ]
        )
    )
    kwargs = draw(st.sampled_from(KWARGS))
    one_line = f"{p}{layer}({config}{kwargs})"
    if draw(st.booleans()):
        return one_line
    # The same call laid out over several lines, with a comment inside; `\0` separates
    # it from the one-line form, for contexts (f-strings) that take no comment.
    return f"{p}{layer}(\n    {config},  # the config\n    {kwargs.lstrip(', ')}\n)\0{one_line}"


def _layout(call: str, multi_line: bool) -> str:
    return call.split("\0")[0 if multi_line else -1]


# Statement contexts: `{c}` is a main-layer call, `{v}` a variable name, `{P}` a pretrained
# model class; each template is a complete, dedented statement (or several).
TEMPLATES = (
    "{v} = {c}",
    "{v} = {c}\n{v}.trainable = False",
    "{v} = {c}(ids)[0]",
    "{v}: object = {c}",
    "{v} = {c}; other = 1",
    "{v} = \\\n    {c}",
    "{v} = {c}  # noqa",
    "{v} = {c}  # noqa: MLL002",
    "{v} = {c}\n{v}.load_weights('weights.h5')",
    "def build(config, *a, **kw):\n    return {c}",
    "def build(config=None):\n    {v} = {c}\n    return {v}",
    "class Model({P}):\n    def __init__(self, config, *inputs, **kwargs):\n        super().__init__(config, *inputs, **kwargs)\n        self.{v} = {c}",
    "class Model(object):\n    {v} = {c}",
    "@{c}\ndef decorated():\n    pass",
    "@decorate({c})\nclass Decorated:\n    pass",
    "{v} = [{c} for _ in range(2)]",
    "{v} = {{k: {c} for k in 'ab'}}",
    "{v} = list({c} for _ in range(2))",
    "{v} = lambda config=None: {c}",
    "{v} = (lambda: {c})()",
    "def outer(config):\n    def inner():\n        class Inner:\n            layer = {c}\n        return Inner\n    return inner",
    "match command:\n    case [x, *rest]:\n        {v} = {c}\n    case {{'k': y}}:\n        pass\n    case _:\n        {v} = {c}",
    "async def run(config):\n    async with lock:\n        {v} = {c}\n    await use({c})\n    async for item in stream():\n        {v} = {c}\n    return [{c} async for _ in stream()]",
    "if ({v} := {c}):\n    pass",
    "try:\n    {v} = {c}\nexcept Exception:\n    {v} = None\nelse:\n    pass\nfinally:\n    pass",
    "with open('x') as handle:\n    {v} = {c}",
    "for i in range(3):\n    {v} = {c}\nelse:\n    pass",
    "while False:\n    {v} = {c}",
    "global {v}\n{v} = {c}",
    "def f(config):\n    nonlocal_free = 1\n    def g():\n        nonlocal nonlocal_free\n        return {c}\n    return g",
    'print(f"""{{{c}}}""")',
    "def f(layer={c}):\n    return layer",
    "def f(config) -> {P}:\n    return {c}",
    "use(*[{c}], **{{'a': {c}}})",
    "{v} = {c} if flag else None",
    "{v} = ({c}, {c})",
    "del {v}\n{v} = {c}",
    "bert = 1\n{v} = {c}",
    "{v} = {c}\nbert = {v}",
)
VARIABLES = ("bert", "layer", "encoder", "self_bert", "transformer", "distilbert", "model")
PRELUDES = (
    "",
    'ckpt = "bert-base-uncased"\n',
    'cfg = BertConfig.from_pretrained("bert-base-uncased")\n',
    'ckpt = "distilbert-base-uncased"\ncfg = AutoConfig.from_pretrained(ckpt)\n',
)


@st.composite
def snippets(draw: st.DrawFn, style: Style) -> str:
    """One statement context holding main-layer calls."""
    template = draw(st.sampled_from(TEMPLATES))
    calls = [draw(main_layer_calls(style)) for _ in range(template.count("{c}"))]
    pretrained = registry.load()[draw(st.sampled_from(LAYERS))].pretrained_class
    # A template may use {c} several times: each gets its own call.
    parts = template.split("{c}")
    text = parts[0]
    for part in parts[1:]:
        text += "\x00CALL\x00" + part
    template_text = text.format(v=draw(st.sampled_from(VARIABLES)), P=style.prefix + pretrained)
    chosen = list(calls)
    for multi_line in (True, False):
        text = template_text
        for call in chosen:
            text = text.replace("\x00CALL\x00", _layout(call, multi_line), 1)
        if python_parses(text):
            break
    return text


def _prelude(style: Style, text: str) -> str:
    # The preludes name BertConfig and AutoConfig bare: give them the style's prefix.
    return text.replace("BertConfig.", f"{style.prefix}BertConfig.").replace(
        "AutoConfig.", f"{style.prefix}AutoConfig."
    )


class _Blocks(cst.CSTVisitor):
    """Every statement list (module and indented blocks), in visiting order."""

    def __init__(self) -> None:
        self.bodies: list[int] = []

    def visit_Module(self, node: cst.Module) -> None:
        self.bodies.append(len(node.body))

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.bodies.append(len(node.body))


class _Insert(cst.CSTTransformer):
    """Insert statements at (block index, position) pairs, block indices as `_Blocks` counts."""

    def __init__(self, inserts: dict[int, list[tuple[int, list[cst.BaseStatement]]]]) -> None:
        super().__init__()
        self.inserts = inserts
        self.counter = 0
        self.index: dict[int, int] = {}

    def _enter(self, node: cst.CSTNode) -> None:
        self.index[id(node)] = self.counter
        self.counter += 1

    def visit_Module(self, node: cst.Module) -> None:
        self._enter(node)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._enter(node)

    def _body(self, original: cst.CSTNode, body: tuple[cst.BaseStatement, ...]) -> list[cst.BaseStatement]:
        new = list(body)
        # From the end, so earlier positions stay valid.
        for position, statements in sorted(self.inserts.get(self.index[id(original)], []), key=lambda x: -x[0]):
            new[position:position] = statements
        return new

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(body=self._body(original_node, updated_node.body))

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        return updated_node.with_changes(body=self._body(original_node, updated_node.body))


class _ReplaceLiteral(cst.CSTTransformer):
    """Replace the n-th literal (number or string) by an expression."""

    def __init__(self, target: int, expression: cst.BaseExpression) -> None:
        super().__init__()
        self.target = target
        self.seen = 0
        self.expression = expression

    def _maybe(self, updated: cst.BaseExpression) -> cst.BaseExpression:
        self.seen += 1
        return self.expression if self.seen - 1 == self.target else updated

    def leave_Integer(self, original_node: cst.Integer, updated_node: cst.Integer) -> cst.BaseExpression:
        return self._maybe(updated_node)

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.BaseExpression:
        return self._maybe(updated_node)


def _count_literals(module: cst.Module) -> int:
    counter = _ReplaceLiteral(-1, cst.Name("x"))
    module.visit(counter)
    return counter.seen


def _lead(module: cst.Module) -> int:
    """How many statements must stay first: a docstring and `from __future__` imports."""
    count = 0
    for index, statement in enumerate(module.body):
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            break
        small = statement.body[0]
        docstring = index == 0 and isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString))
        future = isinstance(small, cst.ImportFrom) and isinstance(small.module, cst.Name) and small.module.value == "__future__"
        if not (docstring or future):
            break
        count += 1
    return count


@st.composite
def programs(draw: st.DrawFn, host: st.SearchStrategy[str]) -> str:
    """A valid module: a host (generated or real) with main-layer snippets spliced into its
    blocks (statements) and literals (expressions), and a transformers import after its
    docstring and `from __future__` imports."""
    style = draw(st.sampled_from(STYLES))
    source = draw(host)
    parts = [draw(snippets(style)) for _ in range(draw(st.integers(1, 3)))]
    top = style.header + _prelude(style, draw(st.sampled_from(PRELUDES)))
    try:
        module = cst.parse_module(source)
        lead = _lead(module)
        blocks = _Blocks()
        module.visit(blocks)
        inserts: dict[int, list[tuple[int, list[cst.BaseStatement]]]] = {}
        for part in parts:
            block = draw(st.integers(0, len(blocks.bodies) - 1))
            # Block 0 is the module: nothing goes above its docstring or __future__ imports.
            position = draw(st.integers(lead if block == 0 else 0, blocks.bodies[block]))
            inserts.setdefault(block, []).append((position, list(cst.parse_module(part + "\n").body)))
        spliced = module.visit(_Insert(inserts))
        literals = _count_literals(spliced)
        if literals and draw(st.booleans()):
            expression = cst.parse_expression(_layout(draw(main_layer_calls(style)), False))
            replaced = spliced.visit(_ReplaceLiteral(draw(st.integers(0, literals - 1)), expression))
            if python_parses(replaced.code):
                spliced = replaced
                event("expression spliced")
        body = list(spliced.body)
        body[lead:lead] = cst.parse_module(top).body
        program = spliced.with_changes(body=body).code
    except Exception:  # noqa: BLE001 - a host libcst cannot take: the snippets alone
        program = ""
    if not python_parses(program):
        event("host dropped")
        program = top + "\n".join(parts) + "\n"
    assert python_parses(program), program
    return program


@st.composite
def encodings_and_newlines(draw: st.DrawFn, text: str) -> bytes:
    """The program's bytes: UTF-8, with a BOM, or with CRLF line endings."""
    variant = draw(st.sampled_from(["plain", "crlf", "bom", "mixed"]))
    if variant == "crlf":
        return text.replace("\n", "\r\n").encode()
    if variant == "bom":
        return codecs.BOM_UTF8 + text.encode()
    if variant == "mixed":
        lines = text.split("\n")
        return "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(lines[:-1])).encode() + lines[
            -1
        ].encode()
    return text.encode()


def check_fix_properties(data: bytes, unsafe: bool) -> None:
    """The properties every input must have (see the module docstring)."""
    note(decode(data).text)
    event(fix_properties(data, unsafe))


# One fix can make another one safe (MLL003 renames the layer an MLL001 fix would clash
# with): a single pass of fixes would leave a safe fix behind.
NOT_A_FIXED_POINT = """\
from transformers import BertConfig, TFBertMainLayer, TFBertPreTrainedModel
class Model(TFBertPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.bert = TFBertMainLayer(config, name="encoder")
bert = TFBertMainLayer(BertConfig.from_pretrained("bert-base-uncased"), name="encoder")
"""
