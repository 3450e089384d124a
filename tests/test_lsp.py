"""The language server: pure converters, then the real server driven over stdio by
pytest-lsp's client (a pygls `LanguageClient`) impersonating VS Code and Neovim."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls.lsp.server", reason="needs pygls 2 (the [lsp] extra)")
pytest_lsp = pytest.importorskip("pytest_lsp", reason="needs pytest-lsp")

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from lint_mainlayer import engine, lsp
from lint_mainlayer.types import Diagnostic, FileResult, Fix, Settings

pytestmark = pytest.mark.lsp

EMOJI_LINE = 'label = "🤗 café"; bert = TFBertMainLayer(config=config, trainable=False)'
BUGGY = textwrap.dedent(
    f"""\
    from transformers import BertConfig, TFBertMainLayer

    config = BertConfig.from_pretrained("bert-base-uncased")
    {EMOJI_LINE}
    """
)
UNSAFE_ONLY = textwrap.dedent(
    """\
    from transformers import TFBertMainLayer


    def build(config):
        return TFBertMainLayer(config)
    """
)


# -- an independent reference for positions and edits (not the server's converters) -----


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _offset(text: str, position: types.Position, encoding: str) -> int:
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    start = starts[position.line]
    consumed = 0
    index = start
    while consumed < position.character:
        consumed += units(text[index], encoding)
        index += 1
    assert consumed == position.character, "position inside a character"
    return index


def apply_edits(text: str, edits: Sequence[types.TextEdit], encoding: str = "utf-16") -> str:
    spans = sorted(
        ((_offset(text, e.range.start, encoding), _offset(text, e.range.end, encoding), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def edits_of(action: types.CodeAction, uri: str) -> list[types.TextEdit]:
    assert action.edit is not None
    if action.edit.document_changes:
        (change,) = action.edit.document_changes
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.uri == uri
        return list(change.edits)  # type: ignore[arg-type]
    assert action.edit.changes is not None
    return list(action.edit.changes[uri])


# -- pure converters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        pytest.param("utf-16", len('label = "🤗 café"; bert = '.encode("utf-16-le")) // 2, id="utf-16"),
        pytest.param("utf-8", len('label = "🤗 café"; bert = '.encode()), id="utf-8"),
        pytest.param("utf-32", len('label = "🤗 café"; bert = '), id="utf-32"),
    ],
)
def test_client_column_counts_the_clients_units(encoding: str, expected: int) -> None:
    column = EMOJI_LINE.index("TFBertMainLayer")
    assert lsp.client_column(EMOJI_LINE, column, encoding) == expected


def test_split_lines_splits_only_where_lsp_does() -> None:
    assert lsp.split_lines("a\r\nb\rc\nd\x0ce\u2028f\n") == ["a", "b", "c", "d\x0ce\u2028f", ""]


def _finding(line: int = 4, code: str = "MLL001", fix: Fix | None = None) -> Diagnostic:
    column = EMOJI_LINE.index("TFBertMainLayer") + 1
    return Diagnostic(code, "message", line, column, line, len(EMOJI_LINE) + 1, fix)


def test_to_lsp_diagnostic_range_and_data_round_trip() -> None:
    fix = Fix("safe", "Load the weights", "x", 4, 1, 4, 5)
    finding = _finding(fix=fix)
    converted = lsp.to_lsp_diagnostic(finding, lsp.split_lines(BUGGY), "utf-16")
    prefix = EMOJI_LINE[: EMOJI_LINE.index("TFBertMainLayer")]
    assert converted.range == types.Range(
        start=types.Position(line=3, character=units(prefix, "utf-16")),
        end=types.Position(line=3, character=units(EMOJI_LINE, "utf-16")),
    )
    assert (converted.code, converted.source) == ("MLL001", "lint-mainlayer")
    assert lsp.from_lsp_data(converted.data) == finding
    assert lsp.from_lsp_data({"code": "MLL001"}) is None
    assert lsp.from_lsp_data(None) is None


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("a = 1\nb = 2\n", "a = 1\nb = 3\n", id="middle"),
        pytest.param("🤗 = f(x)\n", "🤗 = g(x)\n", id="after-emoji"),
        pytest.param("x\r\ny\r\n", "x\r\nz\r\ny\r\n", id="crlf-insert-line"),
        pytest.param("x\r\ny\r\n", "x\ny\r\n", id="crlf-to-lf"),
        pytest.param("abc", "", id="delete-all"),
        pytest.param("", "abc\n", id="from-empty"),
        pytest.param("aaa\n", "aaaa\n", id="repeated-chars"),
    ],
)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_minimal_edit_reproduces_the_new_text(old: str, new: str, encoding: str) -> None:
    edit = lsp.minimal_edit(old, new, encoding)
    assert edit is not None
    assert apply_edits(old, [edit], encoding) == new
    assert len(edit.new_text) <= len(new)


def test_minimal_edit_of_equal_texts_is_none() -> None:
    assert lsp.minimal_edit("same", "same", "utf-16") is None


@pytest.mark.parametrize(
    ("source", "lines", "expected"),
    [
        pytest.param("x = TFBertMainLayer(c)\n", (1, 1), "x = TFBertMainLayer(c)  # noqa: MLL001\n", id="plain"),
        pytest.param(
            "x = TFBertMainLayer(c)  # keep\n", (1, 1), "x = TFBertMainLayer(c)  # keep  # noqa: MLL001\n", id="comment"
        ),
        pytest.param(
            "x = TFBertMainLayer(c)  # noqa: MLL002\n",
            (1, 1),
            "x = TFBertMainLayer(c)  # noqa: MLL002, MLL001\n",
            id="noqa-codes",
        ),
        pytest.param(
            "x = f(\n    TFBertMainLayer(c),\n)\n", (2, 2), "x = f(\n    TFBertMainLayer(c),  # noqa: MLL001\n)\n", id="bracketed"
        ),
        pytest.param(
            "x = \\\n  TFBertMainLayer(\n  c)\n", (2, 3), "x = \\\n  TFBertMainLayer(  # noqa: MLL001\n  c)\n", id="multiline"
        ),
        pytest.param(
            "x = TFBertMainLayer(c) + \\\n    1\n", (1, 2), "x = TFBertMainLayer(c) + \\\n    1  # noqa: MLL001\n", id="backslash"
        ),
        pytest.param("🤗 = TFBertMainLayer(c)\r\n", (1, 1), "🤗 = TFBertMainLayer(c)  # noqa: MLL001\r\n", id="emoji-crlf"),
    ],
)
def test_noqa_edit(source: str, lines: tuple[int, int], expected: str) -> None:
    line, end_line = lines
    column = lsp.split_lines(source)[line - 1].index("TFBertMainLayer") + 1
    finding = Diagnostic("MLL001", "m", line, column, end_line, 3)
    edit = lsp.noqa_edit(source, finding, "utf-16")
    assert edit is not None
    assert apply_edits(source, [edit]) == expected


def test_noqa_edit_with_a_bare_noqa_is_none() -> None:
    assert lsp.noqa_edit("x = y  # noqa\n", Diagnostic("MLL001", "m", 1, 5, 1, 6), "utf-16") is None


@pytest.mark.parametrize(
    ("kind", "only", "wanted"),
    [
        pytest.param(lsp.FIX_ALL, None, True, id="no-filter"),
        pytest.param(lsp.FIX_ALL, ["source.fixAll"], True, id="parent-kind"),
        pytest.param(lsp.FIX_ALL, ["source"], True, id="grandparent-kind"),
        pytest.param(lsp.FIX_ALL, ["quickfix"], False, id="other-kind"),
        pytest.param("quickfix", ["quick"], False, id="not-a-prefix-on-a-dot"),
    ],
)
def test_kind_wanted(kind: str, only: list[str] | None, wanted: bool) -> None:
    assert lsp.kind_wanted(kind, only) is wanted


def test_to_code_actions_builds_fix_noqa_and_fix_all() -> None:
    safe = _finding(fix=Fix("safe", "Load the weights", "r", 4, 1, 4, 5))
    unsafe = _finding(line=4, code="MLL002", fix=Fix("unsafe", "Load `x`", "r", 4, 1, 4, 5, unsafe_reason="origin unknown"))
    lines = lsp.split_lines(BUGGY)
    pairs = [(lsp.to_lsp_diagnostic(d, lines, "utf-16"), d) for d in (safe, unsafe)]
    fixed = {safe.key: BUGGY.replace("TFBertMainLayer", "Fixed"), unsafe.key: BUGGY.replace("config=config", "c")}
    actions = lsp.to_code_actions(
        "file:///m.py", 3, BUGGY, pairs, fixed, BUGGY.upper(), encoding="utf-16", document_changes=True
    )
    titles = [a.title for a in actions]
    assert titles == [
        "Fix MLL001: Load the weights",
        "Fix MLL002: Load `x` (unsafe)",
        "Suppress MLL001 on this line (# noqa: MLL001)",
        "Suppress MLL002 on this line (# noqa: MLL002)",
        "lint-mainlayer: fix all safely fixable findings",
    ]
    assert [a.kind for a in actions] == ["quickfix"] * 4 + ["source.fixAll.lint-mainlayer"]
    assert actions[0].is_preferred and not actions[1].is_preferred
    assert apply_edits(BUGGY, edits_of(actions[0], "file:///m.py")) == fixed[safe.key]
    only_fix_all = lsp.to_code_actions(
        "file:///m.py", 3, BUGGY, pairs, fixed, BUGGY.upper(),
        encoding="utf-16", document_changes=False, only=["source.fixAll"],
    )
    assert [a.kind for a in only_fix_all] == ["source.fixAll.lint-mainlayer"]
    assert only_fix_all[0].edit is not None and only_fix_all[0].edit.changes is not None


# -- the real server over stdio ----------------------------------------------------------

SERVER = [sys.executable, "-m", "lint_mainlayer", "lsp"]


def _recording_client() -> LanguageClient:
    """pytest-lsp's client, also keeping every publishDiagnostics (to see debouncing) and
    accepting the server's registration of file watchers."""
    client = LanguageClient(converter_factory=default_converter)
    published: list[types.PublishDiagnosticsParams] = []
    client.published = published  # type: ignore[attr-defined]

    def publish(ls: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        ls.diagnostics[params.uri] = params.diagnostics
        published.append(params)

    def register(ls: LanguageClient, params: types.RegistrationParams) -> None:
        return None

    register_lsp_features(
        client,
        {
            **DEFAULT_CLIENT_FEATURES,
            types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish,
            types.CLIENT_REGISTER_CAPABILITY: register,
        },
    )
    return client


CONFIG = ClientServerConfig(server_command=SERVER, client_factory=_recording_client)


def _capabilities(name: str) -> types.ClientCapabilities:
    if name == "vscode-utf8":
        caps = client_capabilities("visual-studio-code")
        caps.general = types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16]
        )
        return caps
    return client_capabilities(name)


@pytest_lsp.fixture(config=CONFIG, params=["visual-studio-code"])  # type: ignore[untyped-decorator]
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    result = await lsp_client.initialize_session(
        types.InitializeParams(capabilities=_capabilities(request.param), root_uri=tmp_path.as_uri())
    )
    lsp_client.encoding = result.capabilities.position_encoding or "utf-16"  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG, params=["vscode-utf8", "neovim@v0.7.0"])  # type: ignore[untyped-decorator]
async def other_client(lsp_client: LanguageClient, request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    result = await lsp_client.initialize_session(
        types.InitializeParams(capabilities=_capabilities(request.param), root_uri=tmp_path.as_uri())
    )
    lsp_client.encoding = result.capabilities.position_encoding or "utf-16"  # type: ignore[attr-defined]
    lsp_client.impersonating = request.param  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def _until(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def _published(client: LanguageClient, uri: str) -> list[types.PublishDiagnosticsParams]:
    return [p for p in client.published if p.uri == uri]  # type: ignore[attr-defined]


async def _open(client: LanguageClient, path: Path, text: str) -> list[types.Diagnostic]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    return await _open_buffer(client, path, text)


async def _open_buffer(client: LanguageClient, path: Path, text: str) -> list[types.Diagnostic]:
    """Open `path` with `text`, which need not be what the file holds."""
    uri = path.as_uri()
    before = len(_published(client, uri))
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    await _until(lambda: len(_published(client, uri)) > before, "diagnostics on open")
    return list(_published(client, uri)[-1].diagnostics)


async def _change(client: LanguageClient, uri: str, text: str, version: int) -> list[types.Diagnostic]:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    await _until(
        lambda: any(p.version == version for p in _published(client, uri)), f"diagnostics for version {version}"
    )
    return list(next(p for p in _published(client, uri) if p.version == version).diagnostics)


async def _actions(
    client: LanguageClient, uri: str, diagnostics: list[types.Diagnostic], only: list[str] | None = None
) -> list[types.CodeAction]:
    target = diagnostics[0].range if diagnostics else types.Range(
        start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
    )
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=target,
            context=types.CodeActionContext(diagnostics=diagnostics, only=only),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


@pytest.mark.asyncio
async def test_open_publishes_the_finding_with_a_utf16_range(client: LanguageClient, tmp_path: Path) -> None:
    (diagnostic,) = await _open(client, tmp_path / "model.py", BUGGY)
    prefix = EMOJI_LINE[: EMOJI_LINE.index("TFBertMainLayer")]
    assert diagnostic.range == types.Range(
        start=types.Position(line=3, character=units(prefix, "utf-16")),
        end=types.Position(line=3, character=units(EMOJI_LINE, "utf-16")),
    )
    # The emoji is 2 UTF-16 units, 1 code point: a server counting code points is off by one.
    assert units(prefix, "utf-16") == len(prefix) + 1
    assert (diagnostic.code, diagnostic.source) == ("MLL001", "lint-mainlayer")
    assert "random weights" in diagnostic.message


@pytest.mark.asyncio
async def test_quick_fix_applied_makes_the_finding_go(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    diagnostics = await _open(client, path, BUGGY)
    actions = await _actions(client, path.as_uri(), diagnostics)
    titles = [a.title for a in actions]
    (finding,) = engine.lint_source(BUGGY)
    assert finding.fix is not None
    assert f"Fix MLL001: {finding.fix.description}" in titles
    assert "Suppress MLL001 on this line (# noqa: MLL001)" in titles
    fix = next(a for a in actions if a.title.startswith("Fix MLL001"))
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
    assert fix.diagnostics and fix.diagnostics[0].code == "MLL001"
    new_text = apply_edits(BUGGY, edits_of(fix, path.as_uri()))
    assert "TFBertModel.from_pretrained(" in new_text and "TFBertMainLayer(" not in new_text.split("\n", 1)[1]
    assert "🤗 café" in new_text
    assert await _change(client, path.as_uri(), new_text, 2) == []


@pytest.mark.asyncio
async def test_fix_all_applies_the_safe_fixes(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    await _open(client, path, BUGGY)
    actions = await _actions(client, path.as_uri(), [], only=[types.CodeActionKind.SourceFixAll])
    assert [a.kind for a in actions] == ["source.fixAll.lint-mainlayer"]
    new_text = apply_edits(BUGGY, edits_of(actions[0], path.as_uri()))
    assert await _change(client, path.as_uri(), new_text, 2) == []


@pytest.mark.asyncio
async def test_noqa_action_silences_the_finding(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    diagnostics = await _open(client, path, BUGGY)
    actions = await _actions(client, path.as_uri(), diagnostics, only=[types.CodeActionKind.QuickFix])
    noqa = next(a for a in actions if a.title.startswith("Suppress"))
    new_text = apply_edits(BUGGY, edits_of(noqa, path.as_uri()))
    assert new_text.splitlines()[3] == EMOJI_LINE + "  # noqa: MLL001"
    assert await _change(client, path.as_uri(), new_text, 2) == []


@pytest.mark.asyncio
async def test_unsafe_fix_is_only_a_marked_quick_fix(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "build.py"
    diagnostics = await _open(client, path, UNSAFE_ONLY)
    assert [d.code for d in diagnostics] == ["MLL002"]
    actions = await _actions(client, path.as_uri(), diagnostics)
    fix = next(a for a in actions if a.title.startswith("Fix MLL002"))
    assert fix.title.endswith("(unsafe)") and not fix.is_preferred
    # fix-all applies safe fixes only: there are none.
    assert not any(a.kind == "source.fixAll.lint-mainlayer" for a in actions)
    new_text = apply_edits(UNSAFE_ONLY, edits_of(fix, path.as_uri()))
    assert "TFBertModel.from_pretrained(config.name_or_path, config=config).bert" in new_text
    assert await _change(client, path.as_uri(), new_text, 2) == []


@pytest.mark.asyncio
async def test_changes_are_debounced(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    uri = path.as_uri()
    await _open(client, path, BUGGY)
    count = len(_published(client, uri))
    for version in range(2, 6):
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=BUGGY + "#" * version + "\n")],
            )
        )
    await _until(lambda: len(_published(client, uri)) > count, "debounced diagnostics")
    await asyncio.sleep(0.6)
    latest = _published(client, uri)[count:]
    assert [p.version for p in latest] == [5]
    assert [d.code for d in latest[0].diagnostics] == ["MLL001"]


@pytest.mark.asyncio
async def test_close_clears_and_save_relints(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    uri = path.as_uri()
    await _open(client, path, BUGGY)
    count = len(_published(client, uri))
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await _until(lambda: len(_published(client, uri)) > count, "diagnostics on save")
    assert len(_published(client, uri)[-1].diagnostics) == 1
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await _until(lambda: list(_published(client, uri)[-1].diagnostics) == [], "cleared diagnostics")


@pytest.mark.asyncio
async def test_unparsable_source_publishes_nothing_and_the_server_carries_on(
    client: LanguageClient, tmp_path: Path
) -> None:
    path = tmp_path / "model.py"
    assert await _open(client, path, BUGGY.replace("(config=config", "((config=config")) == []
    assert [d.code for d in await _change(client, path.as_uri(), BUGGY, 2)] == ["MLL001"]


@pytest.mark.asyncio
async def test_project_config_of_the_files_folder_applies(client: LanguageClient, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.lint-mainlayer]\nignore = ["MLL001"]\nextend-exclude = ["generated/"]\n', encoding="utf-8"
    )
    assert await _open(client, project / "src" / "model.py", BUGGY) == []
    assert await _open(client, project / "generated" / "build.py", UNSAFE_ONLY) == []
    assert [d.code for d in await _open(client, project / "src" / "build.py", UNSAFE_ONLY)] == ["MLL002"]
    # Outside the project, the defaults.
    assert [d.code for d in await _open(client, tmp_path / "other.py", BUGGY)] == ["MLL001"]


@pytest.mark.asyncio
async def test_a_broken_config_is_reported_once_and_the_defaults_apply(
    client: LanguageClient, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.lint-mainlayer]\nselekt = ["MLL"]\n', encoding="utf-8")
    assert [d.code for d in await _open(client, tmp_path / "a.py", BUGGY)] == ["MLL001"]
    assert [d.code for d in await _open(client, tmp_path / "b.py", BUGGY)] == ["MLL001"]
    shown = [m.message for m in client.messages if "selekt" in m.message]
    assert len(shown) == 1 and "using the default settings" in shown[0]


@pytest.mark.asyncio
async def test_config_changes_are_picked_up(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    uri = path.as_uri()
    assert len(await _open(client, path, BUGGY)) == 1
    count = len(_published(client, uri))
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.lint-mainlayer]\nignore = ["MLL"]\n', encoding="utf-8")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Created)]
        )
    )
    await _until(lambda: len(_published(client, uri)) > count, "diagnostics after the config changed")
    assert list(_published(client, uri)[-1].diagnostics) == []


@pytest.mark.asyncio
async def test_untitled_documents_are_linted_with_the_working_folders_config(client: LanguageClient) -> None:
    uri = "untitled:Untitled-1"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=BUGGY)
        )
    )
    await _until(lambda: bool(_published(client, uri)), "diagnostics for an untitled document")
    assert [d.code for d in _published(client, uri)[-1].diagnostics] == ["MLL001"]


@pytest.mark.asyncio
async def test_other_clients_encodings_and_edits(other_client: LanguageClient, tmp_path: Path) -> None:
    client = other_client
    encoding = client.encoding  # type: ignore[attr-defined]
    name = client.impersonating  # type: ignore[attr-defined]
    assert encoding == ("utf-8" if name == "vscode-utf8" else "utf-16")
    path = tmp_path / "model.py"
    (diagnostic,) = await _open(client, path, BUGGY)
    prefix = EMOJI_LINE[: EMOJI_LINE.index("TFBertMainLayer")]
    assert diagnostic.range.start == types.Position(line=3, character=units(prefix, encoding))
    actions = await _actions(client, path.as_uri(), [diagnostic])
    fix = next(a for a in actions if a.title.startswith("Fix MLL001"))
    assert fix.edit is not None
    # Neovim 0.7 does not declare `documentChanges`: plain `changes` then.
    assert (fix.edit.document_changes is None) == (name == "neovim@v0.7.0")
    new_text = apply_edits(BUGGY, edits_of(fix, path.as_uri()), encoding)
    assert await _change(client, path.as_uri(), new_text, 2) == []


# -- the command ---------------------------------------------------------------------------


def test_lsp_command_without_pygls_says_what_to_install() -> None:
    blocker = textwrap.dedent(
        """\
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "pygls" or name.startswith("pygls."):
                    raise ImportError("blocked for the test")
        sys.meta_path.insert(0, Block())
        from lint_mainlayer.cli import main
        raise SystemExit(main(["lsp"]))
        """
    )
    done = subprocess.run([sys.executable, "-c", blocker], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "install lint-mainlayer[lsp]" in done.stderr
    assert done.stdout == ""


def test_lsp_command_help() -> None:
    done = subprocess.run(SERVER + ["--help"], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "language server" in done.stdout


@pytest.mark.asyncio
async def test_a_quick_fix_is_computed_once_per_document_version(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, ...]] = []
    real = lsp.api.fix_text

    def counting(*args: Any, **kwargs: Any) -> FileResult:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(lsp.api, "fix_text", counting)
    server = lsp.MainLayerServer()
    settings = Settings()
    [finding] = engine.lint_source(BUGGY)
    uri = "file:///m.py"
    first = await server._fixed(uri, 1, BUGGY, settings, finding.key, unsafe=True)
    again = await server._fixed(uri, 1, BUGGY, settings, finding.key, unsafe=True)
    assert first is not None and first == again and len(calls) == 1
    # A new version of the document is fixed afresh; fix-all is its own entry.
    await server._fixed(uri, 2, BUGGY, settings, finding.key, unsafe=True)
    await server._fixed(uri, 2, BUGGY, settings, None, unsafe=False)
    await server._fixed(uri, 2, BUGGY, settings, None, unsafe=False)
    assert len(calls) == 3


# -- issue 15: documentation links, hover, settings read again on save, notebooks ---------

SUBCLASS = textwrap.dedent(
    """\
    from transformers import TFBertMainLayer, TFBertPreTrainedModel
    class Enc(TFBertPreTrainedModel):
        def __init__(self, config, *inputs, **kwargs):
            super().__init__(config, *inputs, **kwargs)
            self.bert = TFBertMainLayer(config, name="bert")
    """
)


@pytest.mark.asyncio
async def test_diagnostic_links_to_the_rule_and_hover_shows_its_documentation(
    client: LanguageClient, tmp_path: Path
) -> None:
    from lint_mainlayer import codes

    path = tmp_path / "model.py"
    (diagnostic,) = await _open(client, path, BUGGY)
    assert diagnostic.code_description is not None
    assert diagnostic.code_description.href == codes.doc_url("MLL001")
    assert diagnostic.code_description.href.endswith("#mll001-pretrained-config-without-weights")
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=diagnostic.range.start)
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.value.startswith("# pretrained-config-without-weights (MLL001)")
    assert "## Why is this bad?" in hover.contents.value and codes.doc_url("MLL001") in hover.contents.value
    assert hover.range == diagnostic.range
    elsewhere = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=types.Position(line=0, character=0)
        )
    )
    assert elsewhere is None


async def _save(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    count = len(_published(client, uri))
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await _until(lambda: len(_published(client, uri)) > count, "diagnostics on save")
    return list(_published(client, uri)[-1].diagnostics)


@pytest.mark.asyncio
async def test_settings_are_read_again_on_save_without_a_file_watcher(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "model.py"
    assert len(await _open(client, path, BUGGY)) == 1
    # The client reports no file change (as a client that watches no files): saving the
    # Python file notices the new pyproject.toml.
    (tmp_path / "pyproject.toml").write_text('[tool.lint-mainlayer]\nignore = ["MLL001"]\n', encoding="utf-8")
    assert await _save(client, path.as_uri()) == []


@pytest.mark.asyncio
async def test_a_requirements_pin_is_picked_up_on_save(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "enc.py"
    (diagnostic,) = await _open(client, path, SUBCLASS)
    assert diagnostic.code == "MLL004"
    (tmp_path / "requirements.txt").write_text("transformers==4.36.2\n", encoding="utf-8")
    assert await _save(client, path.as_uri()) == []
    (tmp_path / "requirements.txt").write_text("transformers==4.41.0\n", encoding="utf-8")
    (again,) = await _save(client, path.as_uri())
    assert "(requirements.txt: transformers==4.41.0)" in again.message


@pytest.mark.asyncio
async def test_notebook_document_cells_get_their_findings(client: LanguageClient, tmp_path: Path) -> None:
    notebook_uri = (tmp_path / "nb.ipynb").as_uri()
    cells = [
        "!pip install transformers\nfrom transformers import BertConfig, TFBertMainLayer",
        '%%time\nconfig = BertConfig.from_pretrained("bert-base-uncased")\nbert = TFBertMainLayer(config)',
    ]
    cell_uris = [f"vscode-notebook-cell:{tmp_path / 'nb.ipynb'}#cell{i}" for i in range(len(cells))]
    client.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=notebook_uri,
                notebook_type="jupyter-notebook",
                version=1,
                cells=[types.NotebookCell(kind=types.NotebookCellKind.Code, document=u) for u in cell_uris],
            ),
            cell_text_documents=[
                types.TextDocumentItem(uri=u, language_id="python", version=1, text=t)
                for u, t in zip(cell_uris, cells)
            ],
        )
    )
    await _until(lambda: all(_published(client, u) for u in cell_uris), "diagnostics for every cell")
    assert list(_published(client, cell_uris[0])[-1].diagnostics) == []
    (diagnostic,) = _published(client, cell_uris[1])[-1].diagnostics
    assert diagnostic.code == "MLL001"
    assert (diagnostic.range.start.line, diagnostic.range.start.character) == (2, 7)
    client.notebook_document_did_close(
        types.DidCloseNotebookDocumentParams(
            notebook_document=types.NotebookDocumentIdentifier(uri=notebook_uri),
            cell_text_documents=[types.TextDocumentIdentifier(uri=u) for u in cell_uris],
        )
    )
    await _until(lambda: list(_published(client, cell_uris[1])[-1].diagnostics) == [], "cleared cell diagnostics")


@pytest.mark.asyncio
async def test_exported_script_with_magics_gets_findings_and_fixes(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "exported.py"
    text = "!pip install transformers\n%%time\n" + BUGGY
    (diagnostic,) = await _open(client, path, text)
    assert diagnostic.code == "MLL001" and diagnostic.range.start.line == 5
    actions = await _actions(client, path.as_uri(), [diagnostic], only=[lsp.FIX_ALL])
    (fix_all,) = actions
    new_text = apply_edits(text, edits_of(fix_all, path.as_uri()))
    assert new_text.startswith("!pip install transformers\n%%time\n") and "TFBertModel.from_pretrained(" in new_text


@pytest.mark.asyncio
async def test_per_file_ignores_apply_in_the_editor(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lint-mainlayer.per-file-ignores]\n"tests/*" = ["MLL001"]\n', encoding="utf-8"
    )
    assert await _open(client, tmp_path / "tests" / "test_model.py", BUGGY) == []
    assert [d.code for d in await _open(client, tmp_path / "model.py", BUGGY)] == ["MLL001"]
