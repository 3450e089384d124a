"""Where a layer's weights come from: each case is a module and the codes it must give.

One class of the issue per section; several shapes per class. A case is flagged when the
layer runs with random weights, clean when a pretrained load reaches it, it is replaced,
or the module marks it as deliberately random."""

from __future__ import annotations

import ast

import pytest

from lint_mainlayer import engine
from lint_mainlayer.rules.base import Context
from lint_mainlayer.rules.facts import Construction, ModuleFacts, collect
from lint_mainlayer.rules.scope import dotted
from lint_mainlayer.rules.tree import Line
from lint_mainlayer.types import Settings

HEADER = (
    "import os\n"
    "from pathlib import Path\n"
    "import tensorflow as tf\n"
    "from transformers import BertConfig, TFBertMainLayer, TFBertModel\n"
    'CKPT = "bert-base-uncased"\n'
    "config = BertConfig.from_pretrained(CKPT)\n"
)
FUNCTIONAL = (
    "ids = tf.keras.Input(shape=(8,), dtype=tf.int32)\n"
    'bert = TFBertMainLayer(config, name="bert")\n'
    "model = tf.keras.Model(ids, tf.keras.layers.Dense(1)(bert(ids).pooler_output))\n"
)


def codes(source: str) -> list[str]:
    return [d.code for d in engine.lint_source(HEADER + source)]


LOADS = [
    pytest.param(
        "class Classifier(tf.keras.Model):\n"
        "    def __init__(self, config):\n"
        "        super().__init__()\n"
        '        self.bert = TFBertMainLayer(config, name="bert")\n'
        "        self.step = tf.Variable(5, trainable=False)\n"
        "    def reset(self):\n"
        "        self.step.assign(0)\n"
        "model = Classifier(config)\n"
        "model.reset()\n",
        ["MLL001"],
        id="sibling-attribute-assign-is-not-a-load",
    ),
    pytest.param(
        "class Classifier(tf.keras.Model):\n"
        "    def __init__(self, config):\n"
        "        super().__init__()\n"
        '        self.bert = TFBertMainLayer(config, name="bert")\n'
        "        self.step = tf.Variable(5, trainable=False)\n"
        "model = Classifier(config)\n"
        "model.step.assign(3)\n",
        ["MLL001"],
        id="instance-sibling-assign-is-not-a-load",
    ),
    pytest.param(
        FUNCTIONAL + "optimizer = tf.keras.optimizers.Adam(1e-3)\n"
        "model.compile(optimizer=optimizer, loss='mse')\n"
        "optimizer.learning_rate.assign(1e-4)\n",
        ["MLL001"],
        id="optimizer-learning-rate-assign",
    ),
    pytest.param(
        FUNCTIONAL + "model.compile(optimizer='adam', loss='mse')\n"
        "tf.keras.backend.set_value(model.optimizer.lr, 1e-5)\n",
        ["MLL001"],
        id="backend-set-value-of-optimizer-state",
    ),
    pytest.param(
        FUNCTIONAL + "best = None\n"
        "for _ in range(3):\n"
        "    model.fit(x, y)\n"
        "    best, loss = model.get_weights(), 1.0\n"
        "model.set_weights(best)\n",
        ["MLL001"],
        id="set-weights-of-best-epoch",
    ),
    pytest.param(
        FUNCTIONAL + "snapshots = []\n"
        "for _ in range(2):\n"
        "    snapshots.append(model.get_weights())\n"
        "model.set_weights([sum(v) / len(v) for v in zip(*snapshots)])\n",
        ["MLL001"],
        id="set-weights-of-averaged-snapshots",
    ),
    pytest.param(
        FUNCTIONAL + "for variable in model.trainable_weights:\n"
        "    variable.assign(variable * 0.5)\n",
        ["MLL001"],
        id="assign-own-variable-scaled",
    ),
    pytest.param(
        FUNCTIONAL + "bert.set_weights(TFBertModel.from_pretrained(CKPT).bert.get_weights())\n",
        [],
        id="set-weights-from-pretrained-model",
    ),
    pytest.param(
        FUNCTIONAL + "checkpoint = tf.train.Checkpoint(model=model)\n"
        'manager = tf.train.CheckpointManager(checkpoint, os.path.join("out", "ckpts"), max_to_keep=2)\n'
        "checkpoint.restore(manager.latest_checkpoint)\n",
        ["MLL001"],
        id="restore-checkpoint-manager-latest",
    ),
    pytest.param(
        FUNCTIONAL + "checkpoint = tf.train.Checkpoint(model=model)\n"
        'checkpoint.restore(tf.train.latest_checkpoint("out/ckpts"))\n'
        'manager = tf.train.CheckpointManager(checkpoint, directory="out/ckpts")\n',
        ["MLL001"],
        id="restore-latest-checkpoint-of-own-directory",
    ),
    pytest.param(
        FUNCTIONAL + 'OUT = Path("weights")\n'
        'model.save_weights(OUT / "initial.h5")\n'
        'model.load_weights("weights/initial.h5")\n',
        ["MLL001"],
        id="own-file-pathlib-vs-literal",
    ),
    pytest.param(
        FUNCTIONAL + 'OUT = "run"\n'
        'model.save_weights(f"{OUT}/best.h5")\n'
        'model.load_weights(os.path.join(OUT, "best.h5"))\n',
        ["MLL001"],
        id="own-file-fstring-vs-join",
    ),
    pytest.param(
        FUNCTIONAL + 'cb = tf.keras.callbacks.ModelCheckpoint(os.path.join("out", "m.h5"), save_best_only=True)\n'
        'model.load_weights("./out/m.h5")\n',
        ["MLL001"],
        id="own-file-model-checkpoint",
    ),
    pytest.param(
        FUNCTIONAL + "checkpoint = tf.train.Checkpoint(model=model)\n"
        'saved = checkpoint.save(os.path.join("out", "ckpt"))\n'
        "checkpoint.restore(saved)\n",
        ["MLL001"],
        id="restore-the-path-a-save-returned",
    ),
    pytest.param(
        FUNCTIONAL + 'RESUME = os.environ.get("RESUME")\n'
        "if RESUME:\n"
        "    model.load_weights(RESUME)\n",
        ["MLL001"],
        id="resume-path-may-be-none",
    ),
    pytest.param(
        FUNCTIONAL + 'WEIGHTS = os.path.join("output", "w.h5")\n'
        "if os.path.exists(WEIGHTS):\n"
        "    model.load_weights(WEIGHTS)\n"
        "model.save_weights(WEIGHTS)\n",
        ["MLL001"],
        id="restore-if-exists-of-own-file",
    ),
    pytest.param(
        'INIT = "init.h5"\n'
        "def classifier(bert):\n"
        "    ids = tf.keras.Input(shape=(8,), dtype=tf.int32)\n"
        "    return tf.keras.Model(ids, bert(ids).pooler_output)\n"
        "classifier(TFBertModel.from_pretrained(CKPT).bert).save_weights(INIT)\n"
        'bert = TFBertMainLayer(config, name="bert")\n'
        "model = classifier(bert)\n"
        "model.load_weights(INIT)\n",
        [],
        id="file-written-from-pretrained-is-pretrained",
    ),
    pytest.param(
        'pre = TFBertModel.from_pretrained(CKPT)\npre.save_weights("pre.h5")\n'
        + FUNCTIONAL + 'model.load_weights("pre.h5")\n',
        [],
        id="file-written-by-pretrained-name",
    ),
    pytest.param(
        FUNCTIONAL + 'model.load_weights(os.path.join(CKPT, "tf_model.h5"), by_name=True)\n',
        [],
        id="by-name-with-checkpoint-prefix",
    ),
    pytest.param(
        FUNCTIONAL.replace(', name="bert"', "")
        + 'model.load_weights(os.path.join(CKPT, "tf_model.h5"), by_name=True)\n',
        ["MLL001"],
        id="by-name-unnamed-layer",
    ),
    pytest.param(
        FUNCTIONAL.replace('name="bert"', 'name="encoder"')
        + 'model.load_weights(os.path.join(CKPT, "tf_model.h5"), by_name=True, skip_mismatch=True)\n',
        ["MLL001"],
        id="by-name-renamed-layer-skip-mismatch",
    ),
    pytest.param(
        'PREFIX = "bert"\n' + FUNCTIONAL.replace('name="bert"', "name=PREFIX")
        + 'model.load_weights("tf_model.h5", by_name=True)\n',
        [],
        id="by-name-with-constant-name",
    ),
    pytest.param(
        FUNCTIONAL + 'model.load_weights("pretrained.h5")\n',
        [],
        id="load-of-a-file-the-program-does-not-write",
    ),    pytest.param(
        'teacher = TFBertMainLayer(config, name="bert")\n'
        'student = TFBertMainLayer(config, name="bert")\n'
        "student.set_weights(teacher.get_weights())\n",
        ["MLL001", "MLL001"],
        id="weights-copied-from-another-random-layer",
    ),
    pytest.param(
        'teacher = TFBertMainLayer(config, name="bert")\n'
        'teacher.load_weights("pretrained.h5")\n'
        'student = TFBertMainLayer(config, name="bert")\n'
        "student.set_weights(teacher.get_weights())\n",
        [],
        id="weights-copied-from-a-loaded-layer",
    ),
    # A local loader helper whose load has a condition (`Loader.when`): it fills the layer
    # only when the layer's name is the checkpoint's prefix, or sits at the attribute loaded.
    pytest.param(
        "def load_pretrained(m, path):\n"
        "    m.load_weights(path, by_name=True)\n"
        "ids = tf.keras.Input(shape=(8,), dtype=tf.int32)\n"
        "bert = TFBertMainLayer(config)\n"
        "model = tf.keras.Model(ids, bert(ids).pooler_output)\n"
        "load_pretrained(model, 'tf_model.h5')\n",
        ["MLL001"],
        id="by-name-helper-into-an-unnamed-layer",
    ),
    pytest.param(
        "def load_pretrained(m, path):\n"
        "    m.load_weights(path, by_name=True)\n"
        "def warm(m):\n"
        "    load_pretrained(m, 'tf_model.h5')\n"
        + FUNCTIONAL
        + "warm(model)\n",
        [],
        id="by-name-helper-through-a-wrapper-into-the-named-layer",
    ),
    pytest.param(
        "class Classifier(tf.keras.Model):\n"
        "    def __init__(self, config):\n"
        "        super().__init__()\n"
        '        self.bert = TFBertMainLayer(config, name="bert")\n'
        "def load_pretrained(m, ckpt):\n"
        "    m.bert.set_weights(TFBertModel.from_pretrained(ckpt).bert.get_weights())\n"
        "model = Classifier(config)\n"
        "load_pretrained(model, CKPT)\n",
        [],
        id="helper-sets-the-attribute-holding-the-layer",
    ),
    pytest.param(
        "class Classifier(tf.keras.Model):\n"
        "    def __init__(self, config):\n"
        "        super().__init__()\n"
        '        self.bert = TFBertMainLayer(config, name="bert")\n'
        "        self.head = tf.keras.layers.Dense(2)\n"
        "def load_pretrained(m, ckpt):\n"
        "    m.head.set_weights(TFBertModel.from_pretrained(ckpt).bert.get_weights())\n"
        "model = Classifier(config)\n"
        "load_pretrained(model, CKPT)\n",
        ["MLL001"],
        id="helper-sets-another-attribute",
    ),
]


@pytest.mark.parametrize("source, expected", LOADS)
def test_a_load_is_a_load_of_pretrained_weights_into_this_layer(source: str, expected: list[str]) -> None:
    assert codes(source) == expected


CONFIGS = [
    pytest.param(
        "cfg, unused = BertConfig.from_pretrained(CKPT, return_unused_kwargs=True)\nbert = TFBertMainLayer(cfg)\n",
        ["MLL001"],
        id="config-and-unused-kwargs-unpacked",
    ),
    pytest.param(
        "cfg = BertConfig.from_pretrained(CKPT, return_unused_kwargs=True)[0]\nbert = TFBertMainLayer(cfg)\n",
        ["MLL001"],
        id="config-of-the-pair-by-index",
    ),
    pytest.param(
        "cfg = base = BertConfig.from_pretrained(CKPT)\nbert = TFBertMainLayer(cfg)\n",
        ["MLL001"],
        id="chained-assignment",
    ),
    pytest.param(
        "unused, cfg = BertConfig.from_pretrained(CKPT, return_unused_kwargs=True)\nbert = TFBertMainLayer(cfg)\n",
        ["MLL002"],
        id="the-unused-kwargs-are-no-config",
    ),
    pytest.param(
        "cfg, unused = BertConfig.from_pretrained(CKPT, vocab_size=10, return_unused_kwargs=True)\nbert = TFBertMainLayer(cfg)\n",
        [],
        id="unpacked-config-with-a-changed-architecture",
    ),
    pytest.param(
        "import json\n"
        'cfg = BertConfig(**json.load(open(os.path.join(CKPT, "config.json"))))\n'
        "bert = TFBertMainLayer(cfg)\n",
        ["MLL001"],
        id="config-json-read-by-hand",
    ),
    pytest.param(
        "import json\n"
        'with open(Path(CKPT) / "config.json") as f:\n'
        "    raw = json.load(f)\n"
        "bert = TFBertMainLayer(BertConfig.from_dict(raw))\n",
        ["MLL001"],
        id="from-dict-of-a-json-config",
    ),
    pytest.param(
        'bert = TFBertMainLayer(BertConfig.from_json_file(os.path.join(CKPT, "config.json")))\n',
        ["MLL001"],
        id="from-json-file",
    ),
    pytest.param(
        "bert = TFBertMainLayer(BertConfig(**{'vocab_size': 100, 'hidden_size': 32}))\n",
        [],
        id="explicit-hyperparameters-dict",
    ),
    pytest.param(
        "bert = TFBertMainLayer(BertConfig.from_pretrained(CKPT, vocab_size=100))\n",
        [],
        id="from-pretrained-with-changed-vocab",
    ),
    pytest.param(
        "bert = TFBertMainLayer(BertConfig.from_pretrained(CKPT, hidden_dropout_prob=0.2))\n",
        ["MLL001"],
        id="from-pretrained-with-changed-dropout-is-still-pretrained",
    ),
    pytest.param(
        "small = BertConfig.from_pretrained(CKPT)\n"
        "small.num_hidden_layers = 2\n"
        "bert = TFBertMainLayer(small)\n",
        [],
        id="architecture-attribute-changed-before",
    ),
    pytest.param(
        "small = BertConfig.from_pretrained(CKPT)\n"
        "bert = TFBertMainLayer(small)\n"
        "small.num_hidden_layers = 2\n",
        ["MLL001"],
        id="architecture-attribute-changed-after",
    ),
    pytest.param(
        "small = BertConfig.from_pretrained(CKPT, num_hidden_layers=2)\n"
        "bert = TFBertMainLayer(small)\n"
        "bert.set_weights(TFBertModel.from_pretrained(CKPT).bert.get_weights())\n",
        [],
        id="changed-config-then-loaded-anyway",
    ),
    pytest.param(
        "def build_encoder(cfg):\n"
        '    return TFBertMainLayer(cfg, name="bert")\n'
        "encoder = build_encoder(BertConfig.from_pretrained(CKPT))\n",
        ["MLL001"],
        id="parameter-followed-to-pretrained-caller",
    ),
    pytest.param(
        "def build_encoder(cfg):\n"
        '    return TFBertMainLayer(cfg, name="bert")\n'
        "encoder = build_encoder(BertConfig(num_hidden_layers=2))\n"
        "other = build_encoder(cfg=BertConfig(vocab_size=10))\n",
        [],
        id="parameter-every-caller-scratch",
    ),
    pytest.param(
        "class Classifier(tf.keras.Model):\n"
        "    def __init__(self, cfg):\n"
        "        super().__init__()\n"
        '        self.bert = TFBertMainLayer(cfg, name="bert")\n'
        "model = Classifier(BertConfig(hidden_size=64))\n",
        [],
        id="class-parameter-scratch-caller",
    ),
    pytest.param(
        "class Classifier(tf.keras.Model):\n"
        "    def __init__(self, cfg):\n"
        "        super().__init__()\n"
        '        self.bert = TFBertMainLayer(cfg, name="bert")\n'
        "def main(args):\n"
        "    return Classifier(args.config)\n",
        ["MLL002"],
        id="class-parameter-unknown-caller",
    ),
]


@pytest.mark.parametrize("source, expected", CONFIGS)
def test_where_the_config_came_from(source: str, expected: list[str]) -> None:
    assert codes(source) == expected


def test_traced_caller_checkpoint_is_what_the_fix_loads() -> None:
    source = HEADER + (
        "def build_encoder(cfg):\n"
        "    return TFBertMainLayer(cfg)\n"
        "encoder = build_encoder(BertConfig.from_pretrained(CKPT))\n"
    )
    fixed = engine.fix_source(source, unsafe=True).source
    assert "TFBertModel.from_pretrained(CKPT, config=cfg).bert" in fixed
    assert "name_or_path" not in fixed


INTENTS = [
    pytest.param(
        "def make_encoder(from_scratch):\n"
        "    if from_scratch:\n"
        '        return TFBertMainLayer(config, name="bert")\n'
        "    return TFBertModel.from_pretrained(CKPT, config=config).bert\n",
        [],
        id="body-of-if-from-scratch",
    ),
    pytest.param(
        "def make_encoder(args):\n"
        "    if not args.pretrained:\n"
        "        encoder = TFBertMainLayer(config)\n"
        "    else:\n"
        "        encoder = TFBertModel.from_pretrained(CKPT).bert\n"
        "    return encoder\n",
        [],
        id="body-of-if-not-pretrained",
    ),
    pytest.param(
        "def make_encoder(use_pretrained=True):\n"
        "    if use_pretrained:\n"
        "        return TFBertModel.from_pretrained(CKPT).bert\n"
        "    else:\n"
        "        return TFBertMainLayer(config)\n",
        [],
        id="else-of-if-use-pretrained",
    ),
    pytest.param(
        "def make_encoder(pretrained=False):\n"
        "    if pretrained:\n"
        "        return TFBertModel.from_pretrained(CKPT, config=config).bert\n"
        "    return TFBertMainLayer(config)\n",
        [],
        id="factory-default-after-early-return",
    ),
    pytest.param(
        "def make_encoder(init):\n"
        '    if init == "random":\n'
        "        return TFBertMainLayer(config)\n"
        "    return TFBertModel.from_pretrained(CKPT).bert\n",
        [],
        id="init-equals-random",
    ),
    pytest.param(
        "def make_encoder(init):\n"
        '    if init != "pretrained":\n'
        "        return TFBertMainLayer(config)\n"
        "    return TFBertModel.from_pretrained(CKPT).bert\n",
        [],
        id="init-not-equal-pretrained",
    ),
    pytest.param(
        "def make_encoder(args):\n"
        "    if args.init_checkpoint is None:\n"
        "        return TFBertMainLayer(config)\n"
        "    return TFBertModel.from_pretrained(args.init_checkpoint).bert\n",
        [],
        id="checkpoint-is-none",
    ),
    pytest.param(
        "def make_encoder(randomInit):\n"
        "    return TFBertMainLayer(config) if randomInit else TFBertModel.from_pretrained(CKPT).bert\n",
        [],
        id="conditional-expression-camel-case-flag",
    ),
    pytest.param(
        "def make_encoder(use_pretrained):\n"
        "    if use_pretrained:\n"
        "        return TFBertMainLayer(config)\n"
        "    return TFBertModel.from_pretrained(CKPT).bert\n",
        ["MLL001"],
        id="body-of-if-use-pretrained-is-not-deliberate",
    ),
    pytest.param(
        "def make_encoder(from_scratch):\n"
        "    if from_scratch:\n"
        "        print('scratch')\n"
        "    return TFBertMainLayer(config)\n",
        ["MLL001"],
        id="flag-the-construction-ignores",
    ),
    pytest.param(
        "def make_encoder(from_scratch, verbose):\n"
        "    if from_scratch:\n"
        "        if verbose:\n"
        "            print('building')\n"
        "        return TFBertMainLayer(config)\n"
        "    return TFBertModel.from_pretrained(CKPT).bert\n",
        [],
        id="unrelated-inner-branch-keeps-the-outer-signal",
    ),
    pytest.param(
        "def make_encoder(scratch):\n"
        "    if scratch:\n"
        "        return None\n"
        "    return TFBertMainLayer(config)\n",
        ["MLL001"],
        id="after-early-return-of-scratch-is-the-pretrained-path",
    ),
]


@pytest.mark.parametrize("source, expected", INTENTS)
def test_deliberately_random_branches(source: str, expected: list[str]) -> None:
    assert codes(source) == expected


CONSTRUCTIONS = [
    pytest.param(
        "Enc = TFBertMainLayer\nbert = Enc(config)\n",
        ["MLL001"],
        id="class-through-a-variable",
    ),
    pytest.param(
        "class Model(tf.keras.Model):\n"
        "    encoder_class = TFBertMainLayer\n"
        "def build(cls=TFBertMainLayer):\n"
        "    pass\n"
        "Enc = TFBertMainLayer\n"
        "def make():\n"
        "    return Enc(config)\n",
        ["MLL001"],
        id="module-variable-seen-in-a-function",
    ),
    pytest.param(
        "from transformers import TFRobertaMainLayer\n"
        'ENCODERS = {"bert": TFBertMainLayer, "roberta": TFRobertaMainLayer}\n'
        "encoder = ENCODERS[config.model_type](config)\n",
        ["MLL001"],
        id="dict-of-classes-computed-key",
    ),
    pytest.param(
        "from transformers import TFRobertaMainLayer\n"
        'ENCODERS = {"bert": TFBertMainLayer, "roberta": TFRobertaMainLayer}\n'
        'encoder = ENCODERS["bert"](config)\n',
        ["MLL001"],
        id="dict-of-classes-literal-key",
    ),
    pytest.param(
        "from transformers import TFRobertaMainLayer\n"
        "for cls in (TFBertMainLayer, TFRobertaMainLayer):\n"
        "    layer = cls(config)\n",
        ["MLL001"],
        id="loop-over-a-tuple-of-classes",
    ),
    pytest.param(
        "encoders = []\n"
        "for index, cls in enumerate((TFBertMainLayer, TFBertMainLayer)):\n"
        '    encoders.append(cls(config, name=f"encoder_{index}"))\n',
        ["MLL001"],
        id="loop-over-enumerated-classes",
    ),
    pytest.param(
        "CLASSES = [TFBertMainLayer]\nlayer = CLASSES[0](config)\n",
        ["MLL001"],
        id="list-of-classes-indexed",
    ),
    pytest.param(
        "import transformers\n"
        'layer = getattr(transformers, "TFBertMainLayer")(config, name="bert")\n',
        ["MLL001"],
        id="getattr-of-transformers-with-a-literal",
    ),
    pytest.param(
        "import transformers\n"
        "arch = config.model_type.capitalize()\n"
        'layer = getattr(transformers, f"TF{arch}MainLayer")(config)\n',
        ["MLL001"],
        id="getattr-of-transformers-with-a-main-layer-pattern",
    ),
    pytest.param(
        "import transformers\n"
        "arch = config.model_type.capitalize()\n"
        'layer = getattr(transformers, f"TF{arch}Model")(config)\n',
        [],
        id="getattr-with-a-pattern-of-model-classes",
    ),
    pytest.param(
        "import transformers\n"
        'layer = getattr(transformers, "TFBertModel")(config)\n',
        [],
        id="getattr-of-a-model-class-is-not-a-main-layer",
    ),
    pytest.param(
        "class PooledBert(TFBertMainLayer):\n"
        "    def call(self, ids):\n"
        "        return super().call(ids).pooler_output\n"
        'pooled = PooledBert(config, name="bert")\n',
        ["MLL001"],
        id="user-subclass-of-a-main-layer",
    ),
    pytest.param(
        "class PooledBert(TFBertMainLayer):\n"
        "    pass\n"
        "class Deeper(PooledBert):\n"
        "    pass\n"
        'pooled = Deeper(config, name="bert")\n'
        "pooled.set_weights(TFBertModel.from_pretrained(CKPT).bert.get_weights())\n",
        [],
        id="user-subclass-loaded",
    ),
    pytest.param(
        "def helper(x):\n    return x\nlayer = helper(config)\nlayers = [print(i) for i in range(3)]\n",
        [],
        id="plain-function-calls-are-not-constructions",
    ),
    pytest.param(
        "encoders = [TFBertMainLayer(config) for _ in range(2)]\n",
        ["MLL001"],
        id="comprehension-builds-several-layers",
    ),
    pytest.param(
        "encoders = [TFBertMainLayer(config) for _ in range(2)]\n"
        "for encoder in encoders:\n"
        "    encoder.set_weights(TFBertModel.from_pretrained(CKPT).bert.get_weights())\n",
        [],
        id="comprehension-layers-each-loaded",
    ),
]


@pytest.mark.parametrize("source, expected", CONSTRUCTIONS)
def test_every_construction_is_seen(source: str, expected: list[str]) -> None:
    assert codes(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("Enc = TFBertMainLayer\nbert = Enc(config)\n", id="variable"),
        pytest.param("class B(TFBertMainLayer):\n    pass\nbert = B(config)\n", id="subclass"),
    ],
)
def test_classes_reached_indirectly_get_no_fix(source: str) -> None:
    (finding,) = engine.lint_source(HEADER + source)
    assert finding.fix is None and "no automatic fix" in finding.message


def test_a_layer_built_in_a_loop_keeps_its_name() -> None:
    source = HEADER + 'for i in range(2):\n    enc = TFBertMainLayer(config, name=f"bert_{i}")\n'
    fixed = engine.fix_source(source, unsafe=True).source
    assert 'enc = TFBertMainLayer(config, name=f"bert_{i}")' in fixed
    assert "enc.set_weights(TFBertModel.from_pretrained(CKPT, config=config).bert.get_weights())" in fixed


ELSEWHERE = [
    pytest.param(
        "class Classifier(tf.keras.Model):\n"
        "    def __init__(self, config):\n"
        "        super().__init__()\n"
        '        self.bert = TFBertMainLayer(config, name="bert")\n'
        "model = Classifier(config)\n"
        "model.bert = TFBertModel.from_pretrained(CKPT).bert\n",
        [],
        id="field-replaced-on-the-instance",
    ),
    pytest.param(
        "class Classifier(tf.keras.Model):\n"
        "    def __init__(self, config):\n"
        "        super().__init__()\n"
        '        self.bert = TFBertMainLayer(config, name="bert")\n'
        "    def use_pretrained(self):\n"
        "        self.bert = TFBertModel.from_pretrained(CKPT).bert\n"
        "model = Classifier(config)\n",
        [],
        id="field-replaced-in-a-method",
    ),
    pytest.param(
        "class Classifier(tf.keras.Model):\n"
        "    def __init__(self, config):\n"
        "        super().__init__()\n"
        '        self.bert = TFBertMainLayer(config, name="bert")\n'
        "model = Classifier(config)\n"
        "model.head = TFBertModel.from_pretrained(CKPT).bert\n",
        ["MLL001"],
        id="another-field-set-is-not-a-replacement",
    ),
    pytest.param(
        "def load_encoder(model):\n"
        "    source = TFBertModel.from_pretrained(CKPT).bert\n"
        '    model.get_layer("bert").set_weights(source.get_weights())\n'
        + FUNCTIONAL + "load_encoder(model)\n",
        [],
        id="helper-loads-through-get-layer",
    ),
    pytest.param(
        'NAME = "bert"\n' + FUNCTIONAL
        + "model.get_layer(NAME).set_weights(TFBertModel.from_pretrained(CKPT).bert.get_weights())\n",
        [],
        id="get-layer-with-a-constant-name",
    ),
    pytest.param(
        FUNCTIONAL
        + 'model.get_layer("dense").set_weights(TFBertModel.from_pretrained(CKPT).bert.get_weights())\n',
        ["MLL001"],
        id="get-layer-of-another-layer",
    ),
    pytest.param(
        "class Trainer:\n"
        "    def __init__(self, model):\n"
        "        self.model = model\n"
        "    def warm_start(self):\n"
        '        self.model.get_layer("bert").set_weights(TFBertModel.from_pretrained(CKPT).bert.get_weights())\n'
        + FUNCTIONAL + "Trainer(model).warm_start()\n",
        [],
        id="model-handed-to-a-class-that-loads",
    ),
    pytest.param(
        "def load_encoder(model):\n"
        "    model.load_weights('w.h5')\n"
        + FUNCTIONAL,
        ["MLL001"],
        id="loader-never-called",
    ),
]


@pytest.mark.parametrize("source, expected", ELSEWHERE)
def test_replaced_or_loaded_elsewhere(source: str, expected: list[str]) -> None:
    assert codes(source) == expected


COPIES = [
    pytest.param(
        "bert = TFBertModel.from_pretrained(CKPT).bert\n"
        "ids = tf.keras.Input(shape=(8,), dtype=tf.int32)\n"
        "model = tf.keras.Model(ids, bert(ids).pooler_output)\n"
        "clone = tf.keras.models.clone_model(model)\n",
        ["MLL001"],
        id="clone-model-of-a-pretrained-model",
    ),
    pytest.param(
        "bert = TFBertModel.from_pretrained(CKPT).bert\n"
        "ids = tf.keras.Input(shape=(8,), dtype=tf.int32)\n"
        "model = tf.keras.Model(ids, bert(ids).pooler_output)\n"
        "clone = tf.keras.models.clone_model(model)\n"
        "clone.set_weights(model.get_weights())\n",
        [],
        id="clone-model-then-weights-copied",
    ),
    pytest.param(
        "pretrained = TFBertModel.from_pretrained(CKPT).bert\n"
        "copy = TFBertMainLayer.from_config(pretrained.get_config())\n",
        ["MLL001"],
        id="main-layer-from-config-of-a-pretrained-layer",
    ),
    pytest.param(
        FUNCTIONAL + 'model.load_weights("pretrained.h5")\n'
        "copy = tf.keras.Model.from_config(model.get_config())\n",
        ["MLL001"],
        id="model-from-config-of-a-loaded-model",
    ),
    pytest.param(
        "ids = tf.keras.Input(shape=(8,), dtype=tf.int32)\n"
        "model = tf.keras.Model(ids, tf.keras.layers.Dense(2)(ids))\n"
        "clone = tf.keras.models.clone_model(model)\n",
        [],
        id="clone-of-a-model-without-main-layer",
    ),
]


@pytest.mark.parametrize("source, expected", COPIES)
def test_copies_recreate_weights(source: str, expected: list[str]) -> None:
    assert codes(source) == expected


SUBCLASS_HEADER = "from transformers import TFRobertaMainLayer, TFRobertaPreTrainedModel, TFGPT2MainLayer, TFGPT2PreTrainedModel\n"
INIT = (
    "    def __init__(self, config, *inputs, **kwargs):\n"
    "        super().__init__(config, *inputs, **kwargs)\n"
)
BUILD = (
    "    def build(self, input_shape=None):\n"
    "        if self.built:\n"
    "            return\n"
    "        self.built = True\n"
)

SUBCLASSES = [
    pytest.param(
        "class Enc(TFRobertaPreTrainedModel):\n" + INIT
        + '        self.encoders = [TFRobertaMainLayer(config, name="roberta")]\n' + BUILD
        + "        for encoder in self.encoders:\n"
        "            with tf.name_scope(encoder.name):\n"
        "                encoder.build(None)\n",
        [],
        id="list-attribute-built-in-a-loop",
    ),
    pytest.param(
        "class Enc(TFRobertaPreTrainedModel):\n" + INIT
        + '        self.encoders = [TFRobertaMainLayer(config, name="roberta")]\n',
        ["MLL004"],
        id="list-attribute-without-build",
    ),
    pytest.param(
        "class Enc(TFRobertaPreTrainedModel):\n" + INIT
        + "        self.encoders = {}\n"
        + '        self.encoders.append(TFRobertaMainLayer(config, name="roberta"))\n' + BUILD,
        ["MLL004"],
        id="appended-to-attribute-build-misses-it",
    ),
    pytest.param(
        "class Enc(TFRobertaPreTrainedModel):\n" + INIT
        + '        setattr(self, "roberta", TFRobertaMainLayer(config, name="roberta"))\n',
        ["MLL004"],
        id="setattr-literal-without-build",
    ),
    pytest.param(
        "class Enc(TFRobertaPreTrainedModel):\n" + INIT
        + "        for name in ('roberta',):\n"
        + '            setattr(self, name, TFRobertaMainLayer(config, name="roberta"))\n',
        ["MLL004"],
        id="setattr-computed-name-without-build",
    ),
    pytest.param(
        "class Enc(TFRobertaPreTrainedModel):\n" + INIT
        + "        for name in ('roberta',):\n"
        + '            setattr(self, name, TFRobertaMainLayer(config, name="roberta"))\n' + BUILD
        + "        for name in ('roberta',):\n"
        + "            with tf.name_scope(name):\n"
        + "                getattr(self, name).build(None)\n",
        [],
        id="setattr-computed-name-with-a-build",
    ),
    pytest.param(
        "class Enc(TFRobertaPreTrainedModel):\n" + INIT
        + '        self.roberta = TFRobertaMainLayer(config, name="roberta")\n' + BUILD
        + '        with tf.name_scope("roberta"):\n'
        "            self.roberta.build(None)\n",
        [],
        id="build-with-literal-name-scope-equal-to-the-name",
    ),
    pytest.param(
        "class Enc(TFRobertaPreTrainedModel):\n" + INIT
        + '        self.roberta = TFRobertaMainLayer(config, name="roberta")\n' + BUILD
        + '        with tf.name_scope("encoder"):\n'
        "            self.roberta.build(None)\n",
        ["MLL004"],
        id="build-with-another-literal-name-scope",
    ),
    pytest.param(
        'PREFIX = "gpt2"\n'
        "class Enc(TFGPT2PreTrainedModel):\n" + INIT
        + "        self.encoder = TFGPT2MainLayer(config, name=PREFIX)\n" + BUILD
        + "        with tf.name_scope(self.encoder.name):\n"
        "            self.encoder.build(None)\n",
        ["MLL003"],
        id="name-from-a-wrong-module-constant",
    ),
    pytest.param(
        'PREFIX = "transformer"\n'
        "class Enc(TFGPT2PreTrainedModel):\n" + INIT
        + "        self.encoder = TFGPT2MainLayer(config, name=PREFIX)\n" + BUILD
        + "        with tf.name_scope(self.encoder.name):\n"
        "            self.encoder.build(None)\n",
        [],
        id="name-from-a-right-module-constant",
    ),
    pytest.param(
        "class Enc(TFGPT2PreTrainedModel):\n" + INIT
        + '        self.encoder = TFGPT2MainLayer(config, **{"name": "gpt2"})\n' + BUILD
        + "        with tf.name_scope(self.encoder.name):\n"
        "            self.encoder.build(None)\n",
        ["MLL003"],
        id="name-in-a-literal-kwargs-dict",
    ),
    pytest.param(
        "class Wrapper(tf.keras.layers.Layer):\n"
        "    def __init__(self, config, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        '        self.roberta = TFRobertaMainLayer(config, name="roberta")\n'
        "class Enc(TFRobertaPreTrainedModel):\n" + INIT
        + '        self.wrapper = Wrapper(config, name="wrapper")\n' + BUILD
        + "        with tf.name_scope(self.wrapper.name):\n"
        "            self.wrapper.build(None)\n",
        ["MLL003"],
        id="main-layer-inside-a-keras-layer-of-the-same-family",
    ),
]


@pytest.mark.parametrize("source, expected", SUBCLASSES)
def test_subclasses(source: str, expected: list[str]) -> None:
    assert codes(SUBCLASS_HEADER + source) == expected


def test_kwargs_dict_name_gets_no_fix_that_would_duplicate_it() -> None:
    source = HEADER + SUBCLASS_HEADER + (
        "class Enc(TFGPT2PreTrainedModel):\n" + INIT
        + '        self.encoder = TFGPT2MainLayer(config, **{"name": "gpt2"})\n' + BUILD
        + "        with tf.name_scope(self.encoder.name):\n"
        "            self.encoder.build(None)\n"
    )
    (finding,) = engine.lint_source(source)
    assert finding.fix is None


@pytest.mark.parametrize(
    "source",
    [
        pytest.param('bert = TFBertMainLayer(config, name="encoder")\nmodel.get_layer("encoder")\n', id="literal-used-by-get-layer"),
        pytest.param('NAME = "encoder"\nbert = TFBertMainLayer(config, name=NAME)\n', id="name-from-a-constant"),
        pytest.param('bert = TFBertMainLayer(config, name=f"enc_{1}")\n', id="name-from-an-f-string"),
        pytest.param('bert = TFBertMainLayer(config)\nmodel.get_layer("tf_bert_main_layer")\n', id="keras-default-name-used"),
    ],
)
def test_a_fix_that_renames_a_referenced_layer_is_unsafe(source: str) -> None:
    (finding,) = engine.lint_source(HEADER + source)
    assert finding.fix is not None and finding.fix.applicability == "unsafe"
    assert "renamed" in (finding.fix.unsafe_reason or "")


FACTORIES = [
    pytest.param(
        "class Builder:\n"
        "    def make_config(self):\n"
        "        return BertConfig(hidden_size=64, num_hidden_layers=2)\n"
        "    def encoder(self):\n"
        "        return TFBertMainLayer(self.make_config())\n",
        [],
        id="config-built-by-a-method-of-another-class-is-scratch",
    ),
    pytest.param(
        "def small_config():\n"
        "    cfg = BertConfig(vocab_size=100)\n"
        "    return cfg\n"
        "layer = TFBertMainLayer(small_config())\n",
        [],
        id="config-factory-function-scratch",
    ),
    pytest.param(
        "def load_config():\n"
        "    return BertConfig.from_pretrained(CKPT)\n"
        "layer = TFBertMainLayer(load_config())\n",
        ["MLL001"],
        id="config-factory-function-pretrained",
    ),
]


@pytest.mark.parametrize("source, expected", FACTORIES)
def test_config_factories(source: str, expected: list[str]) -> None:
    assert codes(source) == expected


def test_a_module_constant_read_in_a_config_factory_is_the_fixs_checkpoint() -> None:
    source = HEADER + "def load_config():\n    return BertConfig.from_pretrained(CKPT)\nlayer = TFBertMainLayer(load_config())\n"
    (finding,) = engine.lint_source(source)
    assert finding.fix is not None and finding.fix.applicability == "unsafe"
    fixed = engine.fix_source(source, unsafe=True).source
    assert "layer = TFBertModel.from_pretrained(CKPT, config=load_config()).bert" in fixed


def test_a_checkpoint_item_under_a_literal_key_is_repeated_by_the_fix() -> None:
    source = HEADER + 'cfg = BertConfig.from_pretrained(os.environ["CKPT"])\nbert = TFBertMainLayer(cfg)\n'
    fixed = engine.fix_source(source, unsafe=True).source
    assert 'bert = TFBertModel.from_pretrained(os.environ["CKPT"], config=cfg).bert' in fixed
    assert "name_or_path" not in fixed


# The interface other rules build on: any call can be asked about, not only main-layer sites.
MODEL_LEVEL = HEADER + (
    "from transformers import TFBertForSequenceClassification\n"
    "def make(from_scratch):\n"
    "    if from_scratch:\n"
    "        return TFBertForSequenceClassification(config)\n"
    "    return None\n"
    "model = TFBertForSequenceClassification(config)\n"
    "loaded = TFBertForSequenceClassification(config)\n"
    'loaded.load_weights("tf_model.h5")\n'
)


def _model_constructions(facts: ModuleFacts) -> list[Construction]:
    """Calls of a model class, as a model-level rule would collect them (not `facts.sites`)."""
    statements = [s for s in ast.walk(facts.module) if isinstance(s, (ast.Assign, ast.Return, ast.Expr))]
    found = []
    for unit in facts.units:
        for event in unit.calls:
            if dotted(event.node.func) != "TFBertForSequenceClassification":
                continue
            statement = next(s for s in statements if any(c is event.node for c in ast.walk(s)))
            found.append(
                Construction(call=event.node, unit=unit, index=event.index, klass=None,
                             statement=Line((statement,)), assign_target=None)
            )
    return sorted(found, key=lambda c: c.index)


def test_context_answers_for_any_construction() -> None:
    facts = collect(ast.parse(MODEL_LEVEL), MODEL_LEVEL)
    ctx = Context(facts, Settings())
    constructions = _model_constructions(facts)
    in_branch, model, _ = constructions
    assert [ctx.reached(c) for c in constructions] == [False, False, True]
    origins = [ctx.origin(c) for c in constructions]
    assert [o.kind if o else None for o in origins] == ["pretrained"] * 3
    intent = ctx.intent(in_branch)
    assert intent is not None and intent.deliberate
    assert ctx.intent(model) is None


@pytest.mark.parametrize(
    "read",
    [
        pytest.param('with open(os.path.join(CKPT, "config.json")) as f:\n    cfg = BertConfig(**json.load(f))\n', id="with-open-file"),
        pytest.param('cfg = BertConfig.from_dict(json.loads((Path(CKPT) / "config.json").read_text()))\n', id="path-read-text"),
    ],
)
def test_a_config_read_by_hand_is_loaded_from_its_directory(read: str) -> None:
    source = HEADER + "import json\n" + read + "bert = TFBertMainLayer(cfg)\n"
    fixed = engine.fix_source(source, unsafe=True).source
    assert "bert = TFBertModel.from_pretrained(" in fixed
    assert "from_pretrained(f," not in fixed


@pytest.mark.parametrize(
    "path, directory",
    [
        pytest.param('os.path.join(CKPT, "config.json")', "CKPT", id="os-path-join"),
        pytest.param('Path(CKPT) / "config.json"', "Path(CKPT)", id="pathlib"),
        pytest.param('ROOT / "bert" / "config.json"', 'ROOT / "bert"', id="pathlib-nested"),
    ],
)
def test_from_pretrained_of_a_config_file_loads_the_weights_of_its_directory(path: str, directory: str) -> None:
    for config_class, built in (("BertConfig", "TFBertMainLayer(cfg)"), ("AutoConfig", "TFAutoModel.from_config(cfg)")):
        source = (
            HEADER + 'from transformers import AutoConfig, TFAutoModel\nROOT = Path("/models")\n'
            f"cfg = {config_class}.from_pretrained({path})\nbert = {built}\n"
            "ids = tf.keras.Input(shape=(8,), dtype=tf.int32)\nmodel = tf.keras.Model(ids, bert(ids)[0])\n"
        )
        (finding,) = engine.lint_source(source)
        assert f"checkpoint `{directory}`" in finding.message
        if directory == "CKPT":  # a name: the fix repeats it (a compound path is not repeated)
            fixed = engine.fix_source(source).source
            assert ".from_pretrained(CKPT, config=cfg)" in fixed, fixed
        assert "config.json" not in (finding.fix.description if finding.fix else "")


def test_a_config_read_from_an_unknown_path_gets_no_fix() -> None:
    source = HEADER + "import json\ncfg = BertConfig(**json.load(open(some_path)))\nbert = TFBertMainLayer(cfg)\n"
    (finding,) = engine.lint_source(source)
    assert finding.code == "MLL001" and finding.fix is None
