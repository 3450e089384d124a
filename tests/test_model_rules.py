"""MLL005 and MLL006: each signal the rules use, shown by a pair of sources that differ only
in it (the one with the signal is clean, the one without is flagged), and the shapes the
issue lists in every import shape."""

from __future__ import annotations

import pytest

from lint_mainlayer import engine

HEAD = (
    "import logging\n"
    "import tensorflow as tf\n"
    "from transformers import AutoConfig, TFAutoModel, TFAutoModelForMaskedLM, TFBertModel, "
    "TFBertForMaskedLM, TFBertForSequenceClassification\n"
    'config = AutoConfig.from_pretrained("bert-base-uncased")\n'
)


def codes(source: str) -> list[str]:
    return [d.code for d in engine.lint_source(source)]


# (signal, clean source, the same without the signal): the second must be flagged MLL005.
SIGNALS = {
    "architecture change by attribute": (
        "config.num_hidden_layers = 2\nm = TFBertModel(config)\nm.fit(data)\n",
        "config.num_labels = 2\nm = TFBertModel(config)\nm.fit(data)\n",
    ),
    "architecture change in from_pretrained": (
        'small = AutoConfig.from_pretrained("gpt2", n_layer=2)\nm = TFAutoModel.from_config(small)\nm.fit(data)\n',
        'small = AutoConfig.from_pretrained("gpt2", num_labels=2)\nm = TFAutoModel.from_config(small)\nm.fit(data)\n',
    ),
    "architecture change by update": (
        'config.update({"vocab_size": 100})\nm = TFBertModel(config)\nm.fit(data)\n',
        'config.update({"id2label": {}})\nm = TFBertModel(config)\nm.fit(data)\n',
    ),
    "architecture change by setattr": (
        'setattr(config, "num_attention_heads", 4)\nm = TFBertModel(config)\nm.fit(data)\n',
        'setattr(config, "output_hidden_states", True)\nm = TFBertModel(config)\nm.fit(data)\n',
    ),
    "from-scratch log line for a pretraining head": (
        'logging.info("Training new model from scratch")\nm = TFBertForMaskedLM(config)\nm.fit(data)\n',
        'logging.info("Training new model")\nm = TFBertForMaskedLM(config)\nm.fit(data)\n',
    ),
    "from-scratch log line for a pretraining auto class": (
        'logging.info("random init")\nm = TFAutoModelForMaskedLM.from_config(config)\nm.fit(data)\n',
        'logging.info("init")\nm = TFAutoModelForMaskedLM.from_config(config)\nm.fit(data)\n',
    ),
    "other branch loads": (
        "if flag:\n    m = TFAutoModel.from_pretrained(ckpt)\nelse:\n    m = TFAutoModel.from_config(config)\nm.fit(data)\n",
        "if flag:\n    m = make(ckpt)\nelse:\n    m = TFAutoModel.from_config(config)\nm.fit(data)\n",
    ),
    "branch test names the choice": (
        "if args.from_scratch:\n    m = TFBertModel(config)\n    m.fit(data)\n",
        "if args.verbose:\n    m = TFBertModel(config)\n    m.fit(data)\n",
    ),
    "constant inputs only": (
        "m = TFBertModel(config)\nm(tf.ones((1, 8), dtype=tf.int32))\n",
        "m = TFBertModel(config)\nm(tf.ones((1, 8), dtype=tf.int32))\nm(input_ids)\n",
    ),
    "constant inputs of a computed shape": (
        "n = int(sys.argv[1])\nm = TFBertModel(config)\nm(tf.ones((n, 8), dtype=tf.int32))\n",
        "n = int(sys.argv[1])\nm = TFBertModel(config)\nm(tf.convert_to_tensor(n))\n",
    ),
    "random inputs of a computed shape, through a dict": (
        "n, seq = parse()\ninputs = {'input_ids': tf.random.uniform((n, seq), maxval=9, dtype=tf.int32)}\n"
        "m = TFAutoModel.from_config(config)\nm(**inputs)\n",
        "n, seq = parse()\ninputs = {'input_ids': tf.constant(tokenize(n, seq))}\n"
        "m = TFAutoModel.from_config(config)\nm(**inputs)\n",
    ),
    "zeros shaped like data": (
        "m = TFBertModel(config)\nm(np.zeros_like(batch))\n",
        "m = TFBertModel(config)\nm(np.array(batch))\n",
    ),
    "dummy inputs only": (
        "m = TFBertModel(config)\nm(m.dummy_inputs)\n",
        "m = TFBertModel(config)\nm(m.dummy_inputs)\nm.predict(batch)\n",
    ),
    "constant input through a name": (
        "x = tf.zeros((2, 4), dtype=tf.int32)\nm = TFBertModel(config)\nm(x)\n",
        "x = tokenize(text)\nm = TFBertModel(config)\nm(x)\n",
    ),
    "constant input from a module-level constant": (
        "IDS = [[1, 2, 3]]\ndef bench():\n    m = TFBertModel(config)\n    x = tf.constant(IDS, dtype=tf.int32)\n"
        "    return m(input_ids=x)\n",
        "IDS = load()\ndef bench():\n    m = TFBertModel(config)\n    x = tf.constant(IDS, dtype=tf.int32)\n"
        "    return m(input_ids=x)\n",
    ),
    "export and conversion only": (
        'm = TFBertModel(config)\nm.save_pretrained("out")\ntf.saved_model.save(m, "saved")\n'
        "tf.lite.TFLiteConverter.from_keras_model(m).convert()\n",
        'm = TFBertModel(config)\nm.save_pretrained("out")\ntrain(m)\n',
    ),
    "never used": (
        "m = TFBertModel(config)\nm.summary()\n",
        "m = TFBertModel(config)\nm.summary()\nmodels = [m]\n",
    ),
    "weights loaded afterwards": (
        'm = TFBertModel(config)\nm.load_weights("pretrained.h5")\nm.fit(data)\n',
        'm = TFBertModel(config)\nm.save_weights("pretrained.h5")\nm.fit(data)\n',
    ),
    "set_weights from a loaded model": (
        "m = TFBertModel(config)\nm.set_weights(TFBertModel.from_pretrained(ckpt).get_weights())\nm.fit(data)\n",
        "m = TFBertModel(config)\nm.get_weights()\nm.fit(data)\n",
    ),
    "the instance only a receiver of from_pretrained": (
        'm = TFBertModel(config).from_pretrained("bert-base-uncased")\nm.fit(data)\n',
        'm = TFBertModel(config).bert\nm.fit(data)\n',
    ),
    "the instance only a receiver of from_pretrained, returned": (
        "def build(ckpt):\n    return TFBertForSequenceClassification(config).from_pretrained(ckpt)\n",
        "def build(ckpt):\n    return TFBertForSequenceClassification(config)\n",
    ),
    "the instance only a receiver of from_pretrained, passed on": (
        "train(TFAutoModel.from_config(config).from_pretrained(ckpt), data)\n",
        "train(TFAutoModel.from_config(config), data)\n",
    ),
    "loaded into the same name afterwards": (
        'm = TFBertModel(config)\nm = m.from_pretrained("bert-base-uncased")\nm.fit(data)\n',
        'm = TFBertModel(config)\nn = m.from_config(config)\nm.fit(data)\n',
    ),
}


@pytest.mark.parametrize(("clean", "flagged"), SIGNALS.values(), ids=SIGNALS.keys())
def test_signal_keeps_a_model_clean(clean: str, flagged: str) -> None:
    assert "MLL005" not in codes(HEAD + clean)
    assert "MLL005" in codes(HEAD + flagged)


def test_pretraining_head_alone_is_not_deliberate() -> None:
    # Only with a from-scratch line or an architecture change is a pretraining head deliberate.
    assert "MLL005" in codes(HEAD + "m = TFBertForMaskedLM(config)\nm.fit(data)\n")
    # A task head is flagged even when the module says "from scratch".
    source = HEAD + 'logging.info("from scratch")\nm = TFBertForSequenceClassification(config)\nm.fit(data)\n'
    assert "MLL005" in codes(source)


def test_use_through_self_in_another_method_is_seen() -> None:
    source = HEAD + (
        "class Trainer:\n"
        "    def __init__(self):\n"
        "        self.model = TFBertModel(config)\n"
        "    def step(self, batch):\n"
        "        return self.model(batch)\n"
    )
    assert "MLL005" in codes(source)
    assert "MLL005" not in codes(source.replace("self.model(batch)", "self.model(tf.ones((1, 2)))"))


def test_only_pretrained_configs_are_checked() -> None:
    source = "from transformers import BertConfig, TFBertModel\nm = TFBertModel({})\nm.fit(data)\n"
    assert codes(source.format("BertConfig(num_hidden_layers=2)")) == []
    assert codes(source.format("config")) == []
    assert codes(source.format('BertConfig.from_pretrained("bert-base-uncased")')) == ["MLL005"]


def test_shadowed_model_class_is_not_a_transformers_model() -> None:
    source = (
        "from transformers import AutoConfig\n"
        'config = AutoConfig.from_pretrained("bert-base-uncased")\n'
        "class TFBertModel:\n    pass\nm = TFBertModel(config)\nm.fit(data)\n"
    )
    assert codes(source) == []
    assert codes(source.replace("class TFBertModel:\n    pass\n", "from transformers import TFBertModel\n")) == ["MLL005"]


def test_discarded_from_pretrained_needs_a_model_instance() -> None:
    base = "from transformers import AutoTokenizer, TFBertModel\n"
    assert codes(base + 'tok = AutoTokenizer.from_pretrained("x")\ntok.from_pretrained("y")\n') == []
    assert codes(base + 'def f(model):\n    model.from_pretrained("y")\n') == []
    assert codes(base + 'model = TFBertModel.from_pretrained("x")\nmodel.from_pretrained("y")\n') == ["MLL006"]


def test_discarded_fix_is_unsafe_when_the_old_instance_is_used_before() -> None:
    base = 'from transformers import TFBertModel\nm = TFBertModel.from_pretrained("x")\n{}m.from_pretrained("y")\n'
    safe = engine.lint_source(base.format(""))
    assert safe[0].fix is not None and safe[0].fix.applicability == "safe"
    unsafe = engine.lint_source(base.format("print(m.name)\n"))
    assert unsafe[0].fix is not None and unsafe[0].fix.applicability == "unsafe"
    assert engine.fix_source(base.format(""), unsafe=False).source.endswith('m = m.from_pretrained("y")\n')


def test_constructor_fix_keeps_positional_and_keyword_arguments() -> None:
    source = HEAD + 'm = TFBertForSequenceClassification(config, extra, name="clf")\nm.fit(data)\n'
    fixed = engine.fix_source(source).source
    assert 'TFBertForSequenceClassification.from_pretrained("bert-base-uncased", extra, config=config, name="clf")' in fixed
