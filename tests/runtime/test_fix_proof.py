"""The proof that `lint-mainlayer --fix` is right: before, random weights; after, pretrained.

For each fix fixture: `verify` says the original runs with random weights (exit 1); the
fixer turns it into expected.py; `verify` says the result holds the checkpoint's weights
(exit 0); and the fixed layer computes what `TFXModel.from_pretrained(ckpt)` computes.
test_verify.py checks expected.py on its own, so a fixer regression and a wrong
expectation fail apart.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from runtime_support import (
    FIX_FIXTURES,
    FIXTURES,
    INPUT_IDS,
    REPO,
    TINY,
    VerifyResult,
    reference_model,
    subprocess_env,
)

pytestmark = pytest.mark.runtime

# Finding markers are test annotations, not code: the fixer may keep or drop them.
_MARKER = re.compile(r"  # error: MLL\d{3}(?::\d+)?(, MLL\d{3}(?::\d+)?)*$", re.MULTILINE)


def _fix(path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "lint_mainlayer", "--fix", str(path)],
        cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=120, check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return path.read_text("utf-8")


_CASES = list(FIX_FIXTURES)


@pytest.mark.parametrize("case", _CASES)
def test_fix_turns_random_weights_into_pretrained(
    case: str,
    checkpoints: dict[str, Path],
    tmp_path: Path,
    verify_in_process: Callable[..., VerifyResult],
    run_script_globals: Callable[[Path, Path], dict[str, Any]],
) -> None:
    checkpoint = checkpoints[FIX_FIXTURES[case]]
    script = tmp_path / case / "input.py"
    script.parent.mkdir()
    shutil.copy(FIXTURES / case / "input.py", script)

    before = verify_in_process(script, checkpoint=checkpoint)
    assert before.exit_code == 1 and set(before.statuses) == {"random"}, before.stdout

    fixed = _fix(script)
    expected = (FIXTURES / case / "expected.py").read_text("utf-8")
    assert _MARKER.sub("", fixed) == _MARKER.sub("", expected)

    after = verify_in_process(script, checkpoint=checkpoint)
    assert after.exit_code == 0 and set(after.statuses) == {"pretrained"}, after.stdout

    if case in TINY:
        import numpy as np
        import tensorflow as tf

        layer = run_script_globals(script, checkpoint)[case]
        reference = getattr(reference_model(case, checkpoint), TINY[case][2])
        ids = tf.constant(INPUT_IDS)
        np.testing.assert_allclose(
            layer(ids).last_hidden_state.numpy(), reference(ids).last_hidden_state.numpy(), rtol=1e-5, atol=1e-5
        )
