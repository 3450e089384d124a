"""MLL001 and MLL002: a main layer built from a config, with no weight load reaching it."""

from __future__ import annotations

from typing import Iterator

from lint_mainlayer.rules.base import (
    LIBRARY_PATTERN,
    Context,
    Finding,
    Invalid,
    Rule,
    Valid,
)
from lint_mainlayer.rules.facts import Site
from lint_mainlayer.rules.fixes import NoFix, load_fix
from lint_mainlayer.rules.origin import Origin, OriginKind


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


def _findings(ctx: Context, kind: OriginKind, code_: str) -> Iterator[Finding]:
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
        if len(site.alternatives) > 3:
            shown = f"The main layer `{site.callee}`"
        elif site.alternatives:
            shown = " or ".join(f"`{n}`" for n in (layer.name, *site.alternatives))
        if kind == "pretrained":
            source = "a pretrained config"
            if origin.checkpoint is not None:
                source = f"the config of checkpoint `{origin.checkpoint_code(ctx.facts.source.code)}`"
            if origin.caller is not None:
                # PROJECT HOOK (issue 16): the config comes from a caller in another module.
                source += f" that `{origin.caller}` passes"
            message = f"{shown} built from {source} gets random weights: nothing loads them"
        else:
            message = (
                f"{shown} built from {origin.why} gets random weights unless they are "
                "loaded; if the config came from a checkpoint, load through the model"
            )
        if isinstance(plan, NoFix):
            if layer.model_class and layer.field and not site.alternatives:
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
    constructed from a checkpoint's config, when no load of pretrained weights reaches it.
    The config is a checkpoint's when it comes from `XConfig.from_pretrained(...)` or
    `AutoConfig.from_pretrained(...)`, `model.config` of a `from_pretrained` model, or that
    checkpoint's `config.json` read by hand (`XConfig(**json.load(open(...)))`,
    `from_json_file`, `from_dict` of such a dict), directly, through variables, or through
    a parameter whose callers pass it: in the module, or (a parameter no caller in the
    module passes) in the project's other modules. Constructions count however the class
    is reached: an imported name, a variable (`Enc = TFBertMainLayer`), a dict, list or
    tuple of classes, `getattr(transformers, "...")` (or `f"TF{arch}MainLayer"`), a
    subclass in the module, and copies
    that re-create weights (`tf.keras.models.clone_model(model)`,
    `X.from_config(layer.get_config())`). A call in a loop or a comprehension builds
    several layers.

    A load reaches the layer when its *target* holds the layer (the layer, a model or
    container built from it, one of its variables) and its *source* is pretrained:
    `load_weights`/`restore`/`read` of a file the program does not write itself,
    `set_weights`/`assign`/`keras.backend.(batch_)set_value` of weights that are not the
    model's own (`get_weights()` of itself, averaged snapshots, a best epoch) nor another
    random layer's, or a `from_pretrained` layer assigned over it. A layer in a branch that
    the code marks as the no-pretraining path is deliberate, and not flagged: the body of
    `if from_scratch:`/`if not pretrained:`/`if init == "random":`/`if ckpt is None:`, the
    `else` of `if use_pretrained:`, or the code after `if pretrained: return ...`.

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
    The fix loads the checkpoint the analysis traced, never `config.name_or_path` (which
    `XConfig.from_pretrained` leaves empty in transformers 4.x). It is safe when the
    checkpoint is a literal or a name that holds the same value at the call; otherwise it
    is unsafe, and there is no fix when the checkpoint expression is not visible at the
    call. A config traced through a parameter (its default, or a caller) makes it unsafe:
    another caller may pass another config. No fix for a class reached indirectly (a
    variable, a container, `getattr`, a subclass, a copy).

    `trainable=` becomes a statement after the call, because
    `from_pretrained(trainable=False)` freezes only the outer model. The extracted layer is
    named after the model's field (`bert`), so when the module refers to the layer's old
    `name=` (the same string elsewhere, or a `name=` from a constant or variable), the fix
    is unsafe. When one scope builds several layers of one class (a siamese model), or one
    call builds several in a loop or a comprehension, extracting each would name them all
    `bert` and a model holding two fails; the fix then keeps each layer, and its name, and loads the weights into it:
    `left.build(None)` and `left.set_weights(TFBertModel.from_pretrained(...).bert.get_weights())`
    (unsafe when targeting transformers < 4.37, whose `build(None)` may create no weights).
    No fix for a layer the base model holds twice (`TFT5MainLayer`: `encoder` and `decoder`)
    or one that needs more than a config.

    ## Limits
    The analysis is per module (`rules/provenance.py` says what it models), and crosses
    modules only through the project analysis (README, "The project analysis"): calls of
    a module-level function, a top-level class, or a method on an instance of one
    (`trainer.build(config)`), imported from another module of the project, that pass the
    config the construction uses (as its parameter, or handed on inside its module), a
    config handed on through callables of other modules, and config factories of other
    modules. There, a load counts when a caller passes what the call returns to a load, or
    to a loader helper of its own module or of the project, and a caller that loads is not
    a pretrained caller; a helper's `load_weights(h5, by_name=True)` counts only into a
    layer named as the checkpoint's prefix, and its load into an attribute of what it is
    passed (`model.bert = ...`, `model.bert.set_weights(...)`) only into a layer held
    there. Dynamic imports, star imports and installed packages are not followed, nor are
    callers in excluded files, nor a caller's load into what a callable of another module
    passed on. Order counts only in the unit that builds the layer: a
    load in another method, a caller, or a function reading a module-level holder counts
    wherever it is, and a load under an `if` counts as if it ran, unless its path may be
    `None` (`os.environ.get(k)`). A file counts as the program's own when a save in the
    module writes the same path value (literals, `os.path.join`, f-strings, `pathlib` `/`,
    names bound once); a path built by a call it cannot evaluate matches only the same
    expression. `load_weights(h5, by_name=True)` counts only when the layer's `name=`
    (a literal or a constant) is the prefix checkpoints store. Branch intent is read from
    names and literals only: a flag the construction does not depend on is not a signal.
    `getattr(transformers, name)` is seen with a literal name, or an f-string whose
    literal parts pin it to main layers (`f"TF{arch}MainLayer"`), not with any other
    computed name.
    """

    code = "MLL001"
    name = "pretrained-config-without-weights"
    summary = "Main layer built from a pretrained config gets random weights"
    fixable = "sometimes"
    VALID = (
        Valid(
            "loaded-through-the-model",
            'from transformers import BertConfig, TFBertModel\n'
            'config = BertConfig.from_pretrained("bert-base-uncased")\n'
            'bert = TFBertModel.from_pretrained("bert-base-uncased", config=config).bert\n',
        ),
        Valid(
            "set-weights-after",
            'from transformers import BertConfig, TFBertMainLayer\n'
            'config = BertConfig.from_pretrained("bert-base-uncased")\n'
            'bert = TFBertMainLayer(config)\n'
            'bert.set_weights(pretrained.get_weights())\n',
        ),
        Valid(
            "scratch-config",
            'from transformers import BertConfig, TFBertMainLayer\n'
            'bert = TFBertMainLayer(BertConfig(num_hidden_layers=2))\n',
        ),
        Valid(
            "own-class-of-that-name",
            'class TFBertMainLayer:\n'
            '    pass\n'
            'bert = TFBertMainLayer(BertConfig.from_pretrained("x"))\n',
        ),
    )
    INVALID = (
        Invalid(
            "config-variable-trainable",
            'from transformers import BertConfig, TFBertMainLayer\n'
            'config = BertConfig.from_pretrained("bert-base-uncased")\n'
            'bert = TFBertMainLayer(config=config, trainable=False)\n',
            'from transformers import BertConfig, TFBertModel\n'
            'config = BertConfig.from_pretrained("bert-base-uncased")\n'
            'bert = TFBertModel.from_pretrained("bert-base-uncased", config=config).bert\n'
            'bert.trainable = False\n',
        ),
        Invalid(
            "module-alias-inline-config",
            'import transformers as hf\n'
            'bert = hf.TFBertMainLayer(hf.AutoConfig.from_pretrained("bert-base-uncased"))\n',
            'import transformers as hf\n'
            'bert = hf.TFBertModel.from_pretrained("bert-base-uncased", '
            'config=hf.AutoConfig.from_pretrained("bert-base-uncased")).bert\n',
        ),
    )

    def check(self, ctx: Context) -> Iterator[Finding]:
        return _findings(ctx, "pretrained", self.code)


class UnknownConfigWithoutWeights(Rule):
    """Main layer built from a config of unknown origin, and no weights are loaded.

    ## What it does
    Checks for a transformers TF main layer constructed from a config whose origin the
    module does not show (a parameter no caller in the module passes, an attribute, a
    global, a `from_dict` of an unknown dict), when no load of pretrained weights reaches
    the layer (as for MLL001). Layers that a transformers model's `from_pretrained` loads
    are not checked: those built in a `TF*PreTrainedModel` subclass, or in a class of the
    same module that such a subclass constructs (a wrapper layer; MLL003 checks where its
    weights live).

    ## Why is this bad?
    If the config came from a checkpoint, the author almost certainly meant the
    checkpoint's weights, and the layer silently runs with random ones. Training from
    scratch is not flagged: a config built from explicit hyperparameters
    (`BertConfig(vocab_size=...)`), a pretrained config whose architecture the code changes
    (`from_pretrained(ckpt, num_hidden_layers=2)`, or `config.vocab_size = ...` before the
    construction), a parameter every caller in the module passes such a config, and a
    construction on a branch the code marks as the no-pretraining path (the signals are
    listed under MLL001).

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
    As for MLL001. Callers are found by name in the same module (a function's name, a
    class's name for `__init__`, `self.<method>`); when there is none, the project
    analysis looks for callers of a module-level function, a top-level class or a method
    on an instance of one in the project's other modules (also for a parameter that
    reaches the construction through another function of the module): every caller
    passing a config built from hyperparameters (or loading the result) makes it clean,
    one passing a pretrained config makes it MLL001, and otherwise the message names the
    callers seen (`callers seen: pkg/train.py:10 (unknown config: ...)`) or says there is
    no caller in the project. A caller's config is followed through its own module, a
    config factory of another module (`small_config()`), and callers of its own callable
    in further modules. A parameter passed through `*args` or `**kwargs` is unknown.
    """

    code = "MLL002"
    name = "unknown-config-without-weights"
    summary = "Main layer built from a config of unknown origin gets random weights"
    fixable = "sometimes"
    VALID = (
        Valid(
            "wrapper-layer-of-a-model-of-another-family",
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
        ),
        Valid(
            "load-weights-in-the-factory",
            'from transformers import TFBertMainLayer\n'
            'def build(config, path):\n'
            '    bert = TFBertMainLayer(config)\n'
            '    bert.load_weights(path)\n'
            '    return bert\n',
        ),
        LIBRARY_PATTERN,
    )
    INVALID = (
        Invalid(
            "config-parameter",
            'from transformers import TFBertMainLayer\n'
            'def build(config):\n'
            '    return TFBertMainLayer(config)\n',
            'from transformers import TFBertModel\n'
            'def build(config):\n'
            '    return TFBertModel.from_pretrained(config.name_or_path, config=config).bert\n',
        ),
    )

    def check(self, ctx: Context) -> Iterator[Finding]:
        return _findings(ctx, "unknown", self.code)
