"""`--format sarif`: SARIF 2.1.0, as GitHub code scanning and other viewers read it.

Columns are 1-based Unicode code points (`run.columnKind` says so) and `endColumn` is
exclusive, as in SARIF and as the engine counts them. Relative paths become relative URIs
with forward slashes (resolved against the repository root, `%SRCROOT%`); absolute paths
become `file://` URIs. Files that could not be checked are reported as tool notifications
and make `executionSuccessful` false.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from lint_mainlayer import __version__
from lint_mainlayer.formats import in_cell
from lint_mainlayer.types import Diagnostic, FileResult, RuleDoc

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
TOOL = "lint-mainlayer"
SOURCE_ROOT = "%SRCROOT%"


def _section(doc: str, heading: str) -> str | None:
    match = re.search(rf"^## {re.escape(heading)}\n(?P<body>.*?)(?=^## |\Z)", doc, re.MULTILINE | re.DOTALL)
    return match.group("body").strip() if match else None


def rule_descriptor(rule: RuleDoc) -> dict[str, Any]:
    """A rule's SARIF `reportingDescriptor`: its id, name, summary and documentation."""
    doc = rule.doc or rule.summary
    what = _section(doc, "What it does") or rule.summary
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": what, "markdown": what},
        # The docstring is markdown with ruff's headings: GitHub shows it as the rule's help.
        "help": {"text": doc, "markdown": doc},
        "helpUri": rule.url,
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["correctness", "transformers", "tensorflow"]},
    }


def artifact_location(path: str) -> dict[str, Any]:
    """A path as a SARIF artifactLocation: relative and slash-separated when it was relative."""
    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": Path(path).as_uri()}
    posix = pure.as_posix()
    return {"uri": quote(posix, safe="/-._~"), "uriBaseId": SOURCE_ROOT}


def _result(file: FileResult, found: Diagnostic, index: dict[str, int]) -> dict[str, Any]:
    path = file.path
    cell, diagnostic = in_cell(file, found)
    result: dict[str, Any] = {
        "ruleId": diagnostic.code,
        "level": "error",
        "message": {"text": diagnostic.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(path),
                    "region": {
                        "startLine": diagnostic.line,
                        "startColumn": diagnostic.column,
                        "endLine": diagnostic.end_line,
                        "endColumn": diagnostic.end_column,
                    },
                }
            }
        ],
    }
    if diagnostic.code in index:
        result["ruleIndex"] = index[diagnostic.code]
    properties: dict[str, Any] = {}
    if cell is not None:
        # In a notebook, lines count in the cell (as in ruff's output); the cell is named here.
        properties["cell"] = cell
    if diagnostic.fix is not None:
        properties["fix"] = {"applicability": diagnostic.fix.applicability, "description": diagnostic.fix.description}
    if properties:
        result["properties"] = properties
    return result


def log(results: Sequence[FileResult], rules: Sequence[RuleDoc]) -> dict[str, Any]:
    """The SARIF log (one run) as plain data."""
    index = {rule.code: i for i, rule in enumerate(rules)}
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{r.path}: {r.error}"},
            "locations": [{"physicalLocation": {"artifactLocation": artifact_location(r.path)}}],
        }
        for r in results
        if r.error is not None
    ]
    return {
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL,
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [rule_descriptor(rule) for rule in rules],
                    }
                },
                "invocations": [
                    {"executionSuccessful": not notifications, "toolExecutionNotifications": notifications}
                ],
                "columnKind": "unicodeCodePoints",
                "results": [_result(r, d, index) for r in results for d in r.diagnostics],
            }
        ],
    }


def render(results: Sequence[FileResult], rules: Sequence[RuleDoc]) -> str:
    """The SARIF log as indented JSON."""
    return json.dumps(log(results, rules), indent=2, ensure_ascii=False)
