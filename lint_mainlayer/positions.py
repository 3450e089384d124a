"""Source positions for the few nodes that need them, without walking the whole module.

libcst's `PositionProvider` generates code for the entire module to place every node; a
finding needs only its call (and, for fix records, its statement or class). The module-level
statement that holds those nodes is placed with positions from a module of that one
statement, shifted to where Python's own `ast` says the statement starts. Anything that
does not line up falls back to the full provider.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider


def _full(module: cst.Module) -> Mapping[cst.CSTNode, CodeRange]:
    return MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)


def locate(
    module: cst.Module,
    source: str,
    wanted: Iterable[tuple[cst.CSTNode, cst.CSTNode | None]],
    lines: Sequence[int] | None,
) -> Mapping[cst.CSTNode, CodeRange]:
    """Ranges of each `node` in `wanted`, given the module-level statement (`top`) holding it.

    `lines` are the first lines of the module-level statements, as Python's `ast` gives
    them (`prefilter.PythonFacts.statement_lines`); None places every node the slow way."""
    pairs = list(wanted)
    index = {id(statement): i for i, statement in enumerate(module.body)}
    if lines is None or len(lines) != len(module.body) or any(
        top is None or id(top) not in index for _, top in pairs
    ):
        return _full(module)
    ranges: dict[cst.CSTNode, CodeRange] = {}
    placed: dict[int, Mapping[cst.CSTNode, CodeRange]] = {}
    for node, top in pairs:
        assert top is not None
        if id(top) not in placed:
            alone = module.with_changes(body=[top], header=(), footer=())
            placed[id(top)] = MetadataWrapper(alone, unsafe_skip_copy=True).resolve(PositionProvider)
        found = placed[id(top)].get(node)
        if found is None:
            return _full(module)
        leading = len(getattr(top, "leading_lines", ()))
        shift = lines[index[id(top)]] - (1 + leading)
        ranges[node] = CodeRange(
            CodePosition(found.start.line + shift, found.start.column),
            CodePosition(found.end.line + shift, found.end.column),
        )
    if not _agrees(source, module, ranges):
        return _full(module)
    return ranges


def _agrees(source: str, module: cst.Module, ranges: Mapping[cst.CSTNode, CodeRange]) -> bool:
    # Cheap proof that the shift is right: each call's first line of code is where it says.
    # (Calls carry no leading comment lines; every node of a statement shares its shift.)
    lines = source.splitlines()
    for node, span in ranges.items():
        if not isinstance(node, cst.Call):
            continue
        first = module.code_for_node(node).splitlines()[0]
        line = span.start.line
        if not (0 < line <= len(lines)) or not lines[line - 1][span.start.column :].startswith(first):
            return False
    return True
