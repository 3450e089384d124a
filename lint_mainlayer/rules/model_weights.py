"""MLL005 and MLL006: whole models that keep random weights."""

from __future__ import annotations

import ast
from typing import Iterator

from lint_mainlayer.rules.base import Context, Finding, Invalid, Rule, Valid
from lint_mainlayer.rules.calls import args_of
from lint_mainlayer.rules.facts import ModuleFacts
from lint_mainlayer.rules.fixes import (
    AppendAfter,
    FixPlan,
    NoFix,
    Piece,
    ReplaceCall,
    Writer,
)
from lint_mainlayer.rules.models import (
    ModelSite,
    architecture_changed,
    in_no_pretraining_branch,
    replaced_by_load,
    says_from_scratch,
    weights_used,
)
from lint_mainlayer.rules.origin import Origin, is_pure, reusable_at
from lint_mainlayer.rules.scope import Unit, dotted
from lint_mainlayer.rules.tree import Line, identifiers, walk

# `from_pretrained`'s own parameters: a constructor keyword of the same name would not reach
# the model.
_FROM_PRETRAINED_PARAMETERS = frozenset(
    {
        "pretrained_model_name_or_path", "cache_dir", "ignore_mismatched_sizes", "force_download",
        "local_files_only", "token", "revision", "use_safetensors", "from_pt", "resume_download",
        "proxies", "output_loading_info", "trust_remote_code", "subfolder", "mirror",
        "load_weight_prefix", "use_auth_token", "tf_to_pt_weight_rename", "_from_auto", "_from_pipeline",
        "_commit_hash",
    }
)


def _deliberate(site: ModelSite, ctx: Context, origin: Origin) -> bool:
    """Random initialisation on purpose, or weights nothing depends on."""
    facts = ctx.facts
    if architecture_changed(site, facts, origin.call):
        return True
    if site.is_pretraining_head and says_from_scratch(facts):
        return True
    if in_no_pretraining_branch(site, facts):
        return True
    return not weights_used(site, facts)


def _local_loaded(site: ModelSite, ctx: Context) -> bool:
    """Whether the module calls `from_pretrained` on the site's local class (or a relative)."""
    if site.local is None:
        return False
    graph = ctx.facts.graph
    names = graph.subclasses_of(site.local.name) | {c.name for c in graph.ancestry(site.local)}
    wanted = {f"{name}.from_pretrained" for name in names}
    return any(dotted(e.node.func) in wanted for unit in ctx.facts.units for e in unit.calls)


def model_fix(site: ModelSite, origin: Origin, facts: ModuleFacts) -> FixPlan | NoFix:
    """`Cls(config, ...)`/`Auto.from_config(config, ...)` -> `Cls.from_pretrained(ckpt, ..., config=config, ...)`."""
    call = site.call
    write = Writer(facts.source, site)
    write.args(call)
    code = write.code
    positional, keywords = args_of(call)
    config = keywords.get("config") or (positional[0] if positional else None)
    if config is None:
        return NoFix("the call passes no config")
    for name in keywords:
        # `from_config(trust_remote_code=...)` means what it means to `from_pretrained`.
        if name in _FROM_PRETRAINED_PARAMETERS and not (site.how == "from_config" and name == "trust_remote_code"):
            return NoFix(f"`{name}=` means something else to `from_pretrained`")
    unsafe: list[str] = []
    args = write.args(call)
    if any(a.star for a in args):
        unsafe.append("`from_pretrained` takes some keywords itself; `**` arguments may hold one")
    if origin.checkpoint is None:
        return NoFix("the config's `from_pretrained` names no checkpoint")
    checkpoint = origin.checkpoint_code(code)
    if origin.caller is not None:
        # PROJECT HOOK (issue 16): one caller in another module passed this config.
        unsafe.append(f"the config is {origin.why}: another call may pass another config")
    if origin.via_default:
        if not is_pure(config.value):
            return NoFix("the checkpoint cannot be known here")
        checkpoint = f"{code(config.value)}.name_or_path"
        unsafe.append(f"{origin.why} defaults to a pretrained config, but callers may pass another")
    elif not reusable_at(origin, site):
        if is_pure(origin.checkpoint):
            unsafe.append(f"`{checkpoint}` may not hold the same checkpoint here")
        elif is_pure(config.value):
            checkpoint = f"{code(config.value)}.name_or_path"
            unsafe.append("the checkpoint is read back from the config's `name_or_path`")
        else:
            return NoFix("the checkpoint expression cannot be repeated here")
    func = call.func
    receiver = code(func.value) if site.how == "from_config" and isinstance(func, ast.Attribute) else code(func)
    rest = [a for a in args if a is not config]
    first = args[0] if args else None
    checkpoint_arg = Piece(checkpoint, None, "")
    if first is not None:
        checkpoint_arg = Piece(checkpoint, write.dedent(first.comma), "")
    # Positional arguments after the config go to the constructor through `*model_args`.
    others_positional = [a for a in rest if a.keyword is None and not a.star]
    others = [a for a in rest if a not in others_positional]
    config_kw = write.keyword("config", code(config.value), config)
    pieces = [checkpoint_arg, *(write.piece(a) for a in others_positional), config_kw, *(write.piece(a) for a in others)]
    new_call = write.call(call, pieces, func=f"{receiver}.from_pretrained")
    # Each argument without its comma, as libcst printed `arg.with_changes(comma=DEFAULT)`.
    shown_args = ", ".join(
        [checkpoint]
        + [p.body + p.whitespace_after for p in [*(write.piece(a) for a in others_positional), config_kw, *(write.piece(a) for a in others)]]
    )
    shown = f"{receiver}.from_pretrained({shown_args})"
    return FixPlan(
        ReplaceCall(call, new_call),
        description=f"Load the pretrained weights: `{shown}`",
        unsafe_reason="; ".join(unsafe) or None,
        suggestion=shown,
    )


class PretrainedConfigModelWithoutWeights(Rule):
    """Model built from a pretrained config gets random weights.

    ## What it does
    Checks for a transformers TF model built from a config that came from
    `from_pretrained` (`XConfig`, `AutoConfig`, or a loaded model's `model.config`), when no
    weight load reaches the model:
    - a transformers model class called with it: base models and task heads alike
      (`TFBertModel(config)`, `TFBertForSequenceClassification(config)`), also when a field
      is taken from it (`TFBertModel(config).bert`) or when it replaces a loaded model
      (`model = TFBertModel(model.config)`);
    - `TFAutoModel.from_config(config)` and every `TFAutoModelFor*.from_config(config)`;
    - a subclass of a transformers model defined in the module and called directly
      (`MyModel(config)`), when the module never calls its `from_pretrained`.

    Deliberate random initialisation is not flagged: a config whose architecture is
    changed (`config.num_hidden_layers = 4`, `from_pretrained(ckpt, n_layer=2)`,
    `config.update({"hidden_size": ...})`); a pretraining head (`ForMaskedLM`, `ForCausalLM`,
    `ForPreTraining`, `ForConditionalGeneration`, `LMHeadModel`, their auto classes) in a
    module that says it trains from scratch (a string such as "Training new model from
    scratch"); a call in one branch of an `if` whose other branch loads a model with
    `from_pretrained`, or whose test names the choice (`scratch`, `pretrain`, `random`,
    `init`, `checkpoint`, `name_or_path`, `resume`); and a model bound to a name that is
    later loaded into (`model = model.from_pretrained(...)`), or built only to call
    `from_pretrained` on (`TFBertModel(config).from_pretrained(ckpt)` returns a new, loaded
    model). Nor is a model whose weights nothing depends on: one never trained or run on
    data (only called on constant inputs such as `tf.ones(...)` of any shape, random
    tensors, or `model.dummy_inputs`, saved, converted, summarised), or never used. A model trained (`fit`, a call on data), run (`predict`, `evaluate`, `generate`),
    returned, stored, or handed to another function is checked. Models built inside a
    transformers model subclass (a composite model's parts) are loaded by its
    `from_pretrained` and are not checked.

    ## Why is this bad?
    Only `from_pretrained` loads weights: a model class's constructor and the auto classes'
    `from_config` build the architecture with random weights, whatever checkpoint the
    config came from. The model trains and predicts, and nothing warns.

    ## Example
    ```python
    config = AutoConfig.from_pretrained("bert-base-uncased", num_labels=3)
    model = TFBertForSequenceClassification(config)
    model.fit(train_dataset)
    ```

    Use instead:
    ```python
    config = AutoConfig.from_pretrained("bert-base-uncased", num_labels=3)
    model = TFBertForSequenceClassification.from_pretrained("bert-base-uncased", config=config)
    model.fit(train_dataset)
    ```

    ## Fix safety
    The fix calls the same class's `from_pretrained` (the auto class's, for `from_config`)
    with the config's checkpoint and `config=`; further positional and keyword arguments
    are kept, since `from_pretrained` hands them to the constructor. It is safe when the
    checkpoint is a literal or a name that holds the same value at the call, unsafe when it
    may not (or when it is read back from the config's `name_or_path`, or a `**` argument
    might hold a keyword `from_pretrained` takes itself), and there is none when the
    checkpoint cannot be known there or a keyword means something else to `from_pretrained`.

    ## Limits
    As for MLL001: loads are followed through the module, and through the project's other
    modules for a model built from a parameter of a module-level function, a top-level
    class or a method on an instance of one (its callers' configs and loads, by the
    project analysis). Uses are found by the
    name the model is bound to, in the code that built it (the class, for `self.model`).
    """

    code = "MLL005"
    name = "pretrained-config-model-without-weights"
    summary = "Model built from a pretrained config gets random weights"
    fixable = "sometimes"
    VALID = (
        Valid(
            'loaded-with-from-pretrained',
            'from transformers import AutoConfig, TFBertForSequenceClassification\n'
            'config = AutoConfig.from_pretrained("bert-base-uncased")\n'
            'model = TFBertForSequenceClassification.from_pretrained("bert-base-uncased", config=config)\n'
            'model.fit(data)\n',
        ),
        Valid(
            'architecture-change',
            'from transformers import AutoConfig, TFBertModel\n'
            'config = AutoConfig.from_pretrained("bert-base-uncased")\n'
            'config.num_hidden_layers = 2\n'
            'model = TFBertModel(config)\n'
            'model.fit(data)\n',
        ),
        Valid(
            'language-model-from-scratch',
            'import logging\n'
            'from transformers import AutoConfig, TFAutoModelForMaskedLM\n'
            'config = AutoConfig.from_pretrained("bert-base-uncased")\n'
            'logging.info("Training new model from scratch")\n'
            'model = TFAutoModelForMaskedLM.from_config(config)\n'
            'model.fit(data)\n',
        ),
        Valid(
            'no-pretraining-branch',
            'from transformers import AutoConfig, TFAutoModel\n'
            'config = AutoConfig.from_pretrained("bert-base-uncased")\n'
            'if args.checkpoint:\n'
            '    model = TFAutoModel.from_pretrained(args.checkpoint, config=config)\n'
            'else:\n'
            '    model = TFAutoModel.from_config(config)\n'
            'model.fit(data)\n',
        ),
        Valid(
            'latency-on-constant-inputs',
            'import tensorflow as tf\n'
            'from transformers import AutoConfig, TFBertModel\n'
            'config = AutoConfig.from_pretrained("bert-base-uncased")\n'
            'model = TFBertModel(config)\n'
            'model(tf.ones((1, 128), dtype=tf.int32))\n'
            'model.save_pretrained("out")\n',
        ),
        Valid(
            'weights-loaded-after',
            'from transformers import AutoConfig, TFBertModel\n'
            'config = AutoConfig.from_pretrained("bert-base-uncased")\n'
            'model = TFBertModel(config)\n'
            'model.load_weights("tf_model.h5")\n'
            'model.fit(data)\n',
        ),
    )
    INVALID = (
        Invalid(
            'task-head-constructor',
            'from transformers import AutoConfig, TFBertForSequenceClassification\n'
            'config = AutoConfig.from_pretrained("bert-base-uncased", num_labels=3)\n'
            'model = TFBertForSequenceClassification(config)\n'
            'model.fit(data)\n',
            'from transformers import AutoConfig, TFBertForSequenceClassification\n'
            'config = AutoConfig.from_pretrained("bert-base-uncased", num_labels=3)\n'
            'model = TFBertForSequenceClassification.from_pretrained("bert-base-uncased", config=config)\n'
            'model.fit(data)\n',
        ),
        Invalid(
            'auto-from-config-inline',
            'import transformers as hf\n'
            'def build():\n'
            '    return hf.TFAutoModel.from_config(hf.AutoConfig.from_pretrained("bert-base-uncased"))\n',
            'import transformers as hf\n'
            'def build():\n'
            '    return hf.TFAutoModel.from_pretrained("bert-base-uncased", config=hf.AutoConfig.from_pretrained("bert-base-uncased"))\n',
        ),
        Invalid(
            'local-subclass-built-directly',
            'from transformers import AutoConfig, TFBertPreTrainedModel, TFBertMainLayer\n'
            'class Encoder(TFBertPreTrainedModel):\n'
            '    def __init__(self, config, *inputs, **kwargs):\n'
            '        super().__init__(config, *inputs, **kwargs)\n'
            '        self.bert = TFBertMainLayer(config, name="bert")\n'
            'encoder = Encoder(AutoConfig.from_pretrained("bert-base-uncased"))\n'
            'encoder.fit(data)\n',
            'from transformers import AutoConfig, TFBertPreTrainedModel, TFBertMainLayer\n'
            'class Encoder(TFBertPreTrainedModel):\n'
            '    def __init__(self, config, *inputs, **kwargs):\n'
            '        super().__init__(config, *inputs, **kwargs)\n'
            '        self.bert = TFBertMainLayer(config, name="bert")\n'
            'encoder = Encoder.from_pretrained("bert-base-uncased", config=AutoConfig.from_pretrained("bert-base-uncased"))\n'
            'encoder.fit(data)\n',
        ),
    )

    def check(self, ctx: Context) -> Iterator[Finding]:
        for site in ctx.models:
            if site.how not in ("constructor", "from_config"):
                continue
            if ctx.loaded_by_pretrained_model(site) or _local_loaded(site, ctx):
                continue
            origin = ctx.origin(site)
            if origin is None or origin.kind != "pretrained":
                continue
            if ctx.reached(site) or replaced_by_load(site) or _deliberate(site, ctx, origin):
                continue
            source = "a pretrained config"
            if origin.checkpoint is not None:
                source = f"the config of checkpoint `{origin.checkpoint_code(ctx.facts.source.code)}`"
            if origin.caller is not None:
                # PROJECT HOOK (issue 16): the config comes from a caller in another module.
                source += f" that `{origin.caller}` passes"
            built = "`.from_config`" if site.how == "from_config" else "a constructor"
            message = f"`{site.class_name}` built by {built} from {source} gets random weights: only `from_pretrained` loads them"
            if site.local is not None:
                message += f" (the module never calls `{site.local.name}.from_pretrained`)"
            plan = model_fix(site, origin, ctx.facts)
            if isinstance(plan, NoFix):
                yield Finding(self.code, f"{message} (no automatic fix: {plan.reason})", site.call, top=site.top)
            else:
                yield Finding(self.code, f"{message}; use `{plan.suggestion}`", site.call, plan, top=site.top)


def _instance_binding(site: ModelSite, ctx: Context) -> ModelSite | None:
    """The model construction the receiver of `site` (`model` in `model.from_pretrained`)
    was last bound to before it, in its unit or an enclosing one, or in the class's methods
    for `self.x`."""
    name = site.callee
    constructions = {id(m.call): m for m in ctx.models if m.how != "instance_from_pretrained"}
    units: list[tuple[Unit, int | None]] = []
    unit: Unit | None = site.unit
    limit: int | None = site.index
    while unit is not None:
        if unit.kind != "class":
            units.append((unit, limit))
        unit, limit = unit.parent, None
    if name.startswith("self.") and site.klass is not None:
        units += [(method, None) for method in site.klass.methods.values() if method is not site.unit]
    for unit, before in units:
        binds = [b for b in unit.binds if name in b.targets and (before is None or b.index < before)]
        if binds:
            value = binds[-1].value
            if value is not None and id(value) in constructions and len(binds[-1].targets) == 1:
                return constructions[id(value)]
            return None
        if "." not in name and name in unit.params:
            return None
    return None


def _mentions_between(unit: Unit, start: Line, stop: Line, root: str, facts: ModuleFacts) -> tuple[bool, bool]:
    """Whether `root` is mentioned in `unit` after the statement line `start` and before
    `stop`, and whether `stop` is in the unit at all."""
    source = facts.source
    begin = source.end(start.body[-1])
    end = source.start(stop.body[0])
    inside = any(node is stop.body[0] for node in walk(unit.node))
    if not inside:
        return False, False
    for node in walk(unit.node):
        if not hasattr(node, "lineno") and not isinstance(node, ast.arg):
            continue
        if root not in identifiers(node):
            continue
        at = source.start(node)
        if isinstance(node, ast.Attribute):
            at = source.end(node) - len(node.attr)
        if begin <= at < end:
            return True, True
    return False, True


def discard_fix(site: ModelSite, built: ModelSite, facts: ModuleFacts) -> FixPlan | NoFix:
    """`model.from_pretrained(...)` -> `model = model.from_pretrained(...)`."""
    statement = site.statement
    if statement is None or len(statement.body) != 1:
        return NoFix("the call shares its line with other statements")
    name = site.callee
    if name == "self":
        return NoFix("`self` cannot be rebound")
    write = Writer(facts.source, site)
    source = facts.source
    small = statement.body[0]
    line_end = source.starts[small.end_lineno - 1] + len(source.lines[small.end_lineno - 1])  # type: ignore[operator]
    # The statement's line with the call bound to the name (its comment stays).
    replacement = f"{name} = " + write.text(source.start(small), line_end)
    shown = f"{name} = {write.code(site.call)}"
    unsafe = None
    if built.unit is not site.unit or built.statement is None:
        unsafe = f"`{name}` is built elsewhere: code before this line may use the old instance"
    else:
        used, done = _mentions_between(site.unit, built.statement, statement, name.partition(".")[0], facts)
        if used or not done:
            unsafe = f"code before this line uses the old `{name}`, which keeps its random weights"
    return FixPlan(
        AppendAfter(statement, (), replacement=replacement),
        description=f"Keep the loaded model: `{shown}`",
        unsafe_reason=unsafe,
        suggestion=shown,
    )


class DiscardedFromPretrained(Rule):
    """`from_pretrained` called on a model instance, and its result thrown away.

    ## What it does
    Checks for `model.from_pretrained(...)` as a statement of its own, where `model` holds
    a transformers TF model (built by a model class, an auto class, or a subclass of the
    module, in the same function, an enclosing one, or for `self.model` a method of the
    same class).

    ## Why is this bad?
    `from_pretrained` is a class method: it builds and returns a *new* model with the
    pretrained weights, and leaves the instance it is called on as it was. The result is
    thrown away, and `model` keeps its random weights.

    ## Example
    ```python
    model = TFBertForSequenceClassification(config)
    model.from_pretrained("bert-base-uncased")
    model.fit(train_dataset)
    ```

    Use instead:
    ```python
    model = TFBertForSequenceClassification(config)
    model = model.from_pretrained("bert-base-uncased")
    model.fit(train_dataset)
    ```

    ## Fix safety
    The fix assigns the result to the instance's name. It is safe only when nothing
    between the model's construction and that line mentions the name (code there would
    still see the old, random instance); otherwise, or when the model is built in another
    function, it is unsafe. No fix on `self` or on a line with several statements.
    """

    code = "MLL006"
    name = "discarded-from-pretrained"
    summary = "`from_pretrained` called on a model instance, and its result thrown away"
    fixable = "sometimes"
    VALID = (
        Valid(
            'result-assigned',
            'from transformers import TFBertModel\n'
            'model = TFBertModel(config)\n'
            'model = model.from_pretrained("bert-base-uncased")\n',
        ),
        Valid(
            'class-form',
            'from transformers import TFBertModel\n'
            'TFBertModel.from_pretrained("bert-base-uncased")\n',
        ),
        Valid(
            'not-a-model',
            'tokenizer.from_pretrained("bert-base-uncased")\n',
        ),
    )
    INVALID = (
        Invalid(
            'instance-call-thrown-away',
            'from transformers import TFBertModel\n'
            'model = TFBertModel(config)\n'
            'model.from_pretrained("bert-base-uncased")\n'
            'model.fit(data)\n',
            'from transformers import TFBertModel\n'
            'model = TFBertModel(config)\n'
            'model = model.from_pretrained("bert-base-uncased")\n'
            'model.fit(data)\n',
        ),
    )

    def check(self, ctx: Context) -> Iterator[Finding]:
        for site in ctx.models:
            if site.how != "instance_from_pretrained":
                continue
            built = _instance_binding(site, ctx)
            if built is None:
                continue
            message = (
                f"`{site.callee}.from_pretrained(...)` returns a new `{built.class_name}` and the result is "
                f"thrown away: `{site.callee}` keeps its weights"
            )
            plan = discard_fix(site, built, ctx.facts)
            if isinstance(plan, NoFix):
                yield Finding(self.code, f"{message} (no automatic fix: {plan.reason})", site.call, top=site.top)
            else:
                yield Finding(self.code, f"{message}; use `{plan.suggestion}`", site.call, plan, top=site.top)
