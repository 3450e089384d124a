"""MLL003: a main layer in a transformers model subclass not named as checkpoints store it."""

from __future__ import annotations

import re
from typing import Iterator

from lint_mainlayer.rules.base import LIBRARY_PATTERN, Context, Finding, Invalid, Rule
from lint_mainlayer.rules.calls import args_of, has_star_args, string_value
from lint_mainlayer.rules.fixes import name_fix


def keras_default_name(class_name: str) -> str:
    """The name Keras gives an unnamed layer of this class (before uniquifying)."""
    # Keras' own `to_snake_case`.
    intermediate = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", intermediate).lower()


class MainLayerNameMismatch(Rule):
    """Main layer in a model subclass is not named as checkpoints store it.

    ## What it does
    Checks the `name=` of a transformers TF main layer built inside a subclass of a
    transformers TF model (`TFBertPreTrainedModel`, `TFBertModel`, ...): it must be the
    checkpoint prefix, the field under which the base model holds that layer (`bert`,
    `distilbert`, `transformer` for GPT-2, `model` for BART, `roberta` for CamemBERT).

    ## Why is this bad?
    `from_pretrained` matches checkpoint weights to layers by name. A layer named otherwise
    (or not at all: Keras then calls it `tf_bert_main_layer`) matches nothing and keeps
    random weights, while the log still reports that the model was initialized.

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
    Safe: it sets `name=` to the checkpoint prefix. No fix when the layer is held under
    several names (`TFT5MainLayer`: `encoder` and `decoder`). A `name=` that is not a string
    literal, or a call that passes `**kwargs`, is not checked.
    """

    code = "MLL003"
    name = "main-layer-name-mismatch"
    summary = "Main layer in a model subclass is not named as checkpoints store it"
    fixable = "sometimes"
    VALID = (LIBRARY_PATTERN,)
    INVALID = (
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
            if not ctx.in_pretrained_subclass(site) or has_star_args(site.call):
                continue
            fields = site.layer.fields
            if not fields:
                continue
            _, keywords = args_of(site.call)
            name_arg = keywords.get("name")
            if name_arg is None:
                current = f'has no `name=` (Keras names it "{keras_default_name(site.layer.name)}")'
            else:
                value = string_value(name_arg.value)
                if value is None or value in fields:
                    continue
                current = f'is named "{value}"'
            wanted = " or ".join(f'"{f}"' for f in fields)
            message = (
                f"`{site.layer.name}` {current}, but checkpoints store it as {wanted}: "
                "`from_pretrained` leaves it with random weights"
            )
            if len(fields) == 1:
                yield Finding(self.code, message + f'; pass `name="{fields[0]}"`', site.call,
                              name_fix(site, fields[0]), top=site.top)
            else:
                yield Finding(self.code, message + " (no automatic fix: choose the name)", site.call, top=site.top)
