"""The project-wide analysis (issue 16): multi-module projects under `fixtures/project/`,
checked through the command line whichever file is named, with generated variants of each
shape, the summaries' cache, and the settings that turn it off.

Each fixture is a small project (its own `pyproject.toml`) with a builder module, a script
that calls it and a loader helper module; the builder carries `# error: CODE:COL` markers
as the single-file fixtures do. The script never holds a marker: findings belong to the
module that builds the layer.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from lint_mainlayer import cli
from lint_mainlayer.project.session import ProjectSession

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "project"
CASES = sorted(p for p in FIXTURES.iterdir() if p.is_dir())
_MARKER = re.compile(r"#\s*error:\s*(MLL\d{3}):(\d+)\s*$")


def markers(case: Path) -> set[tuple[str, int, int, str]]:
    """(path relative to the case, line, column, code) of every marker in the case."""
    found = set()
    for path in sorted(case.rglob("*.py")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            match = _MARKER.search(line)
            if match:
                found.add((path.relative_to(case).as_posix(), number, int(match.group(2)), match.group(1)))
    return found


def run(folder: Path, *args: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[dict[str, object]]]:
    monkeypatch.chdir(folder)
    capsys.readouterr()
    code = cli.main(["--no-cache", "--output-format", "json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def found(results: list[dict[str, object]]) -> set[tuple[str, int, int, str]]:
    return {(Path(str(r["path"])).as_posix(), int(str(r["line"])), int(str(r["column"])), str(r["code"])) for r in results}


def _script(case: Path) -> str:
    return next(p for p in case.rglob("train.py")).relative_to(case).as_posix()


def _builder(case: Path) -> str:
    return next(p for p in case.rglob("modeling.py")).relative_to(case).as_posix()


def test_fixtures_cover_every_shape_in_both_layouts() -> None:
    names = {c.name for c in CASES}
    for layout in ("package", "src"):
        assert {f"{layout}_{shape}" for shape in ("bug", "scratch", "loaded", "unknown")} <= names


@pytest.mark.parametrize("named", ["folder", "script", "builder"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_verdict_whichever_file_is_named(
    case: Path, named: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = {"folder": ".", "script": _script(case), "builder": _builder(case)}[named]
    code, results = run(case, target, capsys=capsys, monkeypatch=monkeypatch)
    expected = markers(case)
    assert found(results) == expected
    assert code == (1 if expected else 0)


def test_bug_names_the_checkpoint_the_script_passes(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _, results = run(FIXTURES / "package_bug", "pkg/train.py", capsys=capsys, monkeypatch=monkeypatch)
    assert [r["code"] for r in results] == ["MLL001"]
    assert 'checkpoint `"bert-base-uncased"` that `pkg/train.py:6` passes' in str(results[0]["message"])
    # The script's config factory is followed in the script's own module.
    _, results = run(FIXTURES / "src_bug", ".", capsys=capsys, monkeypatch=monkeypatch)
    assert 'checkpoint `"bert-base-cased"`' in str(results[0]["message"])


@pytest.mark.parametrize("case", ["package_unknown", "src_unknown"])
def test_unresolved_config_names_the_callers_seen(
    case: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = FIXTURES / case
    _, results = run(folder, _builder(folder), capsys=capsys, monkeypatch=monkeypatch)
    message = str(results[0]["message"])
    script = _script(folder)
    line = next(n for n, text in enumerate((folder / script).read_text("utf-8").splitlines(), 1) if "odel(" in text or "Classifier(" in text and "import" not in text)
    assert f"callers seen: {script}:{line} (unknown config" in message


def test_off_switches_keep_each_file_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    case = FIXTURES / "package_bug"
    _, results = run(case, "--no-project", _builder(case), capsys=capsys, monkeypatch=monkeypatch)
    assert [r["code"] for r in results] == ["MLL002"]
    _, results = run(case, "--no-project", _script(case), capsys=capsys, monkeypatch=monkeypatch)
    assert results == []
    copy = tmp_path / "case"
    shutil.copytree(case, copy)
    (copy / "pyproject.toml").write_text('[tool.lint-mainlayer]\nproject-analysis = false\n', encoding="utf-8")
    _, results = run(copy, ".", capsys=capsys, monkeypatch=monkeypatch)
    assert [r["code"] for r in results] == ["MLL002"]
    assert "no caller" not in str(results[0]["message"])


def test_fix_rewrites_named_files_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "case"
    shutil.copytree(FIXTURES / "package_bug", copy)
    before = {p: p.read_bytes() for p in copy.rglob("*.py")}
    code, results = run(copy, "--fix", "--unsafe-fixes", "pkg/train.py", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 1
    assert found(results) == markers(FIXTURES / "package_bug")
    # Reported, not fixable from here: the fix belongs to a file that was not named.
    assert results[0]["fix"] is None
    assert {p: p.read_bytes() for p in copy.rglob("*.py")} == before
    # Named, the builder gets its (unsafe: another caller may pass another config) fix.
    code, _ = run(copy, "--fix", "--unsafe-fixes", "pkg/modeling.py", capsys=capsys, monkeypatch=monkeypatch)
    fixed = (copy / "pkg" / "modeling.py").read_text("utf-8")
    assert 'TFBertModel.from_pretrained("bert-base-uncased", config=config).bert' in fixed
    assert code == 0


# -- generated variants: import shapes and callables the fixtures do not use ------------------

BUILDER_FUNCTION = """\
    from transformers import TFBertMainLayer


    def make_encoder(cfg):
        return TFBertMainLayer(cfg)
"""
BUILDER_MODEL = """\
    from transformers import TFBertForSequenceClassification


    def make_classifier(num_labels, config):
        model = TFBertForSequenceClassification(config)
        return model
"""
PRETRAINED = 'BertConfig.from_pretrained("bert-base-uncased")'
SCRATCH = "BertConfig(num_hidden_layers=2)"

VARIANTS = {
    # (files, builder path, expected code or None)
    "reexported-from-package": (
        {
            "lib/__init__.py": "from .encoders import make_encoder\n",
            "lib/encoders.py": BUILDER_FUNCTION,
            "run.py": f"from transformers import BertConfig\nfrom lib import make_encoder\nenc = make_encoder({PRETRAINED})\n",
        },
        "lib/encoders.py",
        "MLL001",
    ),
    "dotted-module-import": (
        {
            "lib/__init__.py": "",
            "lib/encoders.py": BUILDER_FUNCTION,
            "run.py": f"from transformers import BertConfig\nimport lib.encoders\nenc = lib.encoders.make_encoder(cfg={SCRATCH})\n",
        },
        "lib/encoders.py",
        None,
    ),
    "namespace-package-parent-relative": (
        {
            "lib/models/encoders.py": BUILDER_FUNCTION,
            "lib/models/train.py": f"from transformers import BertConfig\nfrom ..models.encoders import make_encoder as mk\nenc = mk({PRETRAINED})\n",
        },
        "lib/models/encoders.py",
        "MLL001",
    ),
    "whole-model-keyword-config": (
        {
            "lib/__init__.py": "",
            "lib/heads.py": BUILDER_MODEL,
            "lib/train.py": f"from transformers import BertConfig\nfrom .heads import make_classifier\nm = make_classifier(3, config={PRETRAINED})\nm.fit(data)\n",
        },
        "lib/heads.py",
        "MLL005",
    ),
    "two-callers-one-scratch-one-pretrained": (
        {
            "lib/__init__.py": "",
            "lib/encoders.py": BUILDER_FUNCTION,
            "lib/a.py": f"from transformers import BertConfig\nfrom lib.encoders import make_encoder\nenc = make_encoder({SCRATCH})\n",
            "lib/b.py": f"from transformers import BertConfig\nfrom lib.encoders import make_encoder\nenc = make_encoder({PRETRAINED})\n",
        },
        "lib/encoders.py",
        "MLL001",
    ),
    "loader-in-third-module-by-keyword": (
        {
            "lib/__init__.py": "",
            "lib/encoders.py": BUILDER_FUNCTION,
            "lib/ckpt.py": "def restore_into(path, *, target):\n    target.load_weights(path)\n",
            "lib/train.py": f"from transformers import BertConfig\nfrom lib import ckpt\nfrom lib.encoders import make_encoder\nenc = make_encoder({PRETRAINED})\nckpt.restore_into('w.h5', target=enc)\n",
        },
        "lib/encoders.py",
        None,
    ),
    "caller-passes-through-star-args": (
        {
            "lib/__init__.py": "",
            "lib/encoders.py": BUILDER_FUNCTION,
            "lib/train.py": "from transformers import BertConfig\nfrom lib.encoders import make_encoder\ndef main(*args):\n    return make_encoder(*args)\n",
        },
        "lib/encoders.py",
        "MLL002",
    ),
    "caller-does-not-parse": (
        {
            "lib/__init__.py": "",
            "lib/encoders.py": BUILDER_FUNCTION,
            "lib/train.py": f"from transformers import BertConfig\nfrom lib.encoders import make_encoder\nenc = make_encoder({PRETRAINED}\n",
        },
        "lib/encoders.py",
        "MLL002",
    ),
    "import-cycle-between-builder-and-script": (
        {
            "lib/__init__.py": "",
            "lib/encoders.py": "from lib import train\n" + textwrap.dedent(BUILDER_FUNCTION),
            "lib/train.py": f"from transformers import BertConfig\nfrom lib.encoders import make_encoder\nenc = make_encoder({SCRATCH})\n",
        },
        "lib/encoders.py",
        None,
    ),
    "caller-in-excluded-folder": (
        {
            "lib/__init__.py": "",
            "lib/encoders.py": BUILDER_FUNCTION,
            "legacy/train.py": f"from transformers import BertConfig\nfrom lib.encoders import make_encoder\nenc = make_encoder({SCRATCH})\n",
        },
        "lib/encoders.py",
        "MLL002",
    ),
}


# -- conditional loads (a loader's load fills a layer only by name, or at one attribute) --------

BUILDER_FUNCTIONAL = """\
    import tensorflow as tf
    from transformers import TFBertMainLayer


    def build_classifier(config):
        ids = tf.keras.Input(shape=(8,), dtype=tf.int32)
        encoder = TFBertMainLayer(config{name})
        return tf.keras.Model(ids, encoder(ids).pooler_output)
"""
BUILDER_CLASS = """\
    import tensorflow as tf
    from transformers import TFBertMainLayer


    class Classifier(tf.keras.Model):
        def __init__(self, config):
            super().__init__()
            self.bert = TFBertMainLayer(config, name="bert")
            self.head = tf.keras.layers.Dense(2)
"""
BUILDER_NESTED = """\
    import tensorflow as tf
    from transformers import TFBertMainLayer


    class Classifier(tf.keras.Model):
        def __init__(self, config):
            super().__init__()
            model = tf.keras.Model()
            model.bert = TFBertMainLayer(config, name="bert")
            self.encoder = model
"""


def _loaded_elsewhere(builder: str, callee: str, loader: str, load: str = "load_pretrained(model, CKPT)") -> dict[str, str]:
    return {
        "lib/__init__.py": "",
        "lib/modeling.py": builder,
        "lib/loading.py": loader,
        "train.py": (
            "from transformers import BertConfig\n"
            "from lib.loading import load_pretrained\n"
            f"from lib.modeling import {callee}\n"
            "CKPT = 'bert-base-uncased'\n"
            f"model = {callee}(BertConfig.from_pretrained(CKPT))\n"
            f"{load}\n"
        ),
    }


BY_NAME_LOADER = "import os\ndef load_pretrained(model, ckpt):\n    model.load_weights(os.path.join(ckpt, 'tf_model.h5'), by_name=True)\n"
REPLACE_LOADER = "from transformers import TFBertModel\ndef load_pretrained(model, ckpt):\n    model.{attr} = TFBertModel.from_pretrained(ckpt).bert\n"
SET_LOADER = (
    "from transformers import TFBertModel\n"
    "def load_pretrained(model, ckpt):\n"
    "    pretrained = TFBertModel.from_pretrained(ckpt).bert\n"
    "    model.{attr}.set_weights(pretrained.get_weights())\n"
)
WRAPPED_LOADER = (
    "def _restore(layer, path):\n"
    "    layer.load_weights(path)\n"
    "def load_pretrained(model, ckpt):\n"
    "    _restore(model.{attr}, ckpt + '/bert.h5')\n"
)

CONDITIONAL = {
    # name: (files, expected code in lib/modeling.py or None); each checked naming the
    # folder, the builder, and the script alone.
    "by-name-into-unnamed-layer": (_loaded_elsewhere(BUILDER_FUNCTIONAL.format(name=""), "build_classifier", BY_NAME_LOADER), "MLL001"),
    "by-name-into-named-layer": (
        _loaded_elsewhere(BUILDER_FUNCTIONAL.format(name=', name="bert"'), "build_classifier", BY_NAME_LOADER),
        None,
    ),
    "by-name-in-the-script": (
        _loaded_elsewhere(
            BUILDER_FUNCTIONAL.format(name=""), "build_classifier", BY_NAME_LOADER, "model.load_weights('w.h5', by_name=True)"
        ),
        "MLL001",
    ),
    "replaces-the-attribute": (_loaded_elsewhere(BUILDER_CLASS, "Classifier", REPLACE_LOADER.format(attr="bert")), None),
    "replaces-another-attribute": (_loaded_elsewhere(BUILDER_CLASS, "Classifier", REPLACE_LOADER.format(attr="head")), "MLL001"),
    "sets-the-attribute": (_loaded_elsewhere(BUILDER_CLASS, "Classifier", SET_LOADER.format(attr="bert")), None),
    "sets-an-enclosing-attribute": (_loaded_elsewhere(BUILDER_NESTED, "Classifier", SET_LOADER.format(attr="encoder")), None),
    "sets-another-attribute": (_loaded_elsewhere(BUILDER_CLASS, "Classifier", SET_LOADER.format(attr="head")), "MLL001"),
    "wrapped-loader-on-the-attribute": (_loaded_elsewhere(BUILDER_CLASS, "Classifier", WRAPPED_LOADER.format(attr="bert")), None),
    "wrapped-loader-on-another-attribute": (
        _loaded_elsewhere(BUILDER_CLASS, "Classifier", WRAPPED_LOADER.format(attr="head")),
        "MLL001",
    ),
    "script-replaces-the-attribute": (
        _loaded_elsewhere(
            BUILDER_CLASS, "Classifier", BY_NAME_LOADER, "m = model\nm.bert = TFBertModel.from_pretrained(CKPT).bert"
        ),
        None,
    ),
}
CONDITIONAL["script-replaces-the-attribute"][0]["train.py"] = "from transformers import TFBertModel\n" + CONDITIONAL[
    "script-replaces-the-attribute"
][0]["train.py"]


@pytest.mark.parametrize("named", ["folder", "script", "builder"])
@pytest.mark.parametrize("name", sorted(CONDITIONAL))
def test_conditional_loads_of_another_module(
    name: str, named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    files, code = CONDITIONAL[name]
    make_project(tmp_path, files)
    target = {"folder": ".", "script": "train.py", "builder": "lib/modeling.py"}[named]
    status, results = run(tmp_path, target, capsys=capsys, monkeypatch=monkeypatch)
    assert [(r["path"], r["code"]) for r in results] == ([("lib/modeling.py", code)] if code else [])
    assert status == (1 if code else 0)
    if code:
        assert "`train.py:5` passes" in str(results[0]["message"])


# -- configs made by a function of another module ------------------------------------------------


def _configured_elsewhere(factory: str, call: str, importer: str = "from lib.configs import make_config") -> dict[str, str]:
    return {
        "lib/__init__.py": "",
        "lib/encoders.py": BUILDER_FUNCTION,
        "lib/configs.py": "from transformers import BertConfig\nCKPT = 'bert-base-cased'\n" + factory,
        "train.py": f"from transformers import set_seed\n{importer}\nfrom lib.encoders import make_encoder\nenc = make_encoder({call})\n",
    }


FACTORIES = {
    # name: (files, expected code in lib/encoders.py or None, the checkpoint its message names)
    "scratch": (_configured_elsewhere("def make_config():\n    return BertConfig(num_hidden_layers=2)\n", "make_config()"), None, None),
    "scratch-through-a-name": (
        _configured_elsewhere("def make_config(layers=2):\n    config = BertConfig(num_hidden_layers=layers)\n    return config\n", "make_config(4)"),
        None,
        None,
    ),
    "changed-architecture": (
        _configured_elsewhere("def make_config(ckpt):\n    return BertConfig.from_pretrained(ckpt, num_hidden_layers=2)\n", "make_config('bert-base-uncased')"),
        None,
        None,
    ),
    "pretrained-checkpoint-parameter": (
        _configured_elsewhere("def make_config(ckpt):\n    return BertConfig.from_pretrained(ckpt)\n", "make_config('bert-base-uncased')"),
        "MLL001",
        "'bert-base-uncased'",
    ),
    "pretrained-checkpoint-keyword": (
        _configured_elsewhere("def make_config(size, ckpt=None):\n    return BertConfig.from_pretrained(ckpt)\n", "make_config(1, ckpt='bert-large')"),
        "MLL001",
        "'bert-large'",
    ),
    "pretrained-own-checkpoint-module-attribute": (
        _configured_elsewhere("def make_config():\n    return BertConfig.from_pretrained(CKPT)\n", "configs.make_config()", "from lib import configs"),
        "MLL001",
        "CKPT",
    ),
    "unknown-stays-unknown": (
        _configured_elsewhere("def make_config(config):\n    return config\n", "make_config(None)"),
        "MLL002",
        None,
    ),
}


@pytest.mark.parametrize("named", ["folder", "script", "builder"])
@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_config_made_by_a_function_of_another_module(
    name: str, named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    files, code, checkpoint = FACTORIES[name]
    make_project(tmp_path, files)
    target = {"folder": ".", "script": "train.py", "builder": "lib/encoders.py"}[named]
    status, results = run(tmp_path, target, capsys=capsys, monkeypatch=monkeypatch)
    assert [(r["path"], r["code"]) for r in results] == ([("lib/encoders.py", code)] if code else [])
    assert status == (1 if code else 0)
    if checkpoint is not None:
        assert f"checkpoint `{checkpoint}` that `train.py:4` passes" in str(results[0]["message"])


def test_config_factory_of_another_module_in_the_builder_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        "lib/__init__.py": "",
        "lib/configs.py": "from transformers import BertConfig\ndef small():\n    return BertConfig(num_hidden_layers=2)\ndef base():\n    return BertConfig.from_pretrained('bert-base-uncased')\n",
        "lib/encoders.py": "from transformers import TFBertMainLayer\nfrom .configs import base, small\nscratch = TFBertMainLayer(small())\npretrained = TFBertMainLayer(base())\n",
    }
    make_project(tmp_path, files)
    _, results = run(tmp_path, "lib/encoders.py", capsys=capsys, monkeypatch=monkeypatch)
    assert [(r["line"], r["code"]) for r in results] == [(4, "MLL001")]
    assert "checkpoint `'bert-base-uncased'`" in str(results[0]["message"])
    fix = results[0]["fix"]
    # The checkpoint is the factory's literal: a fix, unsafe (another call may differ).
    assert isinstance(fix, dict) and fix["applicability"] == "unsafe"
    _, alone = run(tmp_path, "--no-project", "lib/encoders.py", capsys=capsys, monkeypatch=monkeypatch)
    assert [(r["line"], r["code"]) for r in alone] == [(3, "MLL002"), (4, "MLL002")]


# -- a config handed on through a callable of another module -------------------------------------

MIDDLE_FUNCTION = "from lib.encoders import make_encoder\n\ndef build(config, size=2):\n    return [make_encoder(config)] * size\n"
MIDDLE_CLASS = (
    "from .encoders import make_encoder\n\n"
    "class Model:\n"
    "    def __init__(self, config):\n"
    "        self.encoder = make_encoder(cfg=config)\n"
)
OUTER = "from lib.middle import build\n\ndef outer(c):\n    return build(c)\n"
# `build` and `outer` hand the config on to each other, and to the builder.
CYCLE = (
    "from lib.encoders import make_encoder\nfrom lib import outer\n\n"
    "def build(config):\n    outer.outer(config)\n    return make_encoder(config)\n"
)


def _chain(middle: str, outer: str, call: str, config: str) -> dict[str, str]:
    return {
        "lib/__init__.py": "",
        "lib/encoders.py": BUILDER_FUNCTION,
        "lib/middle.py": middle,
        "lib/outer.py": outer,
        "train.py": f"from transformers import BertConfig\nfrom lib import middle, outer\nm = {call}({config})\n",
    }


CHAINS = {
    # name: (files, expected code in lib/encoders.py or None)
    "function-pretrained": (_chain(MIDDLE_FUNCTION, "", "middle.build", PRETRAINED), "MLL001"),
    "function-scratch": (_chain(MIDDLE_FUNCTION, "", "middle.build", SCRATCH), None),
    "class-pretrained": (_chain(MIDDLE_CLASS, "", "middle.Model", PRETRAINED), "MLL001"),
    "class-scratch": (_chain(MIDDLE_CLASS, "", "middle.Model", SCRATCH), None),
    "two-deep-pretrained": (_chain(MIDDLE_FUNCTION, OUTER, "outer.outer", PRETRAINED), "MLL001"),
    "two-deep-scratch": (_chain(MIDDLE_FUNCTION, OUTER, "outer.outer", SCRATCH), None),
    "unknown-at-the-top": (_chain(MIDDLE_FUNCTION, "", "middle.build", "load_config()"), "MLL002"),
    "cycle-between-modules": (_chain(CYCLE, OUTER, "middle.build", "load_config()"), "MLL002"),
}


@pytest.mark.parametrize("named", ["folder", "script", "builder"])
@pytest.mark.parametrize("name", sorted(CHAINS))
def test_config_handed_on_through_another_module(
    name: str, named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    files, code = CHAINS[name]
    make_project(tmp_path, files)
    target = {"folder": ".", "script": "train.py", "builder": "lib/encoders.py"}[named]
    status, results = run(tmp_path, target, capsys=capsys, monkeypatch=monkeypatch)
    assert [(r["path"], r["code"]) for r in results] == ([("lib/encoders.py", code)] if code else [])
    assert status == (1 if code else 0)
    if code == "MLL001":
        assert 'checkpoint `"bert-base-uncased"` that `lib/' in str(results[0]["message"])


# -- a config handed on inside the builder's module ----------------------------------------------

HANDOFF_BUILDERS = {
    "helper-function": (
        "from transformers import TFBertMainLayer\n\n"
        "def build_model(config):\n    return _encoder(config)\n\n"
        "def _encoder(cfg):\n    return TFBertMainLayer(cfg)\n"
    ),
    "local-name": "from transformers import TFBertMainLayer\n\ndef build_model(config):\n    cfg = config\n    return TFBertMainLayer(cfg)\n",
    "class-through-a-function": (
        "from transformers import TFBertMainLayer\n\n"
        "class build_model:\n    def __init__(self, config):\n        self.encoder = _encoder(cfg=config)\n\n"
        "def _encoder(cfg):\n    return TFBertMainLayer(cfg)\n"
    ),
}
HANDOFF_SCRIPTS = {
    # shape of the script: (its lines after the imports, expected code)
    "pretrained": (f"model = build_model({PRETRAINED})\n", "MLL001"),
    "scratch": (f"model = build_model({SCRATCH})\n", None),
    "loaded": (f"model = build_model({PRETRAINED})\nmodel.load_weights('pretrained.h5')\n", None),
    "unknown": ("model = build_model(load_config())\n", "MLL002"),
}


@pytest.mark.parametrize("script", sorted(HANDOFF_SCRIPTS))
@pytest.mark.parametrize("builder", sorted(HANDOFF_BUILDERS))
def test_config_handed_on_inside_the_builders_module(
    builder: str, script: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, code = HANDOFF_SCRIPTS[script]
    make_project(
        tmp_path,
        {
            "lib/__init__.py": "",
            "lib/modeling.py": HANDOFF_BUILDERS[builder],
            "train.py": "from transformers import BertConfig\nfrom lib.modeling import build_model\n" + lines,
        },
    )
    for target in (".", "lib/modeling.py"):
        status, results = run(tmp_path, target, capsys=capsys, monkeypatch=monkeypatch)
        assert [(r["path"], r["code"]) for r in results] == ([("lib/modeling.py", code)] if code else [])
        assert status == (1 if code else 0)
    if code == "MLL001":
        assert "that `train.py:3` passes" in str(results[0]["message"])
    _, alone = run(tmp_path, "--no-project", "lib/modeling.py", capsys=capsys, monkeypatch=monkeypatch)
    assert [r["code"] for r in alone] == ["MLL002"]


# -- methods called on an instance ---------------------------------------------------------------

TRAINER = """\
    from transformers import TFBertMainLayer


    class Trainer:
        def __init__(self, steps=10):
            self.steps = steps

        def build(self, config):
            return TFBertMainLayer(config)
"""
METHOD_CALLS = {
    # name: (the script's lines after the imports, expected code in lib/trainer.py or None)
    "bound-instance-pretrained": (f"trainer = Trainer(3)\nenc = trainer.build({PRETRAINED})\n", "MLL001"),
    "bound-instance-scratch": (f"trainer = Trainer()\nenc = trainer.build(config={SCRATCH})\n", None),
    "chained-call-pretrained": (f"enc = Trainer().build({PRETRAINED})\n", "MLL001"),
    "loaded-after": (f"trainer = Trainer()\nenc = trainer.build({PRETRAINED})\nenc.load_weights('pretrained.h5')\n", None),
    "module-attribute-class": (f"trainer = T.Trainer()\nenc = trainer.build({PRETRAINED})\n", "MLL001"),
    "instance-rebound": (f"trainer = Trainer()\ntrainer = make()\nenc = trainer.build({PRETRAINED})\n", "MLL002"),
}


@pytest.mark.parametrize("name", sorted(METHOD_CALLS))
def test_method_called_on_an_instance(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, code = METHOD_CALLS[name]
    make_project(
        tmp_path,
        {
            "lib/__init__.py": "",
            "lib/trainer.py": TRAINER,
            "train.py": "from transformers import BertConfig\nfrom lib.trainer import Trainer\nimport lib.trainer as T\n" + lines,
        },
    )
    for target in (".", "lib/trainer.py", "train.py"):
        status, results = run(tmp_path, target, capsys=capsys, monkeypatch=monkeypatch)
        expected = code if not (target == "train.py" and code == "MLL002") else None
        assert [(r["path"], r["code"]) for r in results] == ([("lib/trainer.py", expected)] if expected else []), target
    if code == "MLL001":
        assert "that `train.py:" in str(results[0]["message"])


# -- a script that imports nothing from transformers, named alone --------------------------------

NO_TRANSFORMERS = {
    # name: (files, the module holding the finding, expected code)
    "config-from-a-factory": (
        {
            **_configured_elsewhere("def make_config(ckpt):\n    return BertConfig.from_pretrained(ckpt)\n", "make_config('bert-base-uncased')"),
        },
        "lib/encoders.py",
        "MLL001",
    ),
    "config-made-by-the-module-it-calls": (
        {
            "lib/__init__.py": "",
            "lib/encoders.py": BUILDER_FUNCTION,
            "lib/pipeline.py": f"from transformers import BertConfig\nfrom .encoders import make_encoder\ndef make(ckpt):\n    return make_encoder({PRETRAINED})\n",
            "train.py": "from lib.pipeline import make\nmodel = make('bert-base-uncased')\n",
        },
        "lib/encoders.py",
        "MLL001",
    ),
    "scratch-config-from-a-factory": (
        _configured_elsewhere("def make_config():\n    return BertConfig(num_hidden_layers=2)\n", "make_config()"),
        "lib/encoders.py",
        None,
    ),
}
for _files, _, _ in NO_TRANSFORMERS.values():
    _files["train.py"] = _files["train.py"].replace("from transformers import set_seed\n", "")


@pytest.mark.parametrize("name", sorted(NO_TRANSFORMERS))
def test_a_script_without_a_transformers_import_named_alone(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    files, module, code = NO_TRANSFORMERS[name]
    assert "transformers" not in files["train.py"]
    make_project(tmp_path, files)
    status, results = run(tmp_path, "train.py", capsys=capsys, monkeypatch=monkeypatch)
    assert [(r["path"], r["code"]) for r in results] == ([(module, code)] if code else [])
    assert status == (1 if code else 0)


def test_a_run_over_the_whole_project_reads_no_script_again(tmp_path: Path) -> None:
    files, _, _ = NO_TRANSFORMERS["config-from-a-factory"]
    make_project(tmp_path, files)
    session = ProjectSession(None)
    named = sorted(tmp_path.rglob("*.py"))
    for path in named:
        session.note_script(path)
    # Every module of the project is named: nothing to add, and no summary computed.
    assert session.context_modules(named) == []
    assert session.store.computed == 0
    # Only the script named: the builder it configures is added.
    assert [p.relative_to(tmp_path).as_posix() for p, _ in session.context_modules([tmp_path / "train.py"])] == ["lib/encoders.py"]


def make_project(root: Path, files: dict[str, str]) -> None:
    (root / "pyproject.toml").write_text('[tool.lint-mainlayer]\nextend-exclude = ["legacy/"]\n', encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variants(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    files, builder, code = VARIANTS[name]
    make_project(tmp_path, files)
    status, results = run(tmp_path, ".", capsys=capsys, monkeypatch=monkeypatch)
    assert [(r["path"], r["code"]) for r in results] == ([(builder, code)] if code else [])
    assert status == (1 if code else 0)
    status, alone = run(tmp_path, builder, capsys=capsys, monkeypatch=monkeypatch)
    assert [r["code"] for r in alone] == ([code] if code else [])
    assert status == (1 if code else 0)
    if name == "caller-in-excluded-folder":
        assert "no caller in the project" in str(alone[0]["message"])


# -- the summaries' cache -----------------------------------------------------------------------


def test_summaries_are_reused_and_invalidated_when_another_module_changes(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "package_loaded", project)
    cache = tmp_path / "cache"
    builder = project / "pkg" / "modeling.py"

    first = ProjectSession(cache)
    view = first.view(builder)
    assert view is not None and first.store.computed > 0
    [caller] = view.callers["build_model"]
    assert caller.loaded and caller.positional[0].kind == "pretrained"

    warm = ProjectSession(cache)
    assert warm.view(builder) == view
    assert warm.store.computed == 0

    # The loader helper changes (it no longer loads): the script's summary is recomputed.
    (project / "pkg" / "loading.py").write_text("def load_pretrained(model, path):\n    return model\n", encoding="utf-8")
    changed = ProjectSession(cache)
    after = changed.view(builder)
    assert after is not None and changed.store.computed > 0
    assert not after.callers["build_model"][0].loaded
    assert after.digest != view.digest


def test_result_cache_follows_other_modules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "case"
    shutil.copytree(FIXTURES / "package_scratch", copy)
    monkeypatch.chdir(copy)

    def lint() -> list[str]:
        capsys.readouterr()
        cli.main(["--cache-dir", str(tmp_path / "cache"), "--output-format", "json", "pkg/modeling.py"])
        return [str(r["code"]) for r in json.loads(capsys.readouterr().out)]

    assert lint() == []
    assert lint() == []
    train = copy / "pkg" / "train.py"
    train.write_text(train.read_text("utf-8").replace(
        "BertConfig(num_hidden_layers=2, hidden_size=64, num_attention_heads=2, intermediate_size=128)",
        'BertConfig.from_pretrained("bert-base-uncased")',
    ), encoding="utf-8")
    assert lint() == ["MLL001"]


def test_fixes_from_a_callers_config_are_unsafe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, builder in (("whole-model-keyword-config", "lib/heads.py"), ("reexported-from-package", "lib/encoders.py")):
        root = tmp_path / name
        root.mkdir()
        make_project(root, VARIANTS[name][0])
        _, results = run(root, builder, capsys=capsys, monkeypatch=monkeypatch)
        fix = results[0]["fix"]
        assert isinstance(fix, dict) and fix["applicability"] == "unsafe"
        assert "another call may pass another config" in str(fix["unsafe_reason"])
        # Safe fixes only: the builder is left as it is.
        before = (root / builder).read_bytes()
        run(root, "--fix", builder, capsys=capsys, monkeypatch=monkeypatch)
        assert (root / builder).read_bytes() == before


def test_show_settings_says_whether_and_where(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    case = FIXTURES / "src_bug"
    monkeypatch.chdir(case)
    assert cli.main(["--show-settings", "src/app/modeling.py"]) == 0
    assert f"project-analysis = true  # project root: {case}\n" in capsys.readouterr().out + "\n"
    assert cli.main(["--show-settings", "--no-project", "src/app/modeling.py"]) == 0
    assert "project-analysis = false  # off" in capsys.readouterr().out


def test_a_failure_of_the_project_analysis_leaves_the_file_alone(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lint_mainlayer.project.index import ProjectIndex

    def broken(self: ProjectIndex, path: Path) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(ProjectIndex, "view_for", broken)
    case = FIXTURES / "package_bug"
    code, results = run(case, ".", capsys=capsys, monkeypatch=monkeypatch)
    # As without the project analysis: the builder alone.
    assert code == 1 and [r["code"] for r in results] == ["MLL002"]


LIBRARY = {
    "pyproject.toml": "",
    "lib/__init__.py": "",
    "lib/models.py": (
        "from transformers import TFBertMainLayer, TFBertPreTrainedModel\n"
        "import tensorflow as tf\n"
        "class Encoder(tf.keras.layers.Layer):\n"
        "    def __init__(self, config, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        '        self.bert = TFBertMainLayer(config, name="bert")\n'
        "class Tagger(TFBertPreTrainedModel):\n"
        "    def __init__(self, config, *inputs, **kwargs):\n"
        "        super().__init__(config, *inputs, **kwargs)\n"
        '        self.encoder = Encoder(config, name="encoder")\n'
    ),
    **{
        f"lib/user{n}.py": (
            "from lib import models\nfrom lib.models import Tagger\n"
            f"def make{n}(config):\n    return Tagger(config)\n"
        )
        for n in range(3)
    },
    "lib/unrelated.py": "import os\ndef f(config):\n    return os.path.join(config, 'x')\n",
}


@pytest.mark.parametrize("needs", [False, True], ids=["library-of-models", "a-builder"])
def test_importers_are_analysed_only_for_a_module_whose_verdict_they_can_change(
    needs: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every construction of `lib/models.py` is loaded by a model's `from_pretrained`: what its
    # importers pass cannot change a verdict there, so they are not analysed (nor parsed, for a
    # file that does not even spell the module's name).
    files = dict(LIBRARY)
    if needs:
        files["lib/models.py"] += "def build(config):\n    return TFBertMainLayer(config)\n"
    make_project(tmp_path, files)
    from lint_mainlayer.project import index, summary

    analysed: list[str] = []
    parsed: list[str] = []
    real_calls_of, real_imports = summary.calls_of, index.parse_imports
    monkeypatch.setattr(summary, "calls_of", lambda text, *a, **k: analysed.append(text) or real_calls_of(text, *a, **k))
    monkeypatch.setattr(index, "parse_imports", lambda text, *a, **k: parsed.append(text) or real_imports(text, *a, **k))
    view = ProjectSession(None).view(tmp_path / "lib" / "models.py")
    assert view is not None
    assert len(analysed) == (3 if needs else 0)
    assert not any("unrelated" in text or "os.path.join" in text for text in parsed)
