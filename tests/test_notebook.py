"""Notebooks and IPython syntax: linted and fixed like `.py` files, positions in cells, and
every byte but the fixed cells' sources kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lint_mainlayer import notebook
from lint_mainlayer.cli import main
from lint_mainlayer.config import clear_caches

IMPORTS = "from transformers import BertConfig, TFBertMainLayer"
CONFIG = 'config = BertConfig.from_pretrained("bert-base-uncased")'
LAYER = "bert = TFBertMainLayer(config)"
FIXED_LAYER = 'bert = TFBertModel.from_pretrained("bert-base-uncased", config=config).bert'


def make(cells: list[tuple[str, Any]], *, language: str = "python") -> dict[str, Any]:
    out = []
    for kind, source in cells:
        cell: dict[str, Any] = {"cell_type": kind, "metadata": {"tags": ["é"]}, "source": source}
        if kind == "code":
            cell = {
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {"z": 1, "a": 2},
                "outputs": [{"name": "stdout", "output_type": "stream", "text": ["naïve output 1.0\n"]}],
                "source": source,
            }
        out.append(cell)
    return {
        "cells": out,
        "metadata": {"kernelspec": {"language": language, "name": "k"}, "language_info": {"name": language}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


NOTEBOOK = make(
    [
        ("markdown", ["# Bert\n", "naïve"]),
        ("code", ["!pip install transformers\n", "%matplotlib inline\n", IMPORTS]),
        ("code", ["%%time\n", CONFIG + "\n", "files = !ls\n", "BertConfig?\n", LAYER]),
        ("code", "%%bash\necho $HOME | grep -v (\n"),
    ]
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    clear_caches()
    return tmp_path


def write(path: Path, nb: dict[str, Any], **dump: Any) -> bytes:
    data = (json.dumps(nb, **{"indent": 1, "ensure_ascii": False, **dump}) + "\n").encode()
    path.write_bytes(data)
    return data


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--no-cache", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "line, masked",
    [
        pytest.param("!pip install x", True, id="shell"),
        pytest.param("%matplotlib inline", True, id="line-magic"),
        pytest.param("files = !ls", True, id="shell-assignment"),
        pytest.param("a, b = %sx ls", True, id="magic-assignment"),
        pytest.param("BertConfig?", True, id="help"),
        pytest.param("??BertConfig", True, id="help-before"),
        pytest.param("x = a % b", False, id="modulo"),
        pytest.param("x = not_a_shell != y", False, id="not-equal"),
        pytest.param("print('!x')", False, id="string"),
    ],
)
def test_masked_lines(line: str, masked: bool) -> None:
    result = notebook.mask(line + "\n")
    assert (result is not None) == masked
    if result is not None:
        assert result.text == f"# {notebook.MARK}0\n" and result.originals == (line,)
        assert notebook.unmask(result.text, result.originals) == line + "\n"


def test_no_masking_inside_brackets_strings_and_continuations() -> None:
    source = 'x = (a\n  % b)\ns = """\n!not shell\n"""\ny = 1 + \\\n  2\nfor i in x:\n    !echo hi\n'
    masked = notebook.mask(source)
    assert masked is not None and masked.originals == ("    !echo hi",)
    assert masked.text == source.replace("    !echo hi", f"    pass  # {notebook.MARK}0")
    compile(masked.text, "<masked>", "exec")


def test_text_output_names_the_cell_as_ruff(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "nb.ipynb", NOTEBOOK)
    code, out, err = run(["nb.ipynb"], capsys)
    assert code == 1, err
    assert out.startswith("nb.ipynb:cell 3:5:8: MLL001 ")


def test_fix_changes_only_the_fixed_cells_sources(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = write(project / "nb.ipynb", NOTEBOOK)
    assert run(["--fix", "nb.ipynb"], capsys)[0] == 0
    new = (project / "nb.ipynb").read_bytes()
    expected = original.decode().replace(IMPORTS, IMPORTS.replace("TFBertMainLayer", "TFBertModel"))
    expected = expected.replace(LAYER, FIXED_LAYER.replace('"', '\\"'))
    assert new.decode() == expected
    assert run(["nb.ipynb"], capsys)[0] == 0


@pytest.mark.parametrize(
    "dump",
    [
        pytest.param({"indent": 2, "ensure_ascii": True}, id="indent-2-ascii"),
        pytest.param({"indent": None, "separators": (",", ":")}, id="compact"),
        pytest.param({"indent": "\t"}, id="tabs"),
    ],
)
def test_fix_keeps_the_files_own_json_style(
    dump: dict[str, Any], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = make([("code", [IMPORTS + "\n"]), ("code", [CONFIG + "\n", LAYER + "\n"]), ("code", "!ls")])
    path = project / "nb.ipynb"
    path.write_text(json.dumps(nb, **dump))  # no final newline either
    assert run(["--fix", "nb.ipynb"], capsys)[0] == 0
    fixed = make(
        [
            ("code", [IMPORTS.replace("TFBertMainLayer", "TFBertModel") + "\n"]),
            ("code", [CONFIG + "\n", FIXED_LAYER + "\n"]),
            ("code", "!ls"),
        ]
    )
    assert path.read_text() == json.dumps(fixed, **dump)


def test_add_noqa_writes_into_the_cell_and_keeps_every_other_byte(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = write(project / "nb.ipynb", NOTEBOOK)
    (project / "magic.py").write_text(f"!pip install transformers\n{IMPORTS}\n{CONFIG}\n{LAYER}\n")
    code, _, err = run(["--add-noqa", "."], capsys)
    assert code == 0 and err == "Added 2 noqa directives.\n"
    expected = original.decode().replace(LAYER, LAYER + "  # noqa: MLL001")
    assert (project / "nb.ipynb").read_bytes().decode() == expected
    assert (project / "magic.py").read_text().startswith(f"!pip install transformers\n{IMPORTS}\n")
    assert (project / "magic.py").read_text().endswith(f"{LAYER}  # noqa: MLL001\n")
    assert run(["."], capsys)[0] == 0
    assert run(["--add-noqa", "."], capsys)[2] == "Added 0 noqa directives.\n"


def test_string_source_stays_a_string(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nb = make([("code", f"{IMPORTS}\n{CONFIG}\n{LAYER}")])
    write(project / "nb.ipynb", nb)
    assert run(["--fix", "nb.ipynb"], capsys)[0] == 0
    cell = json.loads((project / "nb.ipynb").read_text())["cells"][0]
    assert isinstance(cell["source"], str) and cell["source"].endswith(FIXED_LAYER)


def test_diff_is_per_cell_as_ruffs(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = write(project / "nb.ipynb", NOTEBOOK)
    code, out, err = run(["--diff", "nb.ipynb"], capsys)
    assert code == 1 and err == "Would fix 1 finding.\n"
    assert "--- nb.ipynb:cell 2\n+++ nb.ipynb:cell 2\n" in out and "--- nb.ipynb:cell 3\n" in out
    assert f"+{FIXED_LAYER}\n" in out and " files = !ls\n" in out
    assert (project / "nb.ipynb").read_bytes() == original


def test_json_sarif_and_github_positions_are_in_the_cell(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "nb.ipynb", NOTEBOOK)
    _, out, _ = run(["--output-format", "json", "nb.ipynb"], capsys)
    (item,) = json.loads(out)
    assert (item["cell"], item["line"], item["column"], item["fix"]["line"]) == (3, 5, 8, 5)
    _, out, _ = run(["--output-format", "sarif", "nb.ipynb"], capsys)
    (result,) = json.loads(out)["runs"][0]["results"]
    assert result["properties"]["cell"] == 3
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    _, out, _ = run(["--output-format", "github", "nb.ipynb"], capsys)
    assert "::cell 3:5:8: `TFBertMainLayer`" in out
    (project / "plain.py").write_text(f"{IMPORTS}\n{CONFIG}\n{LAYER}\n")
    _, out, _ = run(["--output-format", "json", "plain.py"], capsys)
    assert json.loads(out)[0]["cell"] is None


def test_exported_script_with_magics_is_linted_and_fixed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = f"!pip install transformers\n%%time\n{IMPORTS}\nout = !ls\n{CONFIG}\nif True:\n    %time x = 1\n{LAYER}\n"
    (project / "exported.py").write_text(script)
    code, out, _ = run(["exported.py"], capsys)
    assert code == 1 and out.startswith("exported.py:8:8: MLL001")
    assert run(["--fix", "exported.py"], capsys)[0] == 0
    expected = script.replace(IMPORTS, IMPORTS.replace("TFBertMainLayer", "TFBertModel")).replace(LAYER, FIXED_LAYER)
    assert (project / "exported.py").read_text() == expected


def test_walk_includes_notebooks_and_include_controls_it(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "nb.ipynb", NOTEBOOK)
    assert "nb.ipynb:cell 3" in run(["."], capsys)[1]
    (project / "pyproject.toml").write_text('[tool.lint-mainlayer]\ninclude = ["*.py"]\n')
    clear_caches()
    assert run(["."], capsys)[0] == 0
    assert run(["--show-files", "."], capsys)[1] == ""
    (project / "pyproject.toml").write_text('[tool.lint-mainlayer]\ninclude = ["*.py"]\nextend-include = ["*.ipynb"]\n')
    clear_caches()
    assert run(["--show-files", "."], capsys)[1] == "nb.ipynb\n"


def test_other_languages_and_broken_notebooks(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "r.ipynb", make([("code", [IMPORTS, "\n", LAYER])], language="R"))
    assert run(["r.ipynb"], capsys)[0] == 0
    # As with a `.py` file, only a notebook the rules could flag is parsed at all.
    (project / "unread.ipynb").write_text('{"cells": [')
    assert run(["unread.ipynb"], capsys)[0] == 0
    (project / "broken.ipynb").write_text('{"cells": ["TFBertMainLayer')
    code, _, err = run(["broken.ipynb"], capsys)
    assert code == 2 and err.startswith("broken.ipynb: error: not a valid notebook")


def test_notebooks_in_worker_processes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a", "b", "c"):
        write(project / f"{name}.ipynb", NOTEBOOK)
    code, out, _ = run(["--jobs", "2", "."], capsys)
    assert code == 1 and [line.split(" ")[0] for line in out.splitlines()[:3]] == [
        f"{name}.ipynb:cell" for name in ("a", "b", "c")
    ]
    assert run(["--jobs", "2", "--fix", "."], capsys)[0] == 0
    assert all(FIXED_LAYER.replace('"', '\\"') in (project / f"{n}.ipynb").read_text() for n in "abc")


def test_show_source_numbers_lines_in_the_cell(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "nb.ipynb", NOTEBOOK)
    _, out, _ = run(["--show-source", "nb.ipynb"], capsys)
    assert f"5 | {LAYER}\n" in out and "  |        ^^^^^^^^^^^^^^^^^^^^^^^ MLL001" in out


# Whole models (MLL005) and copies, with no main layer in sight: the notebook and the
# exported script are read as for main layers (a model-only notebook was skipped unread,
# and a model-only exported script failed on its first magic).
MODEL_IMPORTS = "from transformers import AutoConfig, TFAutoModel, TFBertForSequenceClassification"
MODEL_CONFIG = 'config = AutoConfig.from_pretrained("bert-base-uncased")'
MODEL_SHAPES = {
    "auto class from_config": "model = TFAutoModel.from_config(config)",
    "model class constructor": "model = TFBertForSequenceClassification(config)",
}


@pytest.mark.parametrize("build", MODEL_SHAPES.values(), ids=MODEL_SHAPES.keys())
def test_model_only_notebook_is_checked(build: str, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nb = make(
        [
            ("code", ["!pip install transformers\n", MODEL_IMPORTS]),
            ("code", ["%%time\n", MODEL_CONFIG]),
            ("code", [build + "\n", "model.fit(train_dataset)\n"]),
        ]
    )
    write(project / "model.ipynb", nb)
    code, out, _ = run(["model.ipynb"], capsys)
    assert code == 1 and out.startswith("model.ipynb:cell 3:1:9: MLL005"), out


@pytest.mark.parametrize("build", MODEL_SHAPES.values(), ids=MODEL_SHAPES.keys())
def test_model_only_exported_script_with_magics(build: str, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = f"!pip install transformers\n{MODEL_IMPORTS}\n%%time\n{MODEL_CONFIG}\n{build}\nmodel.fit(train_dataset)\n"
    (project / "exported.py").write_text(script)
    code, out, err = run(["exported.py"], capsys)
    assert code == 1 and out.startswith("exported.py:5:9: MLL005"), (out, err)
    assert run(["--fix", "exported.py"], capsys)[0] == 0
    fixed = (project / "exported.py").read_text()
    assert "%%time\n" in fixed and "!pip install transformers\n" in fixed
    assert 'from_pretrained("bert-base-uncased", config=config)' in fixed
