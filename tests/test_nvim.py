"""A real editor: headless Neovim's own LSP client attached to `lint-mainlayer lsp`, through
the shared probe (`../shared/tools/nvim_lsp_probe.lua`; `apt-get install neovim`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lint_mainlayer import engine

pytest.importorskip("pygls.lsp.server", reason="needs pygls 2 (the [lsp] extra)")

pytestmark = pytest.mark.lsp

PROBE = Path(__file__).resolve().parents[1].parent / "shared" / "tools" / "nvim_lsp_probe.lua"
EMOJI_LINE = 'label = "🤗 café"; bert = TFBertMainLayer(config=config, trainable=False)'
SOURCE = (
    "from transformers import BertConfig, TFBertMainLayer\n"
    "\n"
    'config = BertConfig.from_pretrained("bert-base-uncased")\n'
    f"{EMOJI_LINE}\n"
)


def _nvim() -> str:
    nvim = shutil.which("nvim")
    if nvim is None:
        pytest.skip("nvim is not installed (apt-get install neovim)")
    if not PROBE.is_file():
        pytest.skip(f"the Neovim probe is not at {PROBE}")
    if " " in sys.executable:
        pytest.skip("the probe splits LSP_CMD on spaces; the Python path has one")
    return nvim


def _probe(nvim: str, folder: Path) -> dict[str, list[str]]:
    (folder / "model.py").write_text(SOURCE, encoding="utf-8")
    out = folder / "out.txt"
    env = {
        **os.environ,
        "LSP_CMD": f"{sys.executable} -m lint_mainlayer lsp",
        "OUT": str(out),
        # Keep Neovim's logs and state out of the real home.
        "HOME": str(folder),
        "XDG_CACHE_HOME": str(folder / "cache"),
        "XDG_STATE_HOME": str(folder / "state"),
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CONFIG_HOME": str(folder / "config"),
    }
    subprocess.run(
        [nvim, "--headless", "-n", "-i", "NONE", "-u", "NONE", "-c", f"luafile {PROBE}", "model.py"],
        cwd=folder,
        env=env,
        check=False,
        capture_output=True,
        timeout=90,
    )
    assert out.is_file(), "the probe wrote no report"
    report: dict[str, list[str]] = {}
    for line in out.read_text(encoding="utf-8").splitlines():
        head, _, rest = line.partition(" ")
        report.setdefault(head, []).append(rest)
    return report


def test_neovim_shows_the_finding_at_the_right_byte_column_and_offers_the_actions(tmp_path: Path) -> None:
    report = _probe(_nvim(), tmp_path)
    assert report["diagnostics"] == ["1"]
    (diag,) = report["diag"]
    fields = dict(part.split("=", 1) for part in diag.split(" msg=")[0].split())
    # Neovim counts columns in bytes; the server sent UTF-16 units, which Neovim converted.
    # A server sending code points would land 1 byte early per emoji (and 1 per é).
    start = len(EMOJI_LINE[: EMOJI_LINE.index("TFBertMainLayer")].encode("utf-8"))
    assert fields == {"line": "3", "col": str(start), "end_col": str(len(EMOJI_LINE.encode("utf-8"))), "code": "MLL001"}
    assert "random weights" in diag
    (actions,) = report["code_actions"]
    count, _, titles = actions.partition(" ")
    (finding,) = engine.lint_source(SOURCE)
    assert finding.fix is not None and finding.fix.applicability == "safe"
    assert titles.split(" | ") == [
        f"Fix MLL001: {finding.fix.description}",
        "Suppress MLL001 on this line (# noqa: MLL001)",
        "lint-mainlayer: fix all safely fixable findings",
    ]
    assert count == "3"


def _readme_snippet(heading: str) -> str:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    after = readme.split(heading, 1)[1]
    return after.split("```lua\n", 1)[1].split("```", 1)[0]


def test_the_readmes_neovim_0_7_snippet_attaches_the_server(tmp_path: Path) -> None:
    nvim = _nvim()
    version = subprocess.run([nvim, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("NVIM v")
    # `lint-mainlayer` on PATH, as the snippet expects: this checkout's, through the test's Python.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "lint-mainlayer"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m lint_mainlayer "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "model.py").write_text(SOURCE, encoding="utf-8")
    init = tmp_path / "init.lua"
    init.write_text(_readme_snippet("**Neovim 0.7**"), encoding="utf-8")
    out = tmp_path / "out.txt"
    report = (
        "lua vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 100);"
        f" local f = io.open('{out}', 'w'); local d = vim.diagnostic.get(0);"
        " local c = vim.lsp.get_active_clients()[1];"
        " f:write(#d .. ' ' .. (d[1] and d[1].code or '') .. ' ' .. (c and c.config.root_dir or '')); f:close()"
    )
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    subprocess.run(
        [nvim, "--headless", "-n", "-i", "NONE", "-u", str(init), "model.py", "-c", report, "-c", "qa!"],
        cwd=tmp_path, env=env, check=False, capture_output=True, timeout=90,
    )
    assert out.read_text(encoding="utf-8") == f"1 MLL001 {tmp_path}"
