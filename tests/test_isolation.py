"""The lint path must never import TensorFlow or transformers (pre-commit start-up time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
from lint_mainlayer.cli import main
code = main(["--exit-zero", "-q", {path!r}])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "transformers", "tf_keras", "keras", "torch"))
print("HEAVY", heavy)
"""


def test_lint_path_imports_no_tensorflow_or_transformers(tmp_path: Path) -> None:
    target = tmp_path / "m.py"
    target.write_text(
        "from transformers import BertConfig, TFBertMainLayer\n"
        'c = BertConfig.from_pretrained("bert-base-uncased")\nTFBertMainLayer(c)\n'
    )
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(path=str(target))], capture_output=True, text=True, check=True
    ).stdout
    assert "MLL001" in out
    assert "HEAVY []" in out
