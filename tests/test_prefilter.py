"""The prefilter only ever over-approximates the rules: whatever it skips, the full libcst
rules find nothing in. Checked on the fixtures, on transformers' own source and on
generated sources; plus the cases each stage must keep, and that skipping imports no libcst."""

from __future__ import annotations

from collections.abc import Callable

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from lint_mainlayer import engine, prefilter, registry
from lint_mainlayer.rules import ALL_RULES
from lint_mainlayer.types import Diagnostic

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@contextmanager
def _without_prefilter() -> Iterator[None]:
    with mock.patch.object(prefilter, "needs_rules", lambda source: True):
        yield


def full_rules(source: str) -> list[Diagnostic]:
    """The rules' findings with the prefilter switched off ([] when libcst cannot parse)."""
    with _without_prefilter():
        return list(engine.analyse(source).diagnostics)


def test_every_registry_name_contains_the_marker() -> None:
    # Stage 1 skips sources without the marker: sound only while this holds.
    assert all(prefilter.MARKER in name for name in registry.load())


def test_file_noqa_is_honoured_by_the_rules_themselves(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stage 1 skips such files; the rules must agree without it.
    monkeypatch.setattr(prefilter, "needs_rules", lambda source: True)
    source = "# Lint-MainLayer: NOQA\nfrom transformers import TFBertMainLayer\nTFBertMainLayer(c)\n"
    assert engine.lint_source(source) == []
    assert engine.lint_source(source.replace("NOQA", "checked")) != []


def _fixture_sources() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*.py"))


@pytest.mark.parametrize("path", _fixture_sources(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixtures_skipped_only_when_the_rules_find_nothing(path: Path) -> None:
    source = path.read_text("utf-8")
    if not prefilter.needs_rules(source):
        assert full_rules(source) == []
    if path.name == "input.py" and "# error:" in source:
        assert prefilter.needs_rules(source)


INLINE = [
    *(pytest.param(case.code, False, id=f"{rule.code}-{case.name}") for rule in ALL_RULES for case in rule.VALID),
    *(pytest.param(case.code, True, id=f"{rule.code}-{case.name}") for rule in ALL_RULES for case in rule.INVALID),
]


@pytest.mark.parametrize(("source", "invalid"), INLINE)
def test_rule_cases_skipped_only_when_the_rules_find_nothing(source: str, invalid: bool) -> None:
    # A new rule's INVALID cases must survive the prefilter: the prefilter assumes every
    # finding is about a call that constructs a main layer imported from transformers.
    if invalid:
        assert prefilter.needs_rules(source)
    elif not prefilter.needs_rules(source):
        assert full_rules(source) == []


def _transformers_files() -> list[Path]:
    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    return sorted(p for p in root.rglob("*.py") if b"MainLayer" in p.read_bytes())


@pytest.mark.slow
@pytest.mark.skipif(not _transformers_files(), reason="transformers is not installed")
def test_transformers_source_skipped_only_when_the_rules_find_nothing() -> None:
    files = _transformers_files()
    skipped = [p for p in files if not prefilter.needs_rules(p.read_text("utf-8"))]
    # transformers defines its main layers and imports relatively: nearly all are skipped.
    assert len(skipped) >= len(files) - 3 and len(files) >= 60
    flagged = {p.name: full_rules(p.read_text("utf-8")) for p in skipped}
    assert {name: found for name, found in flagged.items() if found} == {}


# -- each stage keeps what it must -------------------------------------------------------

KEPT = {
    "from import": "from transformers import TFBertMainLayer\nTFBertMainLayer(c)\n",
    "alias": "from transformers import TFBertMainLayer as BL\nBL(c)\n",
    "in function": "def f(c):\n    from transformers import TFBertMainLayer as BL\n    return BL(c)\n",
    "module alias": "import transformers as hf\nhf.TFBertMainLayer(c)\n",
    "module path": "import transformers.models.bert.modeling_tf_bert as m\nm.TFBertMainLayer(c)\n",
    "dotted import": "import transformers.models.bert\ntransformers.models.bert.modeling_tf_bert.TFBertMainLayer(c)\n",
    "from module": "from transformers.models.bert import modeling_tf_bert as m\nm.TFBertMainLayer(c)\n",
    "star": "from transformers import *\nTFBertMainLayer(c)\n",
    "star attribute": "from transformers import *\nmodels.bert.modeling_tf_bert.TFBertMainLayer(c)\n",
    "comma": "import os, transformers\ntransformers.TFBertMainLayer(c)\n",
    "continuation": "from \\\n    transformers import TFBertMainLayer\nTFBertMainLayer(c)\n",
    "after semicolon": "x = 1; from transformers import TFBertMainLayer\nTFBertMainLayer(c)\n",
    "after a string on a comment-like line": '"""\n# x """; from transformers import TFBertMainLayer\nTFBertMainLayer(c)\n',
    "ellipsis statement": "...; from transformers import TFBertMainLayer\nTFBertMainLayer(c)\n",
    "old mac newlines": "# c\rfrom transformers import TFBertMainLayer\rTFBertMainLayer(c)\r",
    "parenthesized": "from transformers import (\n    # a comment\n    TFBertMainLayer,\n)\nTFBertMainLayer(c)\n",
    "ast rejects": "from transformers import TFBertMainLayer\nTFBertMainLayer(c)\nprint 1\n",
}


@pytest.mark.parametrize("source", KEPT.values(), ids=KEPT.keys())
def test_kept(source: str) -> None:
    assert prefilter.needs_rules(source)


SKIPPED = {
    "no marker": "from transformers import TFBertModel\nTFBertModel(c)\n",
    "file noqa": "# lint-mainlayer: noqa\nfrom transformers import TFBertMainLayer\nTFBertMainLayer(c)\n",
    "relative import": "from .modeling_tf_bert import TFBertMainLayer\nTFBertMainLayer(c)\n",
    "defined here": "class TFBertMainLayer:\n    pass\nTFBertMainLayer(c)\n",
    "comment": "# Copied from transformers.models.bert.modeling_tf_bert.TFBertMainLayer\nTFBertMainLayer(c)\n",
    "doctest": '"""\n    >>> from transformers import TFBertMainLayer\n"""\nTFBertMainLayer(c)\n',
    "other package": "from transformers_extra import TFBertMainLayer\nTFBertMainLayer(c)\n",
    "not called": "from transformers import TFBertMainLayer\nlayers = [TFBertMainLayer]\n",
    "other name called": "from transformers import TFBertMainLayer, BertConfig\nBertConfig(c)\n",
    "attribute of a local": "import transformers\nself.TFBertMainLayer(c)\n",
}


@pytest.mark.parametrize("source", SKIPPED.values(), ids=SKIPPED.keys())
def test_skipped(source: str) -> None:
    assert not prefilter.needs_rules(source)
    assert full_rules(source) == []


# -- generated sources: import shapes x call shapes x placement x noise -----------------

LAYERS = ("TFBertMainLayer", "TFDistilBertMainLayer", "TFGPT2MainLayer", "TFFooMainLayer")
IMPORTS = (
    "from transformers import {L}",
    "from transformers import {L} as Layer",
    "from transformers import BertConfig, {L}",
    "from transformers import (\n    BertConfig,\n    {L} as Layer,\n)",
    "from transformers.models.bert.modeling_tf_bert import {L}",
    "from transformers.models.bert.modeling_tf_bert import {L} as Layer",
    "from transformers import *",
    "from transformers.models.bert.modeling_tf_bert import *",
    "import transformers",
    "import transformers as hf",
    "import os, transformers as hf",
    "import transformers.models.bert.modeling_tf_bert as hf",
    "import transformers.models.bert.modeling_tf_bert",
    "from transformers import models",
    "from transformers.models.bert import modeling_tf_bert as hf",
    "from \\\n    transformers import {L}",
    "x = 1; from transformers import {L}",
    "from . import {L}",
    "from .modeling_tf_bert import {L}",
    "from transformers_extra import {L}",
    "import my_transformers as transformers",
    "import transformers.{L} as Layer",
    "# from transformers import {L}",
    '"""\n>>> from transformers import {L}\n"""',
    "",
)
CALLS = (
    "{L}({C})",
    "Layer({C})",
    "hf.{L}({C})",
    "transformers.{L}({C})",
    "transformers.models.bert.modeling_tf_bert.{L}({C})",
    "models.bert.modeling_tf_bert.{L}({C})",
    "self.{L}({C})",
    "{L}({C}, name='bert')",
    "{L}(config={C}, trainable=False)",
    "Layer = {L}\nLayer({C})",
    "keep({L})",
    "{L}.from_config({C})",
)
CONFIGS = (
    ("config = BertConfig.from_pretrained('bert-base-uncased')", "config"),
    ("", "config"),
    ("", "BertConfig.from_pretrained('bert-base-uncased')"),
    ("", "BertConfig(num_hidden_layers=2)"),
)
NOISE = (
    "",
    "# lint-mainlayer: noqa",
    "# Copied from transformers.models.bert.modeling_tf_bert.TFBertMainLayer",
    "from transformers import BertConfig",
    "import tensorflow as tf",
    "class TFBertMainLayer:\n    pass",
    '"""Uses a MainLayer."""',
)


def _indent(block: str, depth: int) -> str:
    return "\n".join(("    " * depth + line) if line else line for line in block.splitlines())


@st.composite
def sources(draw: st.DrawFn) -> str:
    layer = draw(st.sampled_from(LAYERS))
    imports = draw(st.lists(st.sampled_from(IMPORTS), min_size=1, max_size=3))
    call = draw(st.sampled_from(CALLS))
    config_line, config = draw(st.sampled_from(CONFIGS))
    noise = draw(st.lists(st.sampled_from(NOISE), max_size=2))
    # Where the imports and the call live: module level, a function, a method of a model subclass.
    place = draw(st.sampled_from(("module", "function", "method", "imports in function")))
    body = "\n".join(filter(None, [config_line, call.format(L=layer, C=config)]))
    header = "\n".join(i.format(L=layer) for i in imports)
    if place == "module":
        code = f"{header}\n{body}"
    elif place == "function":
        code = f"{header}\ndef build(config):\n{_indent(body, 1)}\n    return x"
    elif place == "method":
        code = (
            f"{header}\nfrom transformers import TFBertPreTrainedModel\n"
            "class Enc(TFBertPreTrainedModel):\n"
            "    def __init__(self, config, *inputs, **kwargs):\n"
            "        super().__init__(config, *inputs, **kwargs)\n"
            f"{_indent('self.bert = ' + body.splitlines()[-1], 2)}"
        )
    else:
        code = f"def build(config):\n{_indent(header, 1)}\n{_indent(body, 1)}"
    parts = [*noise[:1], code, *noise[1:]]
    text = "\n".join(parts) + "\n"
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text


# Derandomized: CI sees the same sources every run.
GENERATED = settings(
    max_examples=250, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@GENERATED
@given(sources())
def test_generated_sources_skipped_only_when_the_rules_find_nothing(source: str) -> None:
    if not prefilter.needs_rules(source):
        assert full_rules(source) == [], source


@pytest.mark.parametrize(
    "wanted",
    [
        pytest.param(lambda s: prefilter.needs_rules(s) and bool(full_rules(s)), id="kept-and-flagged"),
        pytest.param(lambda s: not prefilter.needs_rules(s), id="skipped"),
        pytest.param(lambda s: prefilter.needs_rules(s) and not full_rules(s), id="kept-but-clean"),
    ],
)
def test_the_generator_reaches_every_outcome(wanted: Callable[[str], bool]) -> None:
    # The property above is not vacuous: the generator itself makes sources of each kind.
    find(sources(), wanted, settings=GENERATED)


# -- the engine applies it too; skipping imports no libcst -----------------------------


def test_engine_skips_what_the_prefilter_skips() -> None:
    source = "from .modeling_tf_bert import TFBertMainLayer\nTFBertMainLayer(config)\n"
    with mock.patch.object(engine, "parse", side_effect=AssertionError("parsed")):
        assert engine.lint_source(source) == []


SCRIPT = """
import sys
from lint_mainlayer.cli import main
code = main(["--exit-zero", "-q", "--no-cache", *sys.argv[1:]])
print("LIBCST", any(m == "libcst" or m.startswith("libcst.") for m in sys.modules))
"""


def test_files_the_prefilter_skips_never_import_libcst(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("import os\n")
    (tmp_path / "library.py").write_text(
        "from .modeling_tf_bert import TFBertMainLayer\n# Copied from transformers.x\nTFBertMainLayer(config)\n"
    )
    (tmp_path / "doc.py").write_text('"""\n>>> from transformers import TFBertMainLayer\n"""\n')
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, check=True
    ).stdout
    assert "LIBCST False" in out
