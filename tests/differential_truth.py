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
    archs = {m["arch"].lower() for m in _CHECKPOINT.finditer(text)}
    if len(archs) != 1:
        raise MarkerError(f"{path.name}: reads {len(archs)} checkpoints ({sorted(archs)}); exactly one LML_CKPT_<ARCH>")
    return Script(path, archs.pop(), tuple(truths))


def call_lines(source: str) -> set[int]:
    """Lines on which a call starts: where a construction can be recorded."""
    return {node.lineno for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)}
