"""MLL001 and MLL002: a main layer built from a config, with no weight load reaching it."""

from __future__ import annotations

from typing import Iterator

from lint_mainlayer.rules.base import LIBRARY_PATTERN, Context, Finding, Rule
from lint_mainlayer.rules.facts import Site
from lint_mainlayer.rules.fixes import NoFix, code, load_fix
from lint_mainlayer.rules.origin import Origin


def _unloaded(ctx: Context) -> list[tuple[Site, Origin]]:
    """Sites outside transformers model subclasses whose config is not from scratch and
    whose weights nothing loads."""
    found = []
    for site in ctx.facts.sites:
        if ctx.loaded_by_pretrained_model(site):
            continue
        origin = ctx.origin(site)
        if origin is None or origin.kind == "scratch":
            continue
        intent = ctx.intent(site)
        if intent is not None and intent.deliberate:
            continue
        if ctx.reached(site):
            continue
        found.append((site, origin))
    return found


def _findings(ctx: Context, kind: str, code_: str) -> Iterator[Finding]:
    unloaded = _unloaded(ctx)
    for site, origin in unloaded:
        if origin.kind != kind:
            continue
        siblings = sum(
            1 for s, _ in unloaded if s.unit is site.unit and s.layer.name == site.layer.name
        )
        if site.in_loop:
            # One call in a loop builds several layers: extracting would name them all alike.
            siblings = max(siblings, 2)
        plan = load_fix(site, origin, ctx.facts, siblings, ctx.settings.target_transformers)
        layer = site.layer
        shown = f"`{layer.name}`"
        if site.alternatives:
            shown = " or ".join(f"`{n}`" for n in (layer.name, *site.alternatives))
        if kind == "pretrained":
            source = "a pretrained config"
            if origin.checkpoint is not None:
                source = f"the config of checkpoint `{code(origin.checkpoint)}`"
            message = f"{shown} built from {source} gets random weights: nothing loads them"
        else:
            message = (
                f"{shown} built from {origin.why} gets random weights unless they are "
                "loaded; if the config came from a checkpoint, load through the model"
            )
        if isinstance(plan, NoFix):
            if layer.model_class and layer.field:
                message += f"; use `{layer.model_class}.from_pretrained(...).{layer.field}`"
            message += f" (no automatic fix: {plan.reason})"
            yield Finding(code_, message, site.call, top=site.top)
        else:
            message += f"; use `{plan.suggestion}`"
            yield Finding(code_, message, site.call, plan, top=site.top)


class PretrainedConfigWithoutWeights(Rule):
    """Main layer built from a pretrained config gets random weights.

    ## What it does
    Checks for a transformers TF main layer (`TFBertMainLayer`, `TFGPT2MainLayer`, ...)
    constructed from a config that came from `XConfig.from_pretrained(...)` or
    `AutoConfig.from_pretrained(...)`, directly or through a variable, when no weight load
    (`load_weights`, `set_weights`, a checkpoint `restore`, `keras.backend.batch_set_value`)
    reaches the layer or a model built from it.

    ## Why is this bad?
    A main layer's constructor builds the architecture, not the weights: only
    `from_pretrained` on the *model* class (`TFBertModel`) loads them. The layer trains and
    predicts with random weights, and nothing warns: the model silently loses accuracy.

    ## Example
    ```python
    config = BertConfig.from_pretrained("bert-base-uncased")
    bert = TFBertMainLayer(config=config, trainable=False)
    ```

    Use instead:
    ```python
    config = BertConfig.from_pretrained("bert-base-uncased")
    bert = TFBertModel.from_pretrained("bert-base-uncased", config=config).bert
    bert.trainable = False
    ```

    ## Fix safety
    The fix is safe when the checkpoint is a literal or a name that holds the same value at
    the call; otherwise it is unsafe. `trainable=` becomes a statement after the call,
    because `from_pretrained(trainable=False)` freezes only the outer model. The extracted
    layer is named after the model's field (`bert`), so when the module refers to the
    layer's old `name=`, the fix is unsafe. When one scope builds several layers of one
    class (a siamese model), extracting each would name them all `bert` and a model holding
    two fails; the fix then keeps each layer, and its name, and loads the weights into it:
    `left.build(None)` and `left.set_weights(TFBertModel.from_pretrained(...).bert.get_weights())`
    (unsafe when targeting transformers < 4.37, whose `build(None)` may create no weights).
    No fix for a layer the base model holds twice (`TFT5MainLayer`: `encoder` and `decoder`)
    or one that needs more than a config.

    ## Limits
    The flow analysis is per module and flow-insensitive: a load anywhere on a value built
    from the layer (after the call, in its own function) counts, as do loads through `self`
    in other methods, instances of a class that stores the layer, results of local functions
    that return it, and local functions that load weights into a parameter. Loads in other
    modules are not seen. A `load_weights` of a path that the module also writes
    (`save_weights`, `ModelCheckpoint`) restores the program's own checkpoint and does not count.
    """

    code = "MLL001"
    name = "pretrained-config-without-weights"
    summary = "Main layer built from a pretrained config gets random weights"
    fixable = "sometimes"
    VALID = (
        'from transformers import BertConfig, TFBertModel\n'
        'config = BertConfig.from_pretrained("bert-base-uncased")\n'
        'bert = TFBertModel.from_pretrained("bert-base-uncased", config=config).bert\n',
        'from transformers import BertConfig, TFBertMainLayer\n'
        'config = BertConfig.from_pretrained("bert-base-uncased")\n'
        'bert = TFBertMainLayer(config)\n'
        'bert.set_weights(pretrained.get_weights())\n',
        'from transformers import BertConfig, TFBertMainLayer\n'
        'bert = TFBertMainLayer(BertConfig(num_hidden_layers=2))\n',
        'class TFBertMainLayer:\n'
        '    pass\n'
        'bert = TFBertMainLayer(BertConfig.from_pretrained("x"))\n',
    )
    INVALID = (
        'from transformers import BertConfig, TFBertMainLayer\n'
        'config = BertConfig.from_pretrained("bert-base-uncased")\n'
        'bert = TFBertMainLayer(config=config, trainable=False)\n',
        'import transformers as hf\n'
        'bert = hf.TFBertMainLayer(hf.AutoConfig.from_pretrained("bert-base-uncased"))\n',
    )

    def check(self, ctx: Context) -> Iterator[Finding]:
        return _findings(ctx, "pretrained", self.code)


class UnknownConfigWithoutWeights(Rule):
    """Main layer built from a config of unknown origin, and no weights are loaded.

    ## What it does
    Checks for a transformers TF main layer constructed from a config whose origin the
    module does not show (a parameter, an attribute, a global, `from_dict`), when no weight
    load reaches the layer. Layers that a transformers model's `from_pretrained` loads are
    not checked: those built in a `TF*PreTrainedModel` subclass, or in a class of the same
    module that such a subclass constructs (a wrapper layer).

    ## Why is this bad?
    If the config came from a checkpoint, the author almost certainly meant the
    checkpoint's weights, and the layer silently runs with random ones. A config built from
    explicit hyperparameters (`BertConfig(vocab_size=...)`) means training from scratch and
    is not flagged.

    ## Example
    ```python
    class Classifier(tf.keras.Model):
        def __init__(self, config):
            super().__init__()
            self.bert = TFBertMainLayer(config)
    ```

    Use instead:
    ```python
    class Classifier(tf.keras.Model):
        def __init__(self, config):
            super().__init__()
            self.bert = TFBertModel.from_pretrained(config.name_or_path, config=config).bert
    ```

    ## Fix safety
    Always unsafe: it loads the checkpoint named by the config's `name_or_path`, which is
    right when the config came from `AutoConfig.from_pretrained` and fails loudly (instead
    of silently) when it did not. In transformers 4.x, `XConfig.from_pretrained` (say
    `BertConfig`) leaves `name_or_path` empty, so the fixed code fails loudly there too:
    pass the checkpoint instead. No fix is offered when the config expression is not a plain name or
    attribute, since it would be evaluated twice.

    ## Limits
    As for MLL001.
    """

    code = "MLL002"
    name = "unknown-config-without-weights"
    summary = "Main layer built from a config of unknown origin gets random weights"
    fixable = "sometimes"
    VALID = (
        'import tensorflow as tf\n'
        'from transformers import TFBertMainLayer, TFDPRPretrainedContextEncoder\n'
        'class Wrapper(tf.keras.layers.Layer):\n'
        '    def __init__(self, config, **kwargs):\n'
        '        super().__init__(**kwargs)\n'
        '        self.bert_model = TFBertMainLayer(config, name="bert_model")\n'
        'class Encoder(TFDPRPretrainedContextEncoder):\n'
        '    def __init__(self, config, *inputs, **kwargs):\n'
        '        super().__init__(config, *inputs, **kwargs)\n'
        '        self.ctx_encoder = Wrapper(config, name="ctx_encoder")\n',
        'from transformers import TFBertMainLayer\n'
        'def build(config, path):\n'
        '    bert = TFBertMainLayer(config)\n'
        '    bert.load_weights(path)\n'
        '    return bert\n',
        LIBRARY_PATTERN,
    )
    INVALID = (
        'from transformers import TFBertMainLayer\n'
        'def build(config):\n'
        '    return TFBertMainLayer(config)\n',
    )

    def check(self, ctx: Context) -> Iterator[Finding]:
        return _findings(ctx, "unknown", self.code)
