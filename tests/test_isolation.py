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


LIBCST_SCRIPT = """
import sys
from lint_mainlayer import api
from lint_mainlayer.cli import main
from lint_mainlayer.types import Settings
path = sys.argv[1]
main(["--exit-zero", "--no-cache", path])
main(["--exit-zero", "--no-cache", "--output-format", "json", path])
# What the language server runs per lint of an open document.
found = api.check_text(open(path).read(), path, Settings()).diagnostics
print("FIXES", sum(d.fix is not None for d in found))
print("LIBCST", sorted(m for m in sys.modules if m == "libcst" or m.startswith("libcst.")))
main(["--exit-zero", "--no-cache", "--diff", path])
print("AFTER-FIX", any(m == "libcst" for m in sys.modules))
"""


def test_linting_a_file_with_findings_imports_no_libcst(tmp_path: Path) -> None:
    # The analysis runs on Python's ast; libcst is loaded only to apply fixes.
    target = tmp_path / "m.py"
    target.write_text(
        "from transformers import BertConfig, TFBertMainLayer\n"
        'c = BertConfig.from_pretrained("bert-base-uncased")\nlayer = TFBertMainLayer(c)\n'
    )
    out = subprocess.run(
        [sys.executable, "-c", LIBCST_SCRIPT, str(target)], capture_output=True, text=True, check=True
    ).stdout
    assert "MLL001" in out and '"replacement"' in out
    assert "FIXES 1" in out
    assert "LIBCST []" in out
    # The test would see it: applying the fix (`--diff`) does load libcst.
    assert "AFTER-FIX True" in out
