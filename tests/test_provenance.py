"""Where a layer's weights come from: each case is a module and the codes it must give.

One class of the issue per section; several shapes per class. A case is flagged when the
layer runs with random weights, clean when a pretrained load reaches it, it is replaced,
or the module marks it as deliberately random."""

from __future__ import annotations

import pytest

from lint_mainlayer import engine

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
    ),
]


@pytest.mark.parametrize("source, expected", LOADS)
def test_a_load_is_a_load_of_pretrained_weights_into_this_layer(source: str, expected: list[str]) -> None:
    assert codes(source) == expected
