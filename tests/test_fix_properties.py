"""Generated variants of the fixable snippets keep the fix invariants: one finding, the fix
parses, a second fix changes nothing, and no fixable finding is left."""

from __future__ import annotations

import libcst as cst
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lint_mainlayer import engine

ARCHS = [
    ("Bert", "bert-base-uncased"),
    ("DistilBert", "distilbert-base-uncased"),
    ("Roberta", "roberta-base"),
    ("Albert", "albert-base-v2"),
    ("GPT2", "gpt2"),
    ("Bart", "facebook/bart-base"),
]
IMPORTS = ["from", "from_as", "module_as", "module", "models_path", "star"]


@st.composite
def snippets(draw: st.DrawFn) -> str:
    arch, checkpoint = draw(st.sampled_from(ARCHS))
    layer, config_cls = f"TF{arch}MainLayer", f"{arch}Config"
    shape = draw(st.sampled_from(IMPORTS))
    module = f"transformers.models.{arch.lower()}.modeling_tf_{arch.lower()}"
    if shape == "from":
        head, ref, cfg = f"from transformers import {config_cls}, {layer}\n", layer, config_cls
    elif shape == "from_as":
        head, ref, cfg = f"from transformers import {config_cls}\nfrom transformers import {layer} as Enc\n", "Enc", config_cls
    elif shape == "module_as":
        head, ref, cfg = "import transformers as hf\n", f"hf.{layer}", f"hf.{config_cls}"
    elif shape == "module":
        head, ref, cfg = "import transformers\n", f"transformers.{layer}", f"transformers.{config_cls}"
    elif shape == "models_path":
        head, ref, cfg = f"from transformers import AutoConfig\nfrom {module} import {layer}\n", layer, "AutoConfig"
    else:
        head, ref, cfg = "from transformers import *\n", layer, config_cls
    quote = draw(st.sampled_from(['"', "'"]))
    ckpt_literal = f"{quote}{checkpoint}{quote}"
    use_name = draw(st.booleans())
    prelude = f"CKPT = {ckpt_literal}\n" if use_name else ""
    ckpt = "CKPT" if use_name else ckpt_literal
    extra = draw(st.sampled_from(["", ", output_hidden_states=True"]))
    config_expr = f"{cfg}.from_pretrained({ckpt}{extra})"
    inline = draw(st.booleans())
    keyword = draw(st.booleans())
    config_arg = config_expr if inline else "config"
    args = [f"config={config_arg}" if keyword else config_arg]
    if draw(st.booleans()):
        args.append(f"trainable={draw(st.sampled_from(['False', 'True', 'frozen']))}")
    if draw(st.booleans()):
        args.append(f"name={quote}encoder{quote}")
    multiline = draw(st.booleans())
    comment = draw(st.sampled_from(["", "  # the encoder"]))
    call = f"{ref}(\n    " + ",\n    ".join(args) + ",\n)" if multiline else f"{ref}({', '.join(args)})"
    where = draw(st.sampled_from(["module", "function", "keras"]))
    setup = "" if inline else f"config = {config_expr}\n"
    frozen = "frozen = True\n"
    if where == "module":
        body = f"{frozen}{setup}layer = {call}{comment}\n"
    elif where == "function":
        body = (
            f"def build():\n    {frozen}"
            + "".join(f"    {line}\n" for line in setup.splitlines())
            + "    layer = " + call.replace("\n", "\n    ") + f"{comment}\n    return layer\n"
        )
    else:
        body = (
            "class Model(tf.keras.Model):\n    def __init__(self):\n        super().__init__()\n"
            f"        {frozen}"
            + "".join(f"        {line}\n" for line in setup.splitlines())
            + "        self.layer = " + call.replace("\n", "\n        ") + f"{comment}\n"
        )
    return "import tensorflow as tf\n" + head + prelude + body


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(snippets())
def test_fix_invariants(source: str) -> None:
    found = engine.lint_source(source)
    assert [d.code for d in found] == ["MLL001"], source
    for unsafe in (False, True):
        first = engine.fix_source(source, unsafe=unsafe)
        cst.parse_module(first.source)
        compile(first.source, "<fixed>", "exec")
        again = engine.fix_source(first.source, unsafe=unsafe)
        assert again.source == first.source
        left = engine.lint_source(first.source)
        assert not [d for d in left if d.fix and (unsafe or d.fix.applicability == "safe")]
        if found[0].fix is not None and (unsafe or found[0].fix.applicability == "safe"):
            assert len(first.applied) == 1 and left == [], first.source
            assert ".from_pretrained(" in first.source and "MainLayer(" not in first.source
