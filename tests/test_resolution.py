"""A call counts only when its callee resolves to a transformers main layer."""

from __future__ import annotations

import pytest

from lint_mainlayer import engine

CONFIG = 'config = BertConfig.from_pretrained("bert-base-uncased")\n'

FLAGGED = {
    "from_import": "from transformers import BertConfig, TFBertMainLayer\n" + CONFIG + "TFBertMainLayer(config)\n",
    "from_import_as": "from transformers import BertConfig\nfrom transformers import TFBertMainLayer as L\n" + CONFIG + "L(config)\n",
    "import_as": "import transformers as hf\nfrom transformers import BertConfig\n" + CONFIG + "hf.TFBertMainLayer(config)\n",
    "import_plain": "import transformers\nfrom transformers import BertConfig\n" + CONFIG + "transformers.TFBertMainLayer(config)\n",
    "models_path": "from transformers import BertConfig\nfrom transformers.models.bert.modeling_tf_bert import TFBertMainLayer\n" + CONFIG + "TFBertMainLayer(config)\n",
    "legacy_path": "from transformers import BertConfig\nfrom transformers.modeling_tf_bert import TFBertMainLayer\n" + CONFIG + "TFBertMainLayer(config)\n",
    "module_import": "import transformers.models.bert.modeling_tf_bert as mb\nfrom transformers import BertConfig\n" + CONFIG + "mb.TFBertMainLayer(config)\n",
    "star": "from transformers import *\n" + CONFIG + "TFBertMainLayer(config)\n",
    "multiline": "from transformers import (\n    BertConfig,\n    TFBertMainLayer,\n)\n" + CONFIG + "TFBertMainLayer(\n    config,\n)\n",
    "import_in_function": "from transformers import BertConfig\n" + CONFIG + "def f():\n    from transformers import TFBertMainLayer\n    return TFBertMainLayer(config)\n",
    "class_body_name_not_seen_in_method": "from transformers import BertConfig, TFBertMainLayer\n" + CONFIG + "class A:\n    TFBertMainLayer = None\n    def f(self):\n        return TFBertMainLayer(config)\n",
    "nested_function_sees_outer_import": "from transformers import BertConfig\n" + CONFIG + "def outer():\n    from transformers import TFBertMainLayer as L\n    def inner():\n        return L(config)\n    return inner\n",
    "import_after_use_in_module": CONFIG + "def f():\n    return TFBertMainLayer(config)\nfrom transformers import BertConfig, TFBertMainLayer\n",
    "deprecated_model": "from transformers import TransfoXLConfig, TFTransfoXLMainLayer\nc = TransfoXLConfig.from_pretrained('transfo-xl-wt103')\nTFTransfoXLMainLayer(c)\n",
}

CLEAN = {
    "local_class": "class TFBertMainLayer:\n    pass\n" + CONFIG + "TFBertMainLayer(config)\n",
    "local_mainlayer_suffix": "from transformers import BertConfig\nclass TFMyMainLayer:\n    pass\n" + CONFIG + "TFMyMainLayer(config)\n",
    "string": 'from transformers import TFBertMainLayer\ns = "TFBertMainLayer(config)"\n',
    "comment": "from transformers import TFBertMainLayer\n# TFBertMainLayer(config)\n",
    "isinstance": "from transformers import TFBertMainLayer\nisinstance(x, TFBertMainLayer)\n",
    "import_only": "from transformers import TFBertMainLayer\n",
    "other_package": "from mylib import TFBertMainLayer, BertConfig\n" + CONFIG + "TFBertMainLayer(config)\n",
    "relative_import": "from .modeling import TFBertMainLayer\nfrom transformers import BertConfig\n" + CONFIG + "TFBertMainLayer(config)\n",
    "shadowed": "from transformers import BertConfig, TFBertMainLayer\n" + CONFIG + "def f(TFBertMainLayer):\n    return TFBertMainLayer(config)\n",
    "except_as_shadows": "from transformers import BertConfig, TFBertMainLayer\n" + CONFIG + "def f():\n    try:\n        pass\n    except Exception as TFBertMainLayer:\n        TFBertMainLayer(config)\n",
    "local_assignment_later_shadows": "from transformers import BertConfig, TFBertMainLayer\n" + CONFIG + "def f():\n    TFBertMainLayer(config)\n    TFBertMainLayer = None\n",
    "no_marker": "import os\nprint(os.getcwd())\n",
}


@pytest.mark.parametrize("source", FLAGGED.values(), ids=FLAGGED.keys())
def test_import_shapes_resolve(source: str) -> None:
    assert [d.code for d in engine.lint_source(source)] == ["MLL001"]


@pytest.mark.parametrize("source", CLEAN.values(), ids=CLEAN.keys())
def test_not_a_transformers_main_layer(source: str) -> None:
    assert engine.lint_source(source) == []
