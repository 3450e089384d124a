"""`verify` judges each layer against where its weights really came from (issue 14).

One test per situation the first-use/one-checkpoint checker got wrong, each with variants:
weights from another checkpoint, remapped copies, re-initialisation after the first use, a
script that crashed half way through a build, and configs read from a folder's config.json.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from runtime_support import FIXTURES, REPO, VerifyResult, subprocess_env

pytestmark = pytest.mark.runtime

Verify = Callable[..., VerifyResult]
SCRIPTS = FIXTURES / "scripts"


@pytest.mark.parametrize(
    ("arch", "args"),
    [
        pytest.param("bert", (), id="bert-by-name"),
        pytest.param("distilbert", ("--arch", "distilbert"), id="distilbert-by-name"),
        pytest.param("bert", ("--model",), id="bert-model-load-weights"),
    ],
)
def test_weights_loaded_from_another_checkpoint(
    arch: str, args: tuple[str, ...], checkpoints: dict[str, Path], verify_in_process: Verify,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config_from, weights_from = checkpoints[arch], checkpoints[f"{arch}_other"]
    monkeypatch.setenv("LML_OTHER", str(weights_from))
    result = verify_in_process(SCRIPTS / "load_other.py", *args, checkpoint=config_from)
    assert result.exit_code == 0, result.stdout + result.stderr
    [layer] = result.layers
    assert layer["status"] == "pretrained", layer["detail"]
    weights_file = str(weights_from / "tf_model.h5")
    assert layer["source"] == weights_file and layer["checkpoint"] == weights_file
    assert layer["config_checkpoint"] == str(config_from)
    assert f"from {weights_file}; its config came from {config_from}" in layer["detail"]
    assert any(event.startswith(f"load_weights({weights_file}") for event in layer["history"])


def test_explicit_checkpoint_still_judges_against_that_one_only(
    checkpoints: dict[str, Path], verify_in_process: Verify, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LML_OTHER", str(checkpoints["bert_other"]))
    result = verify_in_process(
        SCRIPTS / "load_other.py", checkpoint=checkpoints["bert"], options=("--checkpoint", str(checkpoints["bert"])),
    )
    assert result.statuses == ["random"], result.stdout
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("mode", "moved", "mapping"),
    [
        pytest.param("shift", 16, ["encoder/layer_._0 <- encoder/layer_._1 (16 tensors)"], id="layer-shift"),
        pytest.param(
            "swap", 32,
            ["encoder/layer_._0 <- encoder/layer_._1 (16 tensors)", "encoder/layer_._1 <- encoder/layer_._0 (16 tensors)"],
            id="layer-permutation",
        ),
    ],
)
def test_remapped_copies_of_checkpoint_tensors_are_pretrained(
    mode: str, moved: int, mapping: list[str], checkpoints: dict[str, Path], verify_in_process: Verify,
) -> None:
    result = verify_in_process(SCRIPTS / "remap.py", "--mode", mode, checkpoint=checkpoints["bert"])
    assert result.exit_code == 0, result.stdout + result.stderr
    teacher, layer = result.layers
    assert teacher["status"] == "pretrained" and teacher["remapped"] == 0 and teacher["mapping"] == []
    assert layer["name"] == "student"
    assert layer["status"] == "pretrained", layer["detail"]
    assert layer["remapped"] == moved
    assert sorted(layer["mapping"]) == sorted(mapping)
    assert layer["source"] == str(checkpoints["bert"])
    assert "equal to the checkpoint (remapped)" in layer["detail"]
    assert layer["equal"] == layer["informative"]


@pytest.mark.parametrize("how", ["assign", "set_weights"])
def test_reinitialised_after_first_use_is_random(how: str, checkpoints: dict[str, Path], verify_in_process: Verify) -> None:
    result = verify_in_process(SCRIPTS / "reinit.py", "--how", how, checkpoint=checkpoints["bert"])
    assert result.exit_code == 1, result.stdout + result.stderr
    [layer] = result.layers
    assert layer["status"] == "random", layer["detail"]
    script = Path("fixtures") / "runtime" / "scripts" / "reinit.py"
    marker = "weight.assign(" if how == "assign" else "bert.set_weights("
    lines = (SCRIPTS / "reinit.py").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if marker in text)
    history = layer["history"]
    assert history[-1] == "random at the end"
    assert f"re-initialised at {script}:{line}" in history
    assert any(e.startswith(f"pretrained at first use (fit at {script}:") for e in history)
    assert history.index(f"re-initialised at {script}:{line}") > next(
        i for i, e in enumerate(history) if "first use" in e
    )
    assert layer["detail"].startswith(f"re-initialised at {script}:{line} after its first use")


@pytest.mark.parametrize(
    "args",
    [pytest.param(("--how", "none", "--steps", "30"), id="fit"), pytest.param(("--how", "sgd"), id="eager-assign-sgd")],
)
def test_training_from_pretrained_stays_fine_tuned(args: tuple[str, ...], checkpoints: dict[str, Path], verify_in_process: Verify) -> None:
    """The control for re-initialisation: trained weights, also written with eager assign."""
    result = verify_in_process(SCRIPTS / "reinit.py", *args, checkpoint=checkpoints["bert"])
    assert result.exit_code == 0, result.stdout + result.stderr
    [layer] = result.layers
    assert layer["status"] == "fine-tuned", layer["detail"]
    assert layer["history"][-1] == "fine-tuned at the end"
    assert not any(e.startswith("re-initialised") for e in layer["history"])


@pytest.mark.parametrize("arch", ["bert", "distilbert"])
def test_layer_half_built_when_the_script_crashed_is_incomplete(arch: str, checkpoints: dict[str, Path], verify_in_process: Verify) -> None:
    result = verify_in_process(SCRIPTS / "crash_build.py", "--arch", arch, checkpoint=checkpoints[arch])
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "MemoryError: out of memory while building the encoder" in result.document["error"]
    teacher, layer = result.layers  # the model the embeddings were copied from, then the half-built layer
    assert teacher["status"] == "pretrained"
    assert layer["status"] == "incomplete", layer["detail"]
    assert "the script failed while it was being built" in layer["detail"]


def test_crashed_before_build_is_unbuilt_and_exit_stays_2(checkpoints: dict[str, Path], verify_in_process: Verify) -> None:
    result = verify_in_process(SCRIPTS / "failing.py", checkpoint=checkpoints["bert"])
    assert result.exit_code == 2
    assert result.statuses == ["unbuilt"]


@pytest.mark.parametrize("how", ["json_file", "from_dict", "kwargs"])
def test_config_read_from_a_folders_config_json_names_that_folder(how: str, checkpoints: dict[str, Path], verify_in_process: Verify) -> None:
    ckpt = checkpoints["bert"]
    result = verify_in_process(SCRIPTS / "config_file.py", "--how", how, checkpoint=ckpt)
    assert result.exit_code == 1, result.stdout + result.stderr
    [layer] = result.layers
    assert layer["status"] == "random", layer["detail"]
    assert layer["config_checkpoint"] == str(ckpt) and layer["checkpoint"] == str(ckpt)
    assert layer["source"] is None


def test_hand_written_config_without_any_checkpoint_is_unknown(tmp_path: Path, verify_in_process: Verify) -> None:
    script = tmp_path / "hand.py"
    script.write_text(
        "import numpy as np\n"
        "from transformers import BertConfig, TFBertMainLayer\n"
        "config = BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,\n"
        "                    intermediate_size=37, max_position_embeddings=64)\n"
        "bert = TFBertMainLayer(config)\n"
        "bert(np.arange(16).reshape(2, 8) % 90 + 5)\n"
    )
    result = verify_in_process(script)
    [layer] = result.layers
    assert layer["status"] == "unknown" and "--checkpoint" in layer["detail"]
    assert result.exit_code == 1


def test_help_with_short_option_imports_no_tensorflow() -> None:
    code = (
        "import sys\n"
        "from lint_mainlayer.cli import main\n"
        "code = main(['verify', '-h'])\n"
        "assert code == 0, code\n"
        "assert 'tensorflow' not in sys.modules and 'transformers' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=subprocess_env(),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "This EXECUTES SCRIPT" in done.stdout and "incomplete" in done.stdout


_BLOCK_RUNTIME = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in {blocked!r}:
            raise ImportError(f'{{name}} is blocked for this test')
        return None

sys.meta_path.insert(0, Block())
from lint_mainlayer.cli import main
sys.exit(main(['verify', sys.argv[1]]))
"""


@pytest.mark.parametrize("blocked", [("tensorflow", "tf_keras"), ("transformers",)], ids=["no-tensorflow", "no-transformers"])
def test_without_the_runtime_extra_verify_says_so_and_exits_2(blocked: tuple[str, ...], tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text("print('the script ran')\n")
    done = subprocess.run(
        [sys.executable, "-c", _BLOCK_RUNTIME.format(blocked=set(blocked)), str(script)],
        cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "[runtime] extra" in done.stderr and blocked[0].replace("_", "-") in done.stderr
    assert "the script ran" not in done.stdout
    assert "no transformers main layer" not in done.stdout


def test_checkpoint_files_are_read_one_tensor_at_a_time_without_a_second_model(
    checkpoints: dict[str, Path], verify_in_process: Verify, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The checker reads the checkpoint's file; it builds no reference model for it."""
    from lint_mainlayer.runtime import weights

    def no_reference(*args: object, **kwargs: object) -> None:
        raise AssertionError("a reference model was built")

    monkeypatch.setattr(weights, "load_reference", no_reference)
    result = verify_in_process(SCRIPTS / "train.py", checkpoint=checkpoints["bert"])
    assert result.statuses == ["fine-tuned"], result.stdout
    assert os.path.exists(checkpoints["bert"] / "tf_model.h5")


@pytest.mark.parametrize("fmt", ["h5", "safetensors", "tf-checkpoint"])
def test_check_reads_each_checkpoint_format_from_its_files(
    fmt: str, checkpoints: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tensorflow as tf
    import transformers

    from lint_mainlayer.runtime import check, weights

    def no_reference(*args: object, **kwargs: object) -> None:
        raise AssertionError("a reference model was built")

    model = transformers.TFBertModel.from_pretrained(str(checkpoints["bert"]))
    if fmt == "h5":
        target = str(checkpoints["bert"])
    elif fmt == "safetensors":
        model.save_pretrained(tmp_path / "st", safe_serialization=True)
        assert not (tmp_path / "st" / "tf_model.h5").exists()
        target = str(tmp_path / "st")
    else:
        target = tf.train.Checkpoint(model=model).write(str(tmp_path / "ckpt" / "weights"))
    monkeypatch.setattr(weights, "load_reference", no_reference)
    [report] = check(model.bert, target)
    assert report.status == "pretrained", report.detail
    assert report.source == target and report.equal == report.informative > 30

    if fmt != "tf-checkpoint":  # a TF checkpoint names tensors by object path: no name pairs
        other = transformers.TFBertModel.from_pretrained(str(checkpoints["bert_other"])).bert
        [report] = check(other, target)
        assert report.status == "random", report.detail


def test_weights_restored_from_a_tf_checkpoint(checkpoints: dict[str, Path], tmp_path: Path, verify_in_process: Verify) -> None:
    import tensorflow as tf
    import transformers

    source = transformers.TFBertModel.from_pretrained(str(checkpoints["bert_other"]))
    prefix = tf.train.Checkpoint(model=source).write(str(tmp_path / "ckpt" / "weights"))
    script = tmp_path / "restore.py"
    script.write_text(
        "import os\n"
        "import numpy as np\n"
        "import tensorflow as tf\n"
        "from transformers import BertConfig, TFBertModel\n"
        "model = TFBertModel(BertConfig.from_pretrained(os.environ['LML_CHECKPOINT']))\n"
        "model(np.arange(16).reshape(2, 8) % 90 + 5)\n"
        f"tf.train.Checkpoint(model=model).restore({prefix!r}).expect_partial()\n"
        "model.predict(np.arange(16).reshape(2, 8) % 90 + 5, verbose=0)\n"
    )
    result = verify_in_process(script, checkpoint=checkpoints["bert"])
    assert result.exit_code == 0, result.stdout + result.stderr
    [layer] = result.layers
    assert layer["status"] == "pretrained", layer["detail"]
    assert layer["source"] == prefix and layer["config_checkpoint"] == str(checkpoints["bert"])
