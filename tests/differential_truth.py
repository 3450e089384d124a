"""The truth markers of the differential scripts (fixtures/runtime/differential/), read
without TensorFlow: the fast format test and the runtime differential test share them.

A marker is a trailing comment on a line that constructs main layers:

    bert = TFBertMainLayer(config)  # truth: random
    enc = build(config)             # truth: random deliberate
    bert = TFBertModel.from_pretrained(CKPT).bert  # truth: pretrained

Statuses are the runtime checker's: `pretrained`, `fine-tuned`, `random`, `unbuilt`.
`deliberate` (only after `random`) says the script means the random weights (training from
scratch): the linter must stay silent there. Every main layer the script constructs at
runtime must be recorded on a marked line, and every marked line must construct one.

Each script reads exactly one checkpoint folder, `os.environ["LML_CKPT_<ARCH>"]` (ARCH one
of tests/runtime/runtime_support.TINY, upper-cased); every layer it builds is compared with
that checkpoint.

A project (fixtures/runtime/project/<name>/, issue 16) is a tiny runnable project: its own
`pyproject.toml`, a package at its root or under `src/`, and a script `train.py` at its root
that imports the package. Markers sit in any of its modules, on the line that constructs
(usually the builder module's, not the script's); the project as a whole reads exactly one
checkpoint.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DIFFERENTIAL = REPO / "fixtures" / "runtime" / "differential"
PROJECTS = REPO / "fixtures" / "runtime" / "project"
PROJECT_SCRIPT = "train.py"
STATUSES = ("pretrained", "fine-tuned", "random", "unbuilt", "incomplete")

# The whole comment must be the marker: a typo is an error, not a silently ignored comment.
_MARKER = re.compile(r"#\s*truth:\s*(?P<status>[a-z-]+)(?P<deliberate>\s+deliberate)?\s*$")
_MENTION = re.compile(r"\btruth\s*:")
_CHECKPOINT = re.compile(r"LML_CKPT_(?P<arch>[A-Z0-9_]+)")


@dataclass(frozen=True)
class Truth:
    """What one construction line does at runtime, as the script states it."""

    line: int
    status: str
    deliberate: bool = False

    @property
    def wants_finding(self) -> bool:
        """The linter must report this construction: it runs with random weights by mistake."""
        return self.status == "random" and not self.deliberate

    def __str__(self) -> str:
        return self.status + (" deliberate" if self.deliberate else "")


@dataclass(frozen=True)
class Script:
    path: Path
    arch: str  # the checkpoint it reads: LML_CKPT_<ARCH>, lower-cased
    truths: tuple[Truth, ...]

    @property
    def name(self) -> str:
        return self.path.stem

    def truth_at(self, line: int) -> Truth | None:
        return next((t for t in self.truths if t.line == line), None)


class MarkerError(ValueError):
    """A malformed script: the message says where and why."""


def scripts() -> list[Path]:
    return sorted(DIFFERENTIAL.glob("*.py"))


def parse(path: Path, source: str | None = None) -> Script:
    """The script's checkpoint and truth markers; MarkerError when they are malformed."""
    text = path.read_text("utf-8") if source is None else source
    archs = _checkpoints(text)
    if len(archs) != 1:
        raise MarkerError(f"{path.name}: reads {len(archs)} checkpoints ({sorted(archs)}); exactly one LML_CKPT_<ARCH>")
    return Script(path, archs.pop(), markers(path, text))


def markers(path: Path, text: str) -> tuple[Truth, ...]:
    """The truth markers of one file, in line order; MarkerError when one is malformed."""
    truths = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type != tokenize.COMMENT or not _MENTION.search(token.string):
            continue
        line = token.start[0]
        match = _MARKER.fullmatch(token.string)
        if match is None:
            raise MarkerError(f"{path.name}:{line}: malformed marker {token.string!r}")
        status, deliberate = match["status"], bool(match["deliberate"])
        if status not in STATUSES:
            raise MarkerError(f"{path.name}:{line}: unknown status {status!r} (one of {', '.join(STATUSES)})")
        if deliberate and status != "random":
            raise MarkerError(f"{path.name}:{line}: only `random` can be deliberate")
        truths.append(Truth(line, status, deliberate))
    return tuple(truths)


def _checkpoints(text: str) -> set[str]:
    return {m["arch"].lower() for m in _CHECKPOINT.finditer(text)}


@dataclass(frozen=True)
class Project:
    """A runnable multi-module project: every module with its truth markers."""

    root: Path
    arch: str  # the one checkpoint the project reads, LML_CKPT_<ARCH> lower-cased
    modules: tuple[Script, ...]  # every .py file, sorted by path; `arch` is the project's

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def script(self) -> Path:
        return self.root / PROJECT_SCRIPT

    @property
    def import_root(self) -> Path:
        """Where its package is imported from: `src/` in a src layout, else the root."""
        src = self.root / "src"
        return src if src.is_dir() else self.root

    @property
    def truths(self) -> tuple[tuple[Script, Truth], ...]:
        return tuple((module, truth) for module in self.modules for truth in module.truths)

    def module(self, path: Path | str) -> Script | None:
        real = Path(path).resolve()
        return next((m for m in self.modules if m.path.resolve() == real), None)

    def relative(self, path: Path | str) -> str:
        """The module's path from the project root, with `/`: how tests name it."""
        return Path(path).resolve().relative_to(self.root.resolve()).as_posix()


def projects() -> list[Path]:
    return sorted(p for p in PROJECTS.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def parse_project(root: Path) -> Project:
    """A project's modules and markers; MarkerError when it is malformed."""
    if not (root / "pyproject.toml").is_file():
        raise MarkerError(f"{root.name}: no pyproject.toml: not a project")
    if not (root / PROJECT_SCRIPT).is_file():
        raise MarkerError(f"{root.name}: no {PROJECT_SCRIPT} at its root")
    modules, archs = [], set()
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        text = path.read_text("utf-8")
        archs |= _checkpoints(text)
        modules.append((path, markers(path, text)))
    if len(archs) != 1:
        raise MarkerError(f"{root.name}: reads {len(archs)} checkpoints ({sorted(archs)}); exactly one LML_CKPT_<ARCH>")
    arch = archs.pop()
    return Project(root, arch, tuple(Script(path, arch, truths) for path, truths in modules))


def call_lines(source: str) -> set[int]:
    """Lines on which a call starts: where a construction can be recorded."""
    return {node.lineno for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)}
