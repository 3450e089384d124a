"""MLL003: a main layer in a transformers model subclass not named as checkpoints store it."""

from __future__ import annotations

import ast
from typing import Iterator

from lint_mainlayer.rules.base import LIBRARY_PATTERN, Context, Finding, Invalid, Rule
from lint_mainlayer.rules.calls import args_of, has_star_args, string_value
from lint_mainlayer.rules.facts import Site
from lint_mainlayer.rules.fixes import keras_default_name, name_fix
from lint_mainlayer.rules.provenance import layer_name
from lint_mainlayer.rules.scope import dotted
from lint_mainlayer.rules.tree import call_args


class MainLayerNameMismatch(Rule):
    """Main layer in a model subclass is not named as checkpoints store it.

    ## What it does
    Checks the `name=` of a transformers TF main layer built inside a subclass of a
    transformers TF model (`TFBertPreTrainedModel`, `TFBertModel`, ...): it must be the
    checkpoint prefix, the field under which the base model holds that layer (`bert`,
    `distilbert`, `transformer` for GPT-2, `model` for BART, `roberta` for CamemBERT).

    It also checks a main layer built inside a Keras layer of the module (a wrapper) that a
    model subclass of the *same* family stores (`self.wrapper = Wrapper(config)` in a
    `TFRobertaPreTrainedModel` subclass).

    ## Why is this bad?
    `from_pretrained` matches checkpoint weights to layers by name. A layer named otherwise
    (or not at all: Keras then calls it `tf_bert_main_layer`) matches nothing and keeps
    random weights, while the log still reports that the model was initialized. Inside a
    wrapper layer, its weights live under `wrapper/roberta/...`, which a checkpoint's
    `roberta/...` never reaches. (A model of another family that nests a main layer, as
    DPR nests BERT, loads its own checkpoints, which store that nesting: not flagged.)

    ## Example
    ```python
    class Classifier(TFDistilBertPreTrainedModel):
        def __init__(self, config, *inputs, **kwargs):
            super().__init__(config, *inputs, **kwargs)
            self.encoder = TFDistilBertMainLayer(config, name="bert")
    ```

    Use instead:
    ```python
            self.encoder = TFDistilBertMainLayer(config, name="distilbert")
    ```

    ## Fix safety
    Safe: it sets `name=` to the checkpoint prefix. The name is read from a string literal,
    a module constant (`name=PREFIX`) or a literal `**{"name": ...}`; the fix replaces a
    constant argument by the literal, and is not offered for a name in `**{...}` (adding
    `name=` would pass it twice). No fix when the layer is held under several names
    (`TFT5MainLayer`: `encoder` and `decoder`), nor for a layer nested in a wrapper (store
    the main layer on the model itself). A name computed otherwise, or a call that passes
    other `**kwargs`, is not checked.

    ## Limits
    The wrapper check looks one level deep: a model subclass that stores an instance of the
    wrapper class through a direct call (`self.x = Wrapper(...)`).
    """

    code = "MLL003"
    name = "main-layer-name-mismatch"
    summary = "Main layer in a model subclass is not named as checkpoints store it"
    fixable = "sometimes"
    VALID = (LIBRARY_PATTERN,)
    INVALID = (
        Invalid(
            "main-layer-inside-a-wrapper-of-the-same-family",
            'import tensorflow as tf\n'
            'from transformers import TFRobertaMainLayer, TFRobertaPreTrainedModel\n'
            'class Wrapper(tf.keras.layers.Layer):\n'
            '    def __init__(self, config, **kwargs):\n'
            '        super().__init__(**kwargs)\n'
            '        self.roberta = TFRobertaMainLayer(config, name="roberta")\n'
            'class Encoder(TFRobertaPreTrainedModel):\n'
            '    def __init__(self, config, *inputs, **kwargs):\n'
            '        super().__init__(config, *inputs, **kwargs)\n'
            '        self.wrapper = Wrapper(config, name="wrapper")\n',
        ),
        Invalid(
            "another-architectures-name",
            'from transformers import TFDistilBertMainLayer, TFDistilBertPreTrainedModel\n'
            'class Enc(TFDistilBertPreTrainedModel):\n'
            '    def __init__(self, config, *inputs, **kwargs):\n'
            '        super().__init__(config, *inputs, **kwargs)\n'
            '        self.encoder = TFDistilBertMainLayer(config, name="bert")\n',
            'from transformers import TFDistilBertMainLayer, TFDistilBertPreTrainedModel\n'
            'class Enc(TFDistilBertPreTrainedModel):\n'
            '    def __init__(self, config, *inputs, **kwargs):\n'
            '        super().__init__(config, *inputs, **kwargs)\n'
            '        self.encoder = TFDistilBertMainLayer(config, name="distilbert")\n',
        ),
        Invalid(
            "unnamed",
            'from transformers import TFAlbertMainLayer, TFAlbertPreTrainedModel\n'
            'class Enc(TFAlbertPreTrainedModel):\n'
            '    def __init__(self, config):\n'
            '        super().__init__(config)\n'
            '        self.albert = TFAlbertMainLayer(config)\n',
            'from transformers import TFAlbertMainLayer, TFAlbertPreTrainedModel\n'
            'class Enc(TFAlbertPreTrainedModel):\n'
            '    def __init__(self, config):\n'
            '        super().__init__(config)\n'
            '        self.albert = TFAlbertMainLayer(config, name="albert")\n',
        ),
    )

    def check(self, ctx: Context) -> Iterator[Finding]:
        for site in ctx.facts.sites:
            fields = site.layer.fields
            # A copy, or a class that may be one of several (`ENCODERS[kind]`): fields unknown.
            if not fields or site.copy_of is not None or site.alternatives:
                continue
            if not ctx.in_pretrained_subclass(site):
                nested = _nested_in(ctx, site)
                if nested is not None:
                    yield Finding(self.code, nested, site.call, top=site.top)
                continue
            literal_kwargs = _literal_kwargs(site.call)
            if has_star_args(site.call) and literal_kwargs is None:
                continue
            _, keywords = args_of(site.call)
            value = layer_name(site)
            if value is None and "name" not in keywords and "name" not in (literal_kwargs or ()):
                current = f'has no `name=` (Keras names it "{keras_default_name(site.layer.name)}")'
            else:
                if value is None or value in fields:
                    continue
                current = f'is named "{value}"'
            wanted = " or ".join(f'"{f}"' for f in fields)
            message = (
                f"`{site.layer.name}` {current}, but checkpoints store it as {wanted}: "
                "`from_pretrained` leaves it with random weights"
            )
            if len(fields) == 1 and literal_kwargs is None:
                yield Finding(self.code, message + f'; pass `name="{fields[0]}"`', site.call,
                              name_fix(site, fields[0], ctx.facts), top=site.top)
            elif len(fields) == 1:
                yield Finding(self.code, message + f'; name it "{fields[0]}" (no automatic fix: the name is in `**{{...}}`)',
                              site.call, top=site.top)
            else:
                yield Finding(self.code, message + " (no automatic fix: choose the name)", site.call, top=site.top)


def _literal_kwargs(call: ast.Call) -> set[str] | None:
    """The keys of `**{...}` dict literals when those are the call's only star arguments."""
    keys: set[str] = set()
    stars = [a for a in call_args(call) if a.star]
    if not stars or any(a.star != "**" or not isinstance(a.value, ast.Dict) for a in stars):
        return None
    for arg in stars:
        assert isinstance(arg.value, ast.Dict)
        for element in arg.value.keys:
            key = string_value(element) if element is not None else None
            if key is None:
                return None
            keys.add(key)
    return keys


def _nested_in(ctx: Context, site: Site) -> str | None:
    """Why a layer is out of the checkpoint's reach when it sits in a Keras layer of the
    module that a model subclass of the same family holds; else None."""
    klass = site.klass
    graph = ctx.facts.graph
    if klass is None or site.unit.owner is not klass:
        return None
    for name in sorted(graph.pretrained_model_classes):
        model = graph.classes[name]
        if graph.pretrained_base(model) != site.layer.pretrained_class:
            continue
        for method in model.methods.values():
            for bind in method.binds:
                value = bind.value
                if isinstance(value, ast.Call) and dotted(value.func) == klass.name and len(bind.targets) == 1:
                    holder = bind.targets[0].removeprefix("self.")
                    fields = " or ".join(f"`{f}/...`" for f in site.layer.fields)
                    return (
                        f"`{site.layer.name}` is held by `{klass.name}`, which `{name}` stores as "
                        f"`{bind.targets[0]}`: its weights live under `{holder}/...`, while checkpoints "
                        f"store them under {fields}, so `from_pretrained` leaves it with random weights "
                        f"(no automatic fix: store the main layer on `{name}` itself)"
                    )
    return None
