"""The lint path must never import TensorFlow or transformers (pre-commit start-up time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


# Imported only by the runs that need them (start-up time, issue 12): pathspec for exclude
# patterns and .gitignore files, tomllib for a pyproject.toml, configparser for a setup.cfg,
# tempfile for writing a fix, concurrent.futures for worker processes, packaging for a
# version range, notebook for notebooks and IPython lines, and the other subcommands.
LAZY = (
    "pathspec", "tomllib", "configparser", "tempfile", "logging", "concurrent.futures", "packaging",
    "libcst", "lint_mainlayer.notebook", "lint_mainlayer.lsp", "lint_mainlayer.runtime",
    "lint_mainlayer.show", "lint_mainlayer.add_noqa", "lint_mainlayer.rule_command",
)
LAZY_SCRIPT = """
import sys
from lint_mainlayer.cli import main
code = main(["-q", *sys.argv[1:]])
lazy = {lazy!r}
print("CODE", code)
print("LOADED", sorted(m for m in lazy if m in sys.modules))
"""


def _loaded_by_a_lint_run(tmp_path: Path, *args: str, lazy: tuple[str, ...] = LAZY) -> str:
    return subprocess.run(
        [sys.executable, "-c", LAZY_SCRIPT.format(lazy=lazy), *args],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout


def test_a_plain_lint_run_imports_only_what_it_needs(tmp_path: Path) -> None:
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "train.py").write_text(
        "from transformers import BertConfig, TFBertMainLayer\n"
        'c = BertConfig.from_pretrained("bert-base-uncased")\nlayer = TFBertMainLayer(c)\n'
    )
    if any((parent / "pyproject.toml").exists() for parent in folder.parents):
        pytest.skip("a pyproject.toml above the temporary folder is read (and needs tomllib)")
    # A named file, with the result cache and without; two files (worker processes are
    # started only for three or more that need the rules).
    for args in (["scripts/train.py"], ["--no-cache", "scripts/train.py"], ["scripts/train.py", "scripts/train.py"]):
        out = _loaded_by_a_lint_run(tmp_path, *args)
        assert "CODE 1" in out, out
        assert "LOADED []" in out, (args, out)
    # The test would see them: a walk into a subfolder checks it against the default
    # excludes with pathspec, and a notebook needs its module.
    (folder / "data").mkdir()
    (folder / "nb.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    out = _loaded_by_a_lint_run(tmp_path, "--no-cache", "scripts")
    assert "'pathspec'" in out and "'lint_mainlayer.notebook'" in out, out


def test_files_without_main_layers_never_import_the_engine(tmp_path: Path) -> None:
    # The cheap stages answer for them: neither the engine nor the rules are imported (a
    # module below the api that imported `lint_mainlayer.rules.*` would load them all).
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "plain.py").write_text("import os\nprint(os.sep)\n")
    (folder / "uses.py").write_text("from transformers import AutoTokenizer\nAutoTokenizer.from_pretrained('x')\n")
    lazy = (*LAZY, "lint_mainlayer.engine", "lint_mainlayer.rules")
    for args in (["pkg/plain.py"], ["--no-cache", "pkg/plain.py", "pkg/uses.py"], ["pkg"]):
        out = _loaded_by_a_lint_run(tmp_path, *args, lazy=lazy)
        assert "CODE 0" in out, out
        assert "'lint_mainlayer.engine'" not in out and "'lint_mainlayer.rules'" not in out, (args, out)
