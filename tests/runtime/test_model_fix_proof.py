"""The proof that the whole-model fixes (MLL005, MLL006) are right, on tiny checkpoints of
several architectures, base models and task heads: `verify` says the model built on the
flagged line has random weights; `--fix` gives expected.py; `verify` then says every main
layer holds the checkpoint's weights; and the fixed script runs on its own.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from runtime_support import FIXTURES, MODEL_FIX_FIXTURES, REPO, VerifyResult, subprocess_env

pytestmark = pytest.mark.runtime

_MARKER = re.compile(r"  # error: MLL\d{3}(?::\d+)?(, MLL\d{3}(?::\d+)?)*$", re.MULTILINE)


def _random_line(source: str) -> int:
    """The line that builds the random model: the flagged one for MLL005; for MLL006 (the
    flagged line is the discarded load) the instance's construction, `model = ...`."""
    lines = source.splitlines()
    flagged = next(n for n, line in enumerate(lines, 1) if _MARKER.search(line))
    if "MLL006" in lines[flagged - 1]:
        return max(n for n, line in enumerate(lines[: flagged - 1], 1) if line.startswith("model = "))
    return flagged


@pytest.mark.parametrize("case", list(MODEL_FIX_FIXTURES))
def test_model_fix_turns_random_weights_into_pretrained(
    case: str,
    checkpoints: dict[str, Path],
    tmp_path: Path,
    verify_in_process: Callable[..., VerifyResult],
) -> None:
    checkpoint = checkpoints[MODEL_FIX_FIXTURES[case]]
    script = tmp_path / case / "input.py"
    script.parent.mkdir()
    shutil.copy(FIXTURES / case / "input.py", script)
    source = script.read_text("utf-8")

    before = verify_in_process(script, checkpoint=checkpoint)
    assert before.exit_code == 1, before.stdout
    # The model-level construction line, not a line inside transformers.
    at_line = [layer for layer in before.layers if layer["location"] == f"{script}:{_random_line(source)}"]
    assert at_line and {layer["status"] for layer in at_line} == {"random"}, before.stdout

    done = subprocess.run(
        [sys.executable, "-m", "lint_mainlayer", "--fix", str(script)],
        cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    fixed = script.read_text("utf-8")
    expected = (FIXTURES / case / "expected.py").read_text("utf-8")
    assert _MARKER.sub("", fixed) == _MARKER.sub("", expected)

    after = verify_in_process(script, checkpoint=checkpoint)
    assert after.exit_code == 0, after.stdout
    # A template instance that `model = model.from_pretrained(...)` replaces is never built.
    assert "pretrained" in after.statuses, after.stdout
    assert set(after.statuses) <= {"pretrained", "fine-tuned", "unbuilt"}, after.stdout

    ran = subprocess.run(
        [sys.executable, str(script)], cwd=script.parent, env=subprocess_env(checkpoint),
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert ran.returncode == 0, ran.stderr


def test_the_report_names_the_model_a_layer_belongs_to(
    checkpoints: dict[str, Path], tmp_path: Path, verify_in_process: Callable[..., VerifyResult]
) -> None:
    # Issue 13: a main layer built inside a model's constructor is reported at the user's
    # construction of the model, and says which model holds it; one built alone says none.
    script = tmp_path / "heads.py"
    script.write_text(
        "import os\n"
        "from transformers import BertConfig, TFBertForSequenceClassification, TFBertMainLayer\n"
        'config = BertConfig.from_pretrained(os.environ["LML_CHECKPOINT"])\n'
        "model = TFBertForSequenceClassification(config)\n"
        "alone = TFBertMainLayer(config)\n"
        "model(model.dummy_inputs)\n"
        "alone(model.dummy_inputs['input_ids'])\n",
        "utf-8",
    )
    result = verify_in_process(script, checkpoint=checkpoints["bert"])
    by_line = {layer["location"]: layer for layer in result.layers}
    assert by_line[f"{script}:4"]["model"] == "TFBertForSequenceClassification", result.stdout
    assert by_line[f"{script}:5"]["model"] is None, result.stdout
    from lint_mainlayer.runtime.report import LayerReport, format_table

    table = format_table([LayerReport(**layer) for layer in result.layers])
    assert "TFBertMainLayer (in TFBertForSequenceClassification)" in table, table
