"""Each way a weight load reaches a layer, with the load (clean) and without it (flagged)."""

from __future__ import annotations

import textwrap

import pytest

from lint_mainlayer import engine

HEADER = (
    "import tensorflow as tf\n"
    "from transformers import BertConfig, TFBertMainLayer\n"
    'config = BertConfig.from_pretrained("bert-base-uncased")\n'
)

# (id, code with the load marked `# LOAD`) : removing the marked lines must make it flagged.
CASES = {
    "load_weights_on_layer": """
        bert = TFBertMainLayer(config)
        bert.load_weights("bert.h5")  # LOAD
    """,
    "load_weights_on_functional_model": """
        ids = tf.keras.Input(shape=(8,), dtype=tf.int32)
        bert = TFBertMainLayer(config)
        out = bert(ids)[0]
        model = tf.keras.Model(ids, tf.keras.layers.Dense(2)(out[:, 0]))
        model.load_weights("pretrained.h5")  # LOAD
    """,
    "sequential_list": """
        model = tf.keras.Sequential([TFBertMainLayer(config)])
        model.load_weights("pretrained.h5")  # LOAD
    """,
    "sequential_add": """
        model = tf.keras.Sequential()
        model.add(TFBertMainLayer(config))
        model.load_weights("pretrained.h5")  # LOAD
    """,
    "set_weights": """
        bert = TFBertMainLayer(config)
        bert.set_weights(source.get_weights())  # LOAD
    """,
    "variable_assign_loop": """
        bert = TFBertMainLayer(config)
        for variable, value in zip(bert.weights, values):
            variable.assign(value)  # LOAD
    """,
    "batch_set_value": """
        bert = TFBertMainLayer(config)
        tf.keras.backend.batch_set_value(zip(bert.weights, values))  # LOAD
    """,
    "checkpoint_restore_chained": """
        bert = TFBertMainLayer(config)
        tf.train.Checkpoint(encoder=bert).restore(path)  # LOAD
    """,
    "checkpoint_restore_named": """
        bert = TFBertMainLayer(config)
        checkpoint = tf.train.Checkpoint(encoder=bert)
        checkpoint.restore(path)  # LOAD
    """,
    "self_other_method": """
        class Wrapper(tf.keras.Model):
            def __init__(self):
                super().__init__()
                self.bert = TFBertMainLayer(config)

            def restore(self, path):
                self.load_weights(path)  # LOAD
    """,
    "instance_at_module_level": """
        class Wrapper(tf.keras.Model):
            def __init__(self):
                super().__init__()
                self.bert = TFBertMainLayer(config)

        wrapper = Wrapper()
        wrapper.load_weights("w.h5")  # LOAD
    """,
    "subclass_instance": """
        class Wrapper(tf.keras.Model):
            def __init__(self):
                super().__init__()
                self.bert = TFBertMainLayer(config)

        class Special(Wrapper):
            pass

        special = Special()
        special.load_weights("w.h5")  # LOAD
    """,
    "factory_result": """
        def build():
            bert = TFBertMainLayer(config)
            ids = tf.keras.Input(shape=(8,), dtype=tf.int32)
            return tf.keras.Model(ids, bert(ids)[0])

        model = build()
        model.load_weights("w.h5")  # LOAD
    """,
    "helper_loads_parameter": """
        def restore(model, path):
            model.load_weights(path)  # LOAD

        bert = TFBertMainLayer(config)
        restore(bert, "w.h5")
    """,
    "global_loaded_in_function": """
        bert = TFBertMainLayer(config)

        def main():
            bert.load_weights("w.h5")  # LOAD
    """,
}


def _source(body: str, keep_load: bool) -> str:
    lines = textwrap.dedent(body).strip("\n").splitlines()
    if not keep_load:
        lines = [line for line in lines if "# LOAD" not in line]
        # Keep bodies that lost their only statement valid.
        lines = [line if line.strip() else line for line in lines]
        fixed = []
        for i, line in enumerate(lines):
            fixed.append(line)
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            indent = len(line) - len(line.lstrip())
            if line.rstrip().endswith(":") and len(nxt) - len(nxt.lstrip()) <= indent:
                fixed.append(" " * (indent + 4) + "pass")
        lines = fixed
    return HEADER + "\n".join(lines) + "\n"


@pytest.mark.parametrize("body", CASES.values(), ids=CASES.keys())
def test_load_reaches_layer(body: str) -> None:
    assert engine.lint_source(_source(body, keep_load=True)) == []


@pytest.mark.parametrize("body", CASES.values(), ids=CASES.keys())
def test_without_the_load_it_is_flagged(body: str) -> None:
    codes = [d.code for d in engine.lint_source(_source(body, keep_load=False))]
    assert codes == ["MLL001"]


def test_load_before_the_layer_does_not_count() -> None:
    source = HEADER + 'bert = None\nbert.load_weights("x.h5")\nbert = TFBertMainLayer(config)\n'
    assert [d.code for d in engine.lint_source(source)] == ["MLL001"]


@pytest.mark.parametrize(
    "save",
    [
        'model.save_weights("run.h5")',
        'tf.keras.callbacks.ModelCheckpoint(filepath="run.h5")',
        'tf.keras.callbacks.ModelCheckpoint("run.h5", save_weights_only=True)',
    ],
)
def test_loading_the_programs_own_checkpoint_does_not_count(save: str) -> None:
    source = HEADER + f'model = tf.keras.Sequential([TFBertMainLayer(config)])\n{save}\nmodel.load_weights("run.h5")\n'
    assert [d.code for d in engine.lint_source(source)] == ["MLL001"]


def test_own_checkpoint_through_a_shared_variable() -> None:
    source = HEADER + (
        'path = os.path.join(out_dir, "best.h5")\n'
        "model = tf.keras.Sequential([TFBertMainLayer(config)])\n"
        "model.save_weights(path)\n"
        "model.load_weights(path)\n"
    )
    assert [d.code for d in engine.lint_source(source)] == ["MLL001"]
