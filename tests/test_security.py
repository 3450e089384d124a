"""The linter reads code, never runs it.

It never executes, imports or evaluates the files it lints (no `eval`, no import of the
target), makes no network access, and its language server reads only the documents the
client sends and configuration files. Only `verify` runs code (the user's own script), and
its `--help` says so.

Runtime checks use audit hooks (PEP 578): every `open`, `exec`, `import`, socket and
process event is recorded while the linter works on a folder of hostile files.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import lint_mainlayer
from lint_mainlayer.cli import main
from tests.safety_support import BUGGY, FIXED

PACKAGE = Path(__file__).resolve().parent.parent / "lint_mainlayer"

# Top-level code that leaves a marker if anything ever runs it.
HOSTILE = """\
import pathlib, sys
pathlib.Path({marker!r}).write_text(__name__)
raise SystemExit("executed")
"""


def _hostile(marker: Path) -> str:
    return HOSTILE.format(marker=str(marker))


def _hostile_project(root: Path, marker: Path) -> None:
    """A folder where any import or execution of its files leaves `marker`."""
    evil = _hostile(marker)
    (root / "target.py").write_text("import helper\n" + evil + BUGGY)
    (root / "helper.py").write_text(evil)
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text(evil + BUGGY)
    (root / "pkg" / "__main__.py").write_text(evil)
    # Modules named like the linter's own dependencies and like transformers itself: a
    # linter that put the linted folder on sys.path would import these.
    for shadow in ("click", "libcst", "pathspec", "tomli", "sitecustomize", "usercustomize"):
        (root / f"{shadow}.py").write_text(evil)
    (root / "transformers").mkdir()
    (root / "transformers" / "__init__.py").write_text(evil)
    (root / "conftest.py").write_text(evil)
    (root / "setup.py").write_text(evil)
    (root / "pyproject.toml").write_text("[tool.lint-mainlayer]\n")


# ---------------------------------------------------------------------------------------
# In process: audit hooks


class _Recorder:
    """Audit events about files under `root`, recorded only while `active`."""

    def __init__(self) -> None:
        self.active = False
        self.root = ""
        self.events: list[tuple[str, str]] = []

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active:
            return
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            if os.path.abspath(path).startswith(self.root):
                self.events.append(("open", os.path.relpath(os.path.abspath(path), self.root)))
        elif event == "exec" and args and hasattr(args[0], "co_filename"):
            # `<string>`: code Python generates (dataclasses' methods), not a file, though
            # `abspath` would place it in the working folder.
            name = args[0].co_filename
            if not name.startswith("<") and os.path.abspath(name).startswith(self.root):
                self.events.append(("exec", name))
        elif event == "import" and args:
            self.events.append(("import", str(args[0])))
        elif event.startswith(("socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.spawn")):
            self.events.append((event, repr(args)[:200]))
        elif event == "builtins.eval":
            self.events.append((event, ""))


_RECORDER = _Recorder()
# Audit hooks cannot be removed: one for the whole session, switched on per test.
sys.addaudithook(_RECORDER)


@contextmanager
def _recording(root: Path) -> Iterator[_Recorder]:
    _RECORDER.root = str(root.resolve()) + os.sep
    _RECORDER.events = []
    _RECORDER.active = True
    try:
        yield _RECORDER
    finally:
        _RECORDER.active = False




def _allowed_open(relative: str) -> bool:
    name = os.path.basename(relative)
    return (
        relative.endswith(".py")  # read as bytes, to be linted
        or name in ("pyproject.toml", ".gitignore")
        or ".lint_mainlayer_cache" in relative.split(os.sep)
        or name.endswith(".tmp")  # the fix's temporary file
    )


def test_lint_and_fix_never_run_import_or_evaluate_the_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    marker = tmp_path / "MARKER"
    _hostile_project(project, marker)
    monkeypatch.chdir(project)
    with _recording(project) as recorder:
        main(["-j", "1", "--no-cache", "."])
        main(["-j", "1", "--no-cache", "--fix", "--unsafe-fixes", "."])
        main(["-j", "1", "--fix", "--diff", "--format", "json", "."])
    capsys.readouterr()
    assert not marker.exists()
    events = recorder.events
    assert ("open", "target.py") in events, "the audit hook saw the files being read"
    assert [e for e in events if e[0] == "exec"] == []
    # By file, not by name: the linter's own lazy imports (pathspec, libcst) are fine from the
    # installation, never from the linted folder.
    root = str(project.resolve()) + os.sep
    from_project = [
        name for name, module in list(sys.modules.items()) if os.path.abspath(getattr(module, "__file__", None) or "/").startswith(root)
    ]
    assert from_project == []
    assert [e for e in events if e[0] not in ("open", "import", "exec")] == []
    assert [e for e in events if e[0] == "open" and not _allowed_open(e[1])] == []
    assert (project / "target.py").read_text().endswith(FIXED.split("\n", 1)[1])


def test_console_script_in_a_hostile_folder(tmp_path: Path) -> None:
    """The installed `lint-mainlayer` command, run from the hostile folder itself."""
    script = shutil.which("lint-mainlayer", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the lint-mainlayer console script is not installed next to this Python")
    project = tmp_path / "project"
    project.mkdir()
    marker = tmp_path / "MARKER"
    _hostile_project(project, marker)
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)
    for args in (["."], ["--fix", "."], ["-j", "2", "--no-cache", "--diff", "."]):
        done = subprocess.run([script, *args], check=False, cwd=project, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode in (0, 1), done.stderr
        assert "Traceback" not in done.stderr
    assert not marker.exists()


def test_module_run_in_a_hostile_folder(tmp_path: Path) -> None:
    """`python -m lint_mainlayer` from the hostile folder, which Python puts first on
    sys.path: the lazily imported dependencies (pathspec, libcst for --fix) still come from
    the installation, never from the folder's `pathspec.py` or `libcst.py`."""
    project = tmp_path / "project"
    project.mkdir()
    marker = tmp_path / "MARKER"
    _hostile_project(project, marker)
    (project / ".gitignore").write_text("build/\n")  # so the walk needs pathspec
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(Path(lint_mainlayer.__file__).parent.parent)}
    for args in (["."], ["--fix", "."], ["--no-cache", "--diff", "."], ["--no-cache", "--fix", "--unsafe-fixes", "target.py"]):
        done = subprocess.run(
            [sys.executable, "-m", "lint_mainlayer", *args], check=False, cwd=project, capture_output=True, text=True, env=env, timeout=120
        )
        assert done.returncode in (0, 1), done.stderr
        assert "Traceback" not in done.stderr
    assert not marker.exists()
    assert (project / "target.py").read_text().endswith(FIXED.split("\n", 1)[1])


def _records_init_exec(where: Path, name: str) -> bool:
    # `records.record` compiles each record class's `__init__`, as `dataclasses` does, from
    # the package's own class definitions (field names that must be identifiers), never from
    # what is linted; tests/test_records.py checks it compiles nothing else.
    return where.as_posix() == "lint_mainlayer/records.py" and name == "exec"


def test_package_source_has_no_eval_exec_or_dynamic_import() -> None:
    """Outside `runtime/` (the `verify` command), nothing in the package can run code it
    reads: no eval/exec/__import__/import_module/runpy/pickle loads, `compile` only for an
    AST, and no network or process modules."""
    banned_calls = {"eval", "exec", "__import__", "import_module", "run_path", "run_module", "exec_module",
                    "load_module", "execfile", "system", "popen", "spawnv", "execv", "execvp"}
    banned_modules = {"socket", "ssl", "http", "ftplib", "smtplib", "requests", "urllib3", "httpx", "aiohttp",
                      "subprocess", "pickle", "marshal", "shelve", "runpy", "code", "ctypes"}
    problems = []
    files = sorted(p for p in PACKAGE.rglob("*.py") if "runtime" not in p.relative_to(PACKAGE).parts)
    assert len(files) > 10
    for path in files:
        tree = ast.parse(path.read_text("utf-8"))
        where = path.relative_to(PACKAGE.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name in banned_calls and not _records_init_exec(where, name):
                    problems.append(f"{where}:{node.lineno}: call to {name}")
                if name == "compile" and isinstance(func, ast.Name):
                    flags = [k for k in node.keywords if k.arg == "flags"]
                    if not flags or "PyCF_ONLY_AST" not in ast.unparse(flags[0].value):
                        problems.append(f"{where}:{node.lineno}: compile() that is not for an AST")
            elif isinstance(node, ast.Import):
                problems += [f"{where}:{node.lineno}: import {a.name}" for a in node.names
                             if a.name.split(".")[0] in banned_modules]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                root = node.module.split(".")[0]
                # urllib.parse only quotes paths (SARIF); urllib.request would fetch.
                if root in banned_modules or node.module.startswith(("urllib.request", "urllib.error")):
                    problems.append(f"{where}:{node.lineno}: from {node.module} import")
    assert problems == []


# ---------------------------------------------------------------------------------------
# Network paths


@pytest.mark.parametrize(
    "path",
    ["//lint-mainlayer-no-such-host/share/x.py", "\\\\lint-mainlayer-no-such-host\\share\\x.py", "smb://host/share/x.py"],
)
def test_network_looking_paths_are_plain_local_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    if sys.platform == "win32":
        pytest.skip("on Windows these are real network paths; the point is that we add no resolution")
    monkeypatch.chdir(tmp_path)
    with _recording(tmp_path) as recorder:
        assert main(["--no-cache", path]) == 2
    assert "cannot read: No such file or directory" in capsys.readouterr().err
    assert [e for e in recorder.events if e[0].startswith("socket.")] == []


def test_double_slash_path_to_a_local_file_is_linted_locally(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # POSIX leaves a leading `//` to the system; Linux and macOS read it as `/`.
    if sys.platform == "win32":
        pytest.skip("a UNC path on Windows")
    (tmp_path / "m.py").write_text(BUGGY)
    assert main(["--no-cache", "-q", "/" + str(tmp_path / "m.py")]) == 1
    assert "MLL001" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------
# verify: the one command that runs code, and says so


def test_help_says_which_command_executes_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "verify" in out and "execut" in out.lower()


def test_verify_help_says_it_executes_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("lint_mainlayer.runtime.command")
    assert main(["verify", "--help"]) == 0
    assert "execut" in capsys.readouterr().out.lower()


# ---------------------------------------------------------------------------------------
# The language server reads the documents it is sent, and configuration files

AUDITED_SERVER = """\
import os, sys
root = os.environ["LML_AUDIT_ROOT"] + os.sep
log = os.open(os.environ["LML_AUDIT_LOG"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)

def hook(event, args):
    record = None
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path.startswith(root):
            record = ["open", os.path.relpath(path, root)]
    elif event == "exec" and args and hasattr(args[0], "co_filename"):
        if os.path.abspath(args[0].co_filename).startswith(root):
            record = ["exec", args[0].co_filename]
    elif event.startswith(("socket.connect", "socket.getaddrinfo", "subprocess.", "os.system")):
        record = [event, repr(args)[:200]]
    if record is not None:
        os.write(log, (repr(record) + "\\n").encode())

sys.addaudithook(hook)
from lint_mainlayer.cli import main
sys.exit(main(["lsp"]))
"""


@pytest.mark.lsp
@pytest.mark.parametrize("project_analysis", [False, True], ids=["alone", "project-analysis"])
def test_language_server_reads_only_sent_documents_and_configuration(tmp_path: Path, project_analysis: bool) -> None:
    """The server runs nothing of the project. Alone, it reads only the configuration; with
    the project analysis (the default) it also reads, never runs, the project's modules."""
    pytest.importorskip("pygls.lsp.server", reason="needs pygls 2 (the [lsp] extra)")
    pytest.importorskip("pytest_lsp", reason="needs pytest-lsp")
    import asyncio

    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    project = tmp_path / "project"
    project.mkdir()
    marker = tmp_path / "MARKER"
    _hostile_project(project, marker)
    if not project_analysis:
        (project / "pyproject.toml").write_text("[tool.lint-mainlayer]\nproject-analysis = false\n")
    # On disk: hostile code without findings. Sent by the client: the buggy source.
    on_disk = project / "open_me.py"
    on_disk.write_text(_hostile(marker))
    log = tmp_path / "audit.log"

    async def session() -> list[types.Diagnostic]:
        client = LanguageClient("audit-test", "1")
        published: dict[str, list[types.Diagnostic]] = {}

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            published[params.uri] = params.diagnostics

        env = {**os.environ, "LML_AUDIT_ROOT": str(project.resolve()), "LML_AUDIT_LOG": str(log)}
        # Not started in the project: `python -c` puts its working folder on sys.path, and
        # the project's click.py would shadow click (the console script has no such issue).
        await client.start_io(sys.executable, "-c", AUDITED_SERVER, env=env, cwd=str(tmp_path))
        await client.initialize_async(
            types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=project.as_uri())
        )
        client.initialized(types.InitializedParams())
        uri = on_disk.as_uri()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=BUGGY)
            )
        )
        for _ in range(300):
            if published.get(uri):
                break
            await asyncio.sleep(0.05)
        diagnostics = list(published.get(uri, []))
        await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=diagnostics[0].range if diagnostics else types.Range(types.Position(0, 0), types.Position(0, 0)),
                context=types.CodeActionContext(diagnostics=diagnostics),
            )
        )
        client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
        client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
        await asyncio.sleep(0.2)
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
        return diagnostics

    diagnostics = asyncio.run(asyncio.wait_for(session(), timeout=120))
    assert [d.code for d in diagnostics] == ["MLL001"], "the server linted what it was sent"
    events = [ast.literal_eval(line) for line in log.read_text().splitlines()] if log.exists() else []
    assert not marker.exists()
    assert [e for e in events if e[0] != "open"] == []
    opened = sorted({e[1] for e in events})
    assert "pyproject.toml" in opened, "the audit hook saw the configuration being read"
    others = [name for name in opened if os.path.basename(name) != "pyproject.toml"]
    if project_analysis:
        # Read as text to find the document's callers (`.gitignore`s: the project's walk).
        assert others and all(name.endswith((".py", ".gitignore")) for name in others), others
    else:
        assert others == [], opened
    assert on_disk.read_text() == _hostile(marker)
