"""The language server: lint-mainlayer findings as LSP diagnostics and code actions (pygls 2).

Transport only: findings, fixes and settings come from `api`, as for the command line.
Diagnostics are published on open and save, on change after a short pause (debounced), and
cleared on close. Code actions: a quick fix per fixable finding (computed once per document
version, through `api.fix_text`, and sent as one minimal edit), "suppress with
`# noqa: CODE`", and `source.fixAll.lint-mainlayer` for all safe fixes.

The project analysis: a document is linted from its unsaved text, the other modules of its
project from disk (`api.check_text`). After each lint, the findings that the document's
calls decide in project modules that are not open are published for those modules
(`api.check_dependents`), and cleared when they no longer hold; an open module shows its
own lint.

Positions: the engine counts columns in code points; LSP clients count in the encoding
negotiated at initialisation (UTF-16 unless the client offers UTF-8 or UTF-32), so every
column crossing the wire goes through `client_column`. The converters below are pure
functions, tested without a server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from lint_mainlayer import __version__, api
from lint_mainlayer.api import LINE_BREAK, noqa_edits, split_lines
from lint_mainlayer.types import (
    Diagnostic,
    FileResult,
    Fix,
    RuleDoc,
    Settings,
    diagnostic_from_dict,
)

SOURCE = "lint-mainlayer"
DEBOUNCE_SECONDS = 0.3
QUICK_FIX = types.CodeActionKind.QuickFix.value
FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.{SOURCE}"

Key = tuple[str, int, int]


# -- pure converters ---------------------------------------------------------------------


def client_units(text: str, encoding: str) -> int:
    """The length of `text` in the client's position encoding ("utf-8", "utf-16", "utf-32")."""
    if encoding == types.PositionEncodingKind.Utf32.value:
        return len(text)
    if encoding == types.PositionEncodingKind.Utf8.value:
        return len(text.encode("utf-8", "surrogatepass"))
    # UTF-16 is the protocol's default, and the fallback for anything unknown.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def client_column(line: str, column: int, encoding: str) -> int:
    """A 0-based code-point offset into `line`, in the client's units."""
    return client_units(line[:column], encoding)


def to_position(lines: Sequence[str], line: int, column: int, encoding: str) -> types.Position:
    """A 1-based line and 1-based code-point column (the engine's) as an LSP position."""
    index = min(max(line - 1, 0), max(len(lines) - 1, 0))
    text = lines[index] if lines else ""
    return types.Position(line=index, character=client_column(text, max(column - 1, 0), encoding))


def to_range(lines: Sequence[str], diagnostic: Diagnostic, encoding: str) -> types.Range:
    """The span of a finding as an LSP range."""
    return types.Range(
        start=to_position(lines, diagnostic.line, diagnostic.column, encoding),
        end=to_position(lines, diagnostic.end_line, diagnostic.end_column, encoding),
    )


@lru_cache(maxsize=1)
def _rules() -> dict[str, RuleDoc]:
    return {rule.code: rule for rule in api.rule_docs()}


def to_lsp_diagnostic(diagnostic: Diagnostic, lines: Sequence[str], encoding: str) -> types.Diagnostic:
    """A finding as an LSP diagnostic; the whole finding (with its fix) travels in `data`,
    and `codeDescription` links to the rule's documentation."""
    rule = _rules().get(diagnostic.code)
    return types.Diagnostic(
        range=to_range(lines, diagnostic, encoding),
        message=diagnostic.message,
        # Warning, as linters do in editors: errors are for code that cannot run.
        severity=types.DiagnosticSeverity.Warning,
        code=diagnostic.code,
        code_description=types.CodeDescription(href=rule.url) if rule is not None else None,
        source=SOURCE,
        data=asdict(diagnostic),
    )


def hover_markdown(code: str) -> str | None:
    """The hover text for a finding of rule `code`: its documentation and a link to it."""
    rule = _rules().get(code)
    if rule is None:
        return None
    from lint_mainlayer.rule_command import explanation

    return f"{explanation(rule)}\n[{code} documentation]({rule.url})"


def contains(lsp_range: types.Range, position: types.Position) -> bool:
    """Whether `position` lies in `lsp_range` (ends included: the cursor may sit right after it)."""
    start, end = lsp_range.start, lsp_range.end
    return (start.line, start.character) <= (position.line, position.character) <= (end.line, end.character)


def from_lsp_data(data: Any) -> Diagnostic | None:
    """The finding a diagnostic's `data` carries, or None when it carries none (or garbage)."""
    try:
        return diagnostic_from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None


def _position_at(source: str, offset: int, encoding: str) -> types.Position:
    breaks = list(LINE_BREAK.finditer(source, 0, offset))
    start = breaks[-1].end() if breaks else 0
    return types.Position(line=len(breaks), character=client_units(source[start:offset], encoding))


def minimal_edit(old: str, new: str, encoding: str) -> types.TextEdit | None:
    """One edit turning `old` into `new`: the differing middle, common prefix and suffix kept."""
    if old == new:
        return None
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    # A position between \r and \n does not exist in LSP: widen the edit around the pair.
    if 0 < prefix < len(old) and old[prefix - 1] == "\r" and old[prefix] == "\n":
        prefix -= 1
    end = len(old) - suffix
    if 0 < end < len(old) and old[end - 1] == "\r" and old[end] == "\n":
        end += 1
        suffix -= 1
    return types.TextEdit(
        range=types.Range(start=_position_at(old, prefix, encoding), end=_position_at(old, end, encoding)),
        new_text=new[prefix : len(new) - suffix],
    )


def noqa_edit(source: str, diagnostic: Diagnostic, encoding: str) -> types.TextEdit | None:
    """The edit adding `# noqa: CODE` for a finding, as `--add-noqa` writes it: to the codes
    of an existing `noqa` comment, or as a new comment at the end of the first line of the
    finding that can hold one (not a line continued by a backslash or inside a string)."""
    edits = noqa_edits(source, [(diagnostic.code, diagnostic.line, diagnostic.end_line)])
    if not edits:
        return None
    (edit,) = edits
    text = split_lines(source)[edit.line - 1]
    return types.TextEdit(
        range=types.Range(
            start=types.Position(line=edit.line - 1, character=client_column(text, edit.start, encoding)),
            end=types.Position(line=edit.line - 1, character=client_column(text, edit.end, encoding)),
        ),
        new_text=edit.text,
    )


def kind_wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Whether a code action of `kind` passes the client's `only` filter (kinds are
    hierarchical: "source" admits "source.fixAll.lint-mainlayer")."""
    if only is None:
        return True
    return any(kind == wanted or kind.startswith(wanted + ".") for wanted in only)


def _workspace_edit(
    uri: str, version: int | None, edit: types.TextEdit, document_changes: bool
) -> types.WorkspaceEdit:
    if document_changes:
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        return types.WorkspaceEdit(
            document_changes=[types.TextDocumentEdit(text_document=identifier, edits=[edit])]
        )
    return types.WorkspaceEdit(changes={uri: [edit]})


def _fix_title(diagnostic: Diagnostic, fix: Fix) -> str:
    # A menu entry only needs the marker; the reason is in the finding's fix record.
    marker = " (unsafe)" if fix.applicability == "unsafe" else ""
    return f"Fix {diagnostic.code}: {fix.description}{marker}"


def to_code_actions(
    uri: str,
    version: int | None,
    source: str,
    findings: Sequence[tuple[types.Diagnostic, Diagnostic]],
    fixed: Mapping[Key, str],
    fix_all: str | None,
    *,
    encoding: str,
    document_changes: bool,
    only: Sequence[str] | None = None,
) -> list[types.CodeAction]:
    """The code actions for `findings` (client diagnostic, engine finding) in `source`.

    `fixed` maps a finding's key to the whole source with just its fix applied; `fix_all`
    is the source with all safe fixes applied (None: no fix-all action).
    """
    actions: list[types.CodeAction] = []
    if kind_wanted(QUICK_FIX, only):
        for lsp_diagnostic, diagnostic in findings:
            new_source = fixed.get(diagnostic.key)
            edit = minimal_edit(source, new_source, encoding) if new_source is not None else None
            if edit is not None and diagnostic.fix is not None:
                actions.append(
                    types.CodeAction(
                        title=_fix_title(diagnostic, diagnostic.fix),
                        kind=QUICK_FIX,
                        diagnostics=[lsp_diagnostic],
                        edit=_workspace_edit(uri, version, edit, document_changes),
                        is_preferred=diagnostic.fix.applicability == "safe",
                    )
                )
        seen: set[tuple[str, int, int, str]] = set()
        for lsp_diagnostic, diagnostic in findings:
            edit = noqa_edit(source, diagnostic, encoding)
            if edit is None:
                continue
            where = (diagnostic.code, edit.range.start.line, edit.range.start.character, edit.new_text)
            if where in seen:
                continue
            seen.add(where)
            actions.append(
                types.CodeAction(
                    title=f"Suppress {diagnostic.code} on this line (# noqa: {diagnostic.code})",
                    kind=QUICK_FIX,
                    diagnostics=[lsp_diagnostic],
                    edit=_workspace_edit(uri, version, edit, document_changes),
                )
            )
    if fix_all is not None and kind_wanted(FIX_ALL, only):
        edit = minimal_edit(source, fix_all, encoding)
        if edit is not None:
            actions.append(
                types.CodeAction(
                    title=f"{SOURCE}: fix all safely fixable findings",
                    kind=FIX_ALL,
                    edit=_workspace_edit(uri, version, edit, document_changes),
                )
            )
    return actions


# -- the server --------------------------------------------------------------------------


def _encoding_name(encoding: Any) -> str:
    value = getattr(encoding, "value", encoding)
    return value if isinstance(value, str) else types.PositionEncodingKind.Utf16.value


def _lint(source: str, settings: Settings, path: str = "") -> tuple[Diagnostic, ...]:
    # Mid-edit source often does not parse: its error shows nothing rather than stale findings.
    # `path` places the document in its project (the unsaved text for it, disk for the rest).
    return api.check_text(source, path, settings).diagnostics


class MainLayerServer(LanguageServer):
    """pygls server holding per-document lint state; handlers are added by `make_server`."""

    def __init__(self, debounce: float = DEBOUNCE_SECONDS) -> None:
        # LSP 3.17 notebook sync: Jupyter notebooks' Python cells come as one notebook document.
        notebooks = types.NotebookDocumentSyncOptions(
            notebook_selector=[
                types.NotebookDocumentFilterWithCells(
                    notebook="jupyter-notebook", cells=[types.NotebookCellLanguage(language="python")]
                )
            ],
            save=True,
        )
        super().__init__(SOURCE, __version__, notebook_document_sync=notebooks)
        # folder -> the state of its project files when last looked at (see `project_files_changed`).
        self._project_files: dict[Path, tuple[tuple[str, int, int], ...]] = {}
        self.debounce = debounce
        self._pending: dict[str, asyncio.Task[None]] = {}
        # uri -> (text, findings): the last lint, reused by code actions on the same text.
        self._linted: dict[str, tuple[str, tuple[Diagnostic, ...]]] = {}
        # uri -> (version, {(finding key or None for fix-all, unsafe): fixed text or None}):
        # fixes are computed once per document version, not on every code-action request.
        self._fixes: dict[str, tuple[int | None, dict[tuple[Key | None, bool], str | None]]] = {}
        self._reported: set[str] = set()
        # uri -> the modules it calls whose findings were last published on its behalf.
        self._dependents: dict[str, set[str]] = {}

    @property
    def encoding(self) -> str:
        """The negotiated position encoding."""
        return _encoding_name(self.workspace.position_encoding)

    def _message(self, text: str, kind: types.MessageType) -> None:
        if text in self._reported:
            return
        self._reported.add(text)
        self.window_show_message(types.ShowMessageParams(type=kind, message=f"{SOURCE}: {text}"))

    def _log(self, text: str, kind: types.MessageType = types.MessageType.Log) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=text))

    def settings_for(self, uri: str) -> Settings | None:
        """The settings for a document (its folder's pyproject.toml; the working folder's
        for unsaved documents), or None when the config excludes the file."""
        path_text = to_fs_path(uri) if uri.startswith("file:") else None
        path = Path(path_text) if path_text else None
        if path is not None and path.parent not in self._project_files:
            # The baseline `project_files_changed` compares with on save.
            self._project_files[path.parent] = api.project_files_state(path.parent)
        found = api.document_settings(path)
        if found.warning is not None:
            self._message(found.warning, types.MessageType.Warning)
        return found.settings

    def schedule(self, uri: str, delay: float) -> None:
        """Lint `uri` after `delay` seconds, replacing any lint already waiting for it."""
        self._replace_pending(uri, self._lint_and_publish(uri, delay))

    def _replace_pending(self, uri: str, lint: Coroutine[Any, Any, None]) -> None:
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        task = asyncio.get_running_loop().create_task(lint)
        self._pending[uri] = task
        task.add_done_callback(lambda done: self._done(uri, done))

    def _done(self, uri: str, task: asyncio.Task[None]) -> None:
        if self._pending.get(uri) is task:
            del self._pending[uri]
        if not task.cancelled() and task.exception() is not None:
            self._log(f"linting {uri} failed: {task.exception()!r}", types.MessageType.Error)

    async def findings(self, uri: str, text: str) -> tuple[Diagnostic, ...]:
        """The findings in `text` (the document's current text), from the last lint when
        the text has not changed since."""
        cached = self._linted.get(uri)
        if cached is not None and cached[0] == text:
            return cached[1]
        settings = self.settings_for(uri)
        path = (to_fs_path(uri) or "") if uri.startswith("file:") else ""
        found = () if settings is None else await asyncio.to_thread(_lint, text, settings, path)
        self._linted[uri] = (text, found)
        return found

    async def _lint_and_publish(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        document = self.workspace.get_text_document(uri)
        text, version = document.source, document.version
        found = await self.findings(uri, text)
        lines = split_lines(text)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                version=version,
                diagnostics=[to_lsp_diagnostic(d, lines, self.encoding) for d in found],
            )
        )
        await self._publish_dependents(uri, text)

    async def _publish_dependents(self, uri: str, text: str) -> None:
        """Publish, for the project modules this document calls that are not open, the
        findings its (unsaved) calls decide, as the command line reports them for a named
        file; and clear those it no longer decides. An open module shows its own lint."""
        path = (to_fs_path(uri) or "") if uri.startswith("file:") else ""
        settings = self.settings_for(uri)
        if settings is None:
            results: list[FileResult] = []
        else:
            results = await asyncio.to_thread(api.check_dependents, text, path, settings)
        published: set[str] = set()
        for result in results:
            other = Path(result.path).as_uri()
            if other in self.workspace.text_documents:
                continue
            try:
                source = Path(result.path).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            lines = split_lines(source)
            published.add(other)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=other, diagnostics=[to_lsp_diagnostic(d, lines, self.encoding) for d in result.diagnostics]
                )
            )
        for stale in self._dependents.get(uri, set()) - published:
            if stale not in self.workspace.text_documents:
                self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=stale, diagnostics=[]))
        self._dependents[uri] = published

    def forget(self, uri: str) -> None:
        """Stop linting a closed document and clear its diagnostics."""
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self._linted.pop(uri, None)
        self._fixes.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def reload_config(self) -> None:
        """Forget cached project configs and lint the open documents again."""
        api.forget_project_configs()
        self._project_files.clear()
        self._reported.clear()
        self._linted.clear()
        self._fixes.clear()
        for uri in list(self.workspace.text_documents):
            if self.workspace.get_notebook_document(cell_uri=uri) is None:
                self.schedule(uri, 0)
        for uri in list(self.workspace.notebook_documents):
            self.schedule_notebook(uri, 0)

    def project_files_changed(self, uri: str) -> bool:
        """Whether the project files that configure `uri` (pyproject.toml, lock and requirement
        files...) changed on disk since the last look: for clients that watch no files."""
        if not uri.startswith("file:"):
            return False
        folder = Path(to_fs_path(uri) or ".").parent
        state = api.project_files_state(folder)
        before = self._project_files.get(folder)
        self._project_files[folder] = state
        return before is not None and before != state

    def schedule_notebook(self, uri: str, delay: float) -> None:
        """Lint notebook `uri` after `delay` seconds, replacing a lint already waiting for it."""
        self._replace_pending(uri, self._lint_notebook(uri, delay))

    async def _lint_notebook(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        document = self.workspace.get_notebook_document(notebook_uri=uri)
        if document is None:
            return
        cells = [c for c in document.cells if c.kind == types.NotebookCellKind.Code]
        texts = [self.workspace.get_text_document(c.document).source for c in cells]
        settings = self.settings_for(uri)
        by_cell: tuple[tuple[Diagnostic, ...], ...] = tuple(() for _ in cells)
        if settings is not None:
            by_cell = await asyncio.to_thread(api.check_cells, texts, uri, settings)
        for cell, text, mine in zip(cells, texts, by_cell):
            self._linted[cell.document] = (text, mine)
            lines = split_lines(text)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=cell.document, diagnostics=[to_lsp_diagnostic(d, lines, self.encoding) for d in mine]
                )
            )

    def forget_notebook(self, params: types.DidCloseNotebookDocumentParams) -> None:
        """Stop linting a closed notebook and clear its cells' diagnostics."""
        pending = self._pending.pop(params.notebook_document.uri, None)
        if pending is not None:
            pending.cancel()
        for cell in params.cell_text_documents:
            self._linted.pop(cell.uri, None)
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell.uri, diagnostics=[]))

    def hover(self, params: types.HoverParams) -> types.Hover | None:
        """The documentation of the rule whose finding is under the cursor."""
        linted = self._linted.get(params.text_document.uri)
        if linted is None:
            return None
        text, found = linted
        lines = split_lines(text)
        for d in found:
            lsp_range = to_range(lines, d, self.encoding)
            if contains(lsp_range, params.position):
                markdown = hover_markdown(d.code)
                if markdown is not None:
                    return types.Hover(
                        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown),
                        range=lsp_range,
                    )
        return None

    async def watch_configs(self) -> None:
        """Ask the client to report pyproject.toml changes, when it can."""
        if not get_capability(
            self.client_capabilities, "workspace.did_change_watched_files.dynamic_registration", False
        ):
            return
        registration = types.Registration(
            id=f"{SOURCE}-pyproject",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern=g) for g in api.PROJECT_FILE_GLOBS]
            ),
        )
        try:
            await self.client_register_capability_async(types.RegistrationParams(registrations=[registration]))
        except Exception as exc:  # noqa: BLE001  (a refusal must not stop the server; saves still count)
            self._log(f"could not watch pyproject.toml files: {exc}")

    def _matching(
        self, requested: Iterable[types.Diagnostic], current: Sequence[Diagnostic], lines: Sequence[str]
    ) -> list[tuple[types.Diagnostic, Diagnostic]]:
        """The client's diagnostics that are still current findings, paired with them.

        Matched by the finding in `data` (some clients, such as Neovim 0.7, send ranges back
        in their own units), else by code and range.
        """
        pairs = []
        for lsp_diagnostic in requested:
            if lsp_diagnostic.source != SOURCE:
                continue
            carried = from_lsp_data(lsp_diagnostic.data)
            if carried is not None:
                match = carried if carried in current else None
            else:
                match = next(
                    (
                        d
                        for d in current
                        if d.code == lsp_diagnostic.code
                        and to_range(lines, d, self.encoding) == lsp_diagnostic.range
                    ),
                    None,
                )
            if match is not None:
                pairs.append((lsp_diagnostic, match))
        return pairs

    async def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        """Quick fixes, noqa suppressions and fix-all for the requested diagnostics."""
        uri = params.text_document.uri
        document = self.workspace.get_text_document(uri)
        text = document.source
        if self.workspace.get_notebook_document(cell_uri=uri) is not None:
            # A cell's fix depends on the other cells (its imports may live there): not offered.
            return None
        settings = self.settings_for(uri)
        if settings is None:
            return None
        current = await self.findings(uri, text)
        if not current:
            return None
        lines = split_lines(text)
        only = params.context.only
        pairs = self._matching(params.context.diagnostics, current, lines)
        fixed: dict[Key, str] = {}
        if kind_wanted(QUICK_FIX, only):
            for _, diagnostic in pairs:
                if diagnostic.fix is None:
                    continue
                new = await self._fixed(uri, document.version, text, settings, diagnostic.key, unsafe=True)
                if new is not None:
                    fixed[diagnostic.key] = new
        fix_all = None
        if kind_wanted(FIX_ALL, only) and any(d.fixable(False) for d in current):
            fix_all = await self._fixed(uri, document.version, text, settings, None, unsafe=False)
        document_changes = bool(
            get_capability(self.client_capabilities, "workspace.workspace_edit.document_changes", False)
        )
        return to_code_actions(
            uri,
            document.version,
            text,
            pairs,
            fixed,
            fix_all,
            encoding=self.encoding,
            document_changes=document_changes,
            only=only,
        )

    async def _fixed(
        self, uri: str, version: int | None, text: str, settings: Settings, key: Key | None, *, unsafe: bool
    ) -> str | None:
        """The text with one finding's fix (`key`) or all safe fixes (None) applied; None
        when nothing applies. Computed once per document version."""
        cached_version, fixes = self._fixes.get(uri, (None, {}))
        if cached_version != version or version is None:
            fixes = {}
            self._fixes[uri] = (version, fixes)
        if (key, unsafe) not in fixes:
            result = await asyncio.to_thread(api.fix_text, text, uri, settings, unsafe=unsafe, only=key)
            if result.error is not None:
                self._log(f"no fix offered: {result.error}", types.MessageType.Warning)
            fixes[(key, unsafe)] = result.source if result.error is None and result.fixed else None
        return fixes[(key, unsafe)]


def make_server(debounce: float = DEBOUNCE_SECONDS) -> MainLayerServer:
    """A server with its handlers registered."""
    server = MainLayerServer(debounce)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: MainLayerServer, params: types.InitializedParams) -> None:
        await ls.watch_configs()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MainLayerServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MainLayerServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(ls: MainLayerServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        # A saved project file, or one changed on disk meanwhile (a client that watches no
        # files, or an edit made outside the editor): settings are read again.
        if api.is_project_file(uri.rsplit("/", 1)[-1]) or ls.project_files_changed(uri):
            ls.reload_config()
        else:
            ls.schedule(uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def notebook_open(ls: MainLayerServer, params: types.DidOpenNotebookDocumentParams) -> None:
        ls.schedule_notebook(params.notebook_document.uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def notebook_change(ls: MainLayerServer, params: types.DidChangeNotebookDocumentParams) -> None:
        ls.schedule_notebook(params.notebook_document.uri, ls.debounce)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def notebook_save(ls: MainLayerServer, params: types.DidSaveNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        if ls.project_files_changed(uri):
            ls.reload_config()
        else:
            ls.schedule_notebook(uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def notebook_close(ls: MainLayerServer, params: types.DidCloseNotebookDocumentParams) -> None:
        ls.forget_notebook(params)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: MainLayerServer, params: types.HoverParams) -> types.Hover | None:
        return ls.hover(params)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MainLayerServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files(ls: MainLayerServer, params: types.DidChangeWatchedFilesParams) -> None:
        ls.reload_config()

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[QUICK_FIX, FIX_ALL], resolve_provider=False),
    )
    async def code_action(
        ls: MainLayerServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        return await ls.code_actions(params)

    return server


def serve() -> None:
    """Run the server over standard input and output until the client ends it."""
    make_server().start_io()
