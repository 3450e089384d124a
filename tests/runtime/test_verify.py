"""`verify` on the runnable fixtures, in this process (click's CliRunner)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from runtime_support import (
    FIX_FIXTURES,
    FIXTURES,
    INPUT_IDS,
    TINY,
    VerifyResult,
    reference_model,
)

pytestmark = pytest.mark.runtime

Verify = Callable[..., VerifyResult]
RunGlobals = Callable[[Path, Path], dict[str, Any]]
SCRIPTS = FIXTURES / "scripts"


def _outputs(layer: Any) -> Any:
    import tensorflow as tf

    return layer(tf.constant(INPUT_IDS)).last_hidden_state.numpy()


@pytest.mark.parametrize("case", list(FIX_FIXTURES))
def test_input_runs_with_random_weights(case: str, checkpoints: dict[str, Path], verify_in_process: Verify) -> None:
    result = verify_in_process(FIXTURES / case / "input.py", checkpoint=checkpoints[FIX_FIXTURES[case]])
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.statuses and set(result.statuses) == {"random"}
    for layer in result.layers:
        assert layer["location"].startswith(str(Path("fixtures") / "runtime" / case / "input.py") + ":")


@pytest.mark.parametrize("case", list(FIX_FIXTURES))
def test_expected_holds_pretrained_weights(case: str, checkpoints: dict[str, Path], verify_in_process: Verify) -> None:
    """The half of the fix proof that does not need the fixer: expected.py is right."""
    result = verify_in_process(FIXTURES / case / "expected.py", checkpoint=checkpoints[FIX_FIXTURES[case]])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.statuses and set(result.statuses) == {"pretrained"}
    assert {layer["checkpoint"] for layer in result.layers} == {str(checkpoints[FIX_FIXTURES[case]])}


@pytest.mark.parametrize("arch", list(TINY))
def test_expected_outputs_equal_the_pretrained_model(arch: str, checkpoints: dict[str, Path], run_script_globals: RunGlobals) -> None:
    import numpy as np

    script_globals = run_script_globals(FIXTURES / arch / "expected.py", checkpoints[arch])
    layer = script_globals[arch]
    reference = getattr(reference_model(arch, checkpoints[arch]), TINY[arch][2])
    np.testing.assert_allclose(_outputs(layer), _outputs(reference), rtol=1e-5, atol=1e-5)


def test_frozen_layer_stays_frozen_after_the_fix(checkpoints: dict[str, Path], run_script_globals: RunGlobals, verify_in_process: Verify) -> None:
    script_globals = run_script_globals(FIXTURES / "bert_frozen" / "expected.py", checkpoints["bert"])
    bert, model = script_globals["bert"], script_globals["model"]
    assert bert.trainable is False
    assert bert.trainable_weights == []
    assert len(bert.non_trainable_weights) == 39
    # Only the classifier head trains.
    assert sorted(v.name.split("/")[0] for v in model.trainable_weights) == ["classifier", "classifier"]

    result = verify_in_process(FIXTURES / "bert_frozen" / "expected.py", checkpoint=checkpoints["bert"])
    assert [layer["trainable"] for layer in result.layers] == [False]


@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
def test_siamese_after_fix_builds_saves_and_reloads(checkpoints: dict[str, Path], run_script_globals: RunGlobals, tmp_path: Path) -> None:
    import numpy as np
    import tensorflow as tf

    script_globals = run_script_globals(FIXTURES / "siamese" / "expected.py", checkpoints["bert"])
    model = script_globals["model"]
    assert [layer.name for layer in model.layers if "encoder" in layer.name] == ["encoder_a", "encoder_b"]
    ids = np.array(INPUT_IDS)
    expected = model.predict([ids, ids], verbose=0)
    reference = reference_model("bert", checkpoints["bert"]).bert
    pooled = reference(tf.constant(INPUT_IDS)).pooler_output.numpy()
    np.testing.assert_allclose(expected[:, 0], np.sum(pooled * pooled, axis=1), rtol=1e-4)
    for suffix in (".keras", ".h5"):
        path = tmp_path / f"siamese{suffix}"
        model.save(path)
        reloaded = tf.keras.models.load_model(path)
        assert [layer.name for layer in reloaded.layers if "encoder" in layer.name] == ["encoder_a", "encoder_b"]
        np.testing.assert_allclose(reloaded.predict([ids, ids], verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_two_extracted_layers_clash_and_a_renamed_one_does_not_reload(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    """Why siamese/expected.py copies weights instead of extracting `.bert` twice."""
    import tensorflow as tf
    import transformers

    ckpt = str(checkpoints["bert"])

    def siamese(a: Any, b: Any) -> Any:
        left = tf.keras.Input(shape=(8,), dtype=tf.int32)
        right = tf.keras.Input(shape=(8,), dtype=tf.int32)
        score = tf.keras.layers.Dot(axes=1)([a(left).pooler_output, b(right).pooler_output])
        return tf.keras.Model([left, right], score)

    with pytest.raises(ValueError, match="unique"):
        siamese(transformers.TFBertModel.from_pretrained(ckpt).bert, transformers.TFBertModel.from_pretrained(ckpt).bert)

    a = transformers.TFBertModel.from_pretrained(ckpt).bert
    b = transformers.TFBertModel.from_pretrained(ckpt).bert
    a._name, b._name = "encoder_a", "encoder_b"
    model = siamese(a, b)
    model.save(tmp_path / "renamed.keras")
    with pytest.raises(ValueError, match="unique"):
        tf.keras.models.load_model(tmp_path / "renamed.keras")


def test_mll003_name_fix_makes_from_pretrained_load(checkpoints: dict[str, Path], run_script_globals: RunGlobals) -> None:
    import numpy as np

    fixed = run_script_globals(FIXTURES / "mll003_subclass" / "expected.py", checkpoints["bert"])["model"]
    reference = reference_model("bert", checkpoints["bert"]).bert
    np.testing.assert_allclose(_outputs(fixed.encoder), _outputs(reference), rtol=1e-5, atol=1e-5)
    broken = run_script_globals(FIXTURES / "mll003_subclass" / "input.py", checkpoints["bert"])["model"]
    assert not np.allclose(_outputs(broken.encoder), _outputs(reference), atol=1e-3)


@pytest.mark.parametrize(
    ("args", "status", "use"),
    [
        pytest.param(("--loop", "fit"), "fine-tuned", "fit at", id="fit-from-checkpoint"),
        pytest.param(("--loop", "train_on_batch"), "fine-tuned", "train_on_batch at", id="train_on_batch"),
        pytest.param(("--loop", "custom"), "fine-tuned", "call at", id="custom-tf-function-loop"),
        pytest.param(("--init", "random", "--loop", "fit"), "random", "fit at", id="fit-from-random"),
        pytest.param(("--init", "random", "--loop", "custom"), "random", "call at", id="custom-from-random"),
    ],
)
def test_training_scripts(args: tuple[str, ...], status: str, use: str, checkpoints: dict[str, Path], verify_in_process: Verify) -> None:
    result = verify_in_process(SCRIPTS / "train.py", *args, checkpoint=checkpoints["bert"])
    assert result.statuses == [status], result.stdout
    assert result.exit_code == (0 if status == "fine-tuned" else 1)
    [layer] = result.layers
    expected_then = "pretrained" if status == "fine-tuned" else "random"
    assert f"at its first use ({use}" in layer["detail"] and f"it was {expected_then}" in layer["detail"]


@pytest.mark.parametrize("loop", ["fit", "custom"])
def test_stop_at_first_use_reports_in_seconds(loop: str, checkpoints: dict[str, Path], verify_in_process: Verify) -> None:
    started = time.monotonic()
    result = verify_in_process(
        SCRIPTS / "train.py", "--loop", loop, "--steps", "1000000",
        checkpoint=checkpoints["bert"], options=("--stop-at-first-use",),
    )
    assert time.monotonic() - started < 60
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.statuses == ["pretrained"]
    assert result.document["stopped_at"].startswith("fit at" if loop == "fit" else "call at")
    assert "training finished" not in result.stdout


def test_first_use_inside_a_layer_call_in_a_traced_function(checkpoints: dict[str, Path], tmp_path: Path, verify_in_process: Verify) -> None:
    """Judged at its first use, deep inside a Keras call and a tf.function trace: the
    reference checkpoint must still load under its own names, not nested in the user's."""
    script = tmp_path / "wrapped.py"
    script.write_text(
        "import os\n"
        "import tensorflow as tf\n"
        "from transformers import TFBertModel\n"
        "class Wrapper(tf.keras.layers.Layer):\n"
        "    def __init__(self, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.bert = TFBertModel.from_pretrained(os.environ['LML_CHECKPOINT']).bert\n"
        "    def call(self, ids):\n"
        "        return self.bert(ids).pooler_output\n"
        "wrapper = Wrapper(name='wrapper')\n"
        "@tf.function\n"
        "def embed(ids):\n"
        "    return wrapper(ids)\n"
        f"embed(tf.constant({INPUT_IDS}))\n"
    )
    result = verify_in_process(script, checkpoint=checkpoints["bert"])
    assert result.statuses == ["pretrained"], result.stdout
    [layer] = result.layers
    assert "39/39 informative tensors equal" in layer["detail"]
    assert "it was pretrained" in layer["detail"]


def test_script_failure_exits_2_with_its_traceback(checkpoints: dict[str, Path], verify_in_process: Verify) -> None:
    result = verify_in_process(SCRIPTS / "failing.py", checkpoint=checkpoints["bert"], fmt="text")
    assert result.exit_code == 2
    assert "RuntimeError: data file missing" in result.stderr
    assert 'failing.py", line 12, in load_data' in result.stderr
    assert "runpy" not in result.stderr  # the checker's own frames are not the user's business
    assert "unbuilt" in result.stdout


def test_nonzero_sys_exit_is_a_failure(tmp_path: Path, verify_in_process: Verify) -> None:
    script = tmp_path / "exits.py"
    script.write_text("import sys\nsys.exit(3)\n")
    result = verify_in_process(script)
    assert result.exit_code == 2, result.stdout
    assert result.document["error"] == "the script exited with status 3"


def test_script_sees_its_arguments_and_main(tmp_path: Path, verify_in_process: Verify) -> None:
    script = tmp_path / "args.py"
    script.write_text("import sys\nprint(__name__, sys.argv[1:])\n")
    argv = sys.argv[:]
    result = verify_in_process(script, "--format", "json", "x", fmt="text")
    assert result.exit_code == 0
    assert "__main__ ['--format', 'json', 'x']" in result.stdout
    assert "no transformers main layer was constructed" in result.stdout
    assert sys.argv == argv


def test_hand_written_config_filled_with_set_weights_is_judged_by_its_values(checkpoints: dict[str, Path], verify_in_process: Verify) -> None:
    """No config names a checkpoint, but the weights were copied from one the script loaded."""
    result = verify_in_process(SCRIPTS / "hand_config.py", checkpoint=checkpoints["bert"])
    hand, loaded = result.layers
    assert hand["status"] == "pretrained", hand["detail"]
    assert hand["source"] == str(checkpoints["bert"]) and hand["config_checkpoint"] is None
    assert any(event.startswith("set_weights at") for event in hand["history"])
    assert loaded["status"] == "pretrained"
    assert result.exit_code == 0

    result = verify_in_process(
        SCRIPTS / "hand_config.py", checkpoint=checkpoints["bert"],
        options=("--checkpoint", str(checkpoints["bert_other"])),
    )
    assert result.statuses == ["random", "random"]
    assert result.exit_code == 1


def test_map_reads_a_name_from_another_folder(checkpoints: dict[str, Path], verify_in_process: Verify) -> None:
    ckpt, other = checkpoints["bert"], checkpoints["bert_other"]
    result = verify_in_process(
        FIXTURES / "bert" / "expected.py", checkpoint=ckpt, options=("--map", f"{ckpt}={other}"),
    )
    assert result.statuses == ["random"]
    assert result.layers[0]["checkpoint"] == str(other)


def test_text_output_is_a_table(checkpoints: dict[str, Path], verify_in_process: Verify) -> None:
    result = verify_in_process(FIXTURES / "bert" / "input.py", checkpoint=checkpoints["bert"], fmt="text")
    header, row, detail = result.stdout.splitlines()[-3:]
    assert header.split() == ["STATUS", "CLASS", "NAME", "TRAINABLE", "LOCATION", "CHECKPOINT"]
    assert row.split()[:2] == ["random", "TFBertMainLayer"]
    assert detail.startswith("    not derived from the checkpoint")


def test_patches_are_undone(checkpoints: dict[str, Path], verify_in_process: Verify) -> None:
    import tf_keras
    import transformers

    before = (transformers.TFBertMainLayer.__init__, tf_keras.Model.fit, transformers.BertConfig.from_pretrained)
    verify_in_process(FIXTURES / "bert" / "input.py", checkpoint=checkpoints["bert"])
    after = (transformers.TFBertMainLayer.__init__, tf_keras.Model.fit, transformers.BertConfig.from_pretrained)
    assert before == after
    assert "__call__" not in transformers.TFBertMainLayer.__dict__


def test_progress_only_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from lint_mainlayer.runtime.runner import Progress

    with Progress(enabled=True, interval=0.05) as progress:
        progress("running train.py")
        time.sleep(0.3)
    err = capsys.readouterr().err
    assert "[verify 0:00] running train.py" in err
    assert "still running" in err

    with Progress(enabled=False, interval=0.05) as progress:
        progress("running train.py")
        time.sleep(0.1)
    assert capsys.readouterr().err == ""
