"""The language server and the project analysis: a document's unsaved text is its module,
the project's other modules are read from disk; the findings a document's calls decide in a
module that is not open are published for that module."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("pygls.lsp.server", reason="needs pygls 2 (the [lsp] extra)")
pytest.importorskip("pytest_lsp", reason="needs pytest-lsp")

from pytest_lsp import LanguageClient

from tests.test_lsp import _change, _open_buffer, _published, _until, client  # noqa: F401 - `client` is a fixture

pytestmark = pytest.mark.lsp

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "project"
SCRATCH = "BertConfig(num_hidden_layers=2, hidden_size=64, num_attention_heads=2, intermediate_size=128)"


def _project(tmp_path: Path, case: str) -> Path:
    folder = tmp_path / case
    shutil.copytree(FIXTURES / case, folder)
    return folder


@pytest.mark.asyncio
@pytest.mark.parametrize(("case", "expected"), [("package_bug", ["MLL001"]), ("package_scratch", []), ("package_loaded", [])])
async def test_builder_document_reads_its_callers_from_disk(
    client: LanguageClient, tmp_path: Path, case: str, expected: list[str]
) -> None:
    folder = _project(tmp_path, case)
    builder = folder / "pkg" / "modeling.py"
    found = await _open_buffer(client, builder, builder.read_text("utf-8"))
    assert [d.code for d in found] == expected
    if expected:
        assert found[0].range.start.line == 6
        assert '"bert-base-uncased"' in found[0].message


@pytest.mark.asyncio
async def test_unsaved_script_decides_the_builders_published_findings(client: LanguageClient, tmp_path: Path) -> None:
    folder = _project(tmp_path, "package_scratch")
    script = folder / "pkg" / "train.py"
    builder_uri = (folder / "pkg" / "modeling.py").as_uri()
    on_disk = script.read_text("utf-8")
    buggy = on_disk.replace(SCRATCH, 'BertConfig.from_pretrained("bert-base-uncased")')
    assert buggy != on_disk
    # The unsaved script passes a pretrained config: the builder, not open, gets the finding.
    await _open_buffer(client, script, buggy)
    await _until(lambda: bool(_published(client, builder_uri)), "the builder's diagnostics")
    (published,) = _published(client, builder_uri)
    assert [(d.code, d.range.start.line) for d in published.diagnostics] == [("MLL001", 6)]
    # Back to a scratch config (still unsaved): the builder's finding is cleared.
    await _change(client, script.as_uri(), on_disk, 2)
    await _until(lambda: len(_published(client, builder_uri)) > 1, "the builder's diagnostics cleared")
    assert list(_published(client, builder_uri)[-1].diagnostics) == []
    assert script.read_text("utf-8") == on_disk
