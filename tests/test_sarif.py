"""`--format sarif`: valid SARIF 2.1.0 (checked against the official schema in tests/data),
with rule metadata and code-point regions GitHub code scanning can place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lint_mainlayer import __version__, api
from lint_mainlayer.cli import main
from lint_mainlayer.formats import sarif
from lint_mainlayer.rules import ALL_RULES
from lint_mainlayer.types import Diagnostic, FileResult

jsonschema = pytest.importorskip("jsonschema")

SCHEMAS = sorted((Path(__file__).parent / "data").glob("sarif*.json"))
EMOJI_LINE = 'label = "🤗 café"; bert = TFBertMainLayer(config)'
BUGGY = (
    "from transformers import BertConfig, TFBertMainLayer\n"
    'config = BertConfig.from_pretrained("bert-base-uncased")\n'
    f"{EMOJI_LINE}\n"
)
UNSAFE_ONLY = "from transformers import TFBertMainLayer\ndef build(config):\n    return TFBertMainLayer(config)\n"


def _validate(log: Any, schema_path: Path) -> None:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "model.py").write_text(BUGGY, encoding="utf-8")
    (tmp_path / "src" / "my build.py").write_text(UNSAFE_ONLY, encoding="utf-8")
    (tmp_path / "clean.py").write_text("import os\n", encoding="utf-8")
    return tmp_path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    code = main(["--format", "sarif", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_schemas_are_present() -> None:
    assert SCHEMAS, "tests/data/sarif*.json (the SARIF 2.1.0 schema) is missing"


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda p: p.name)
def test_cli_output_is_valid_sarif(project: Path, capsys: pytest.CaptureFixture[str], schema: Path) -> None:
    code, log = _run(["src", "clean.py"], capsys)
    assert code == 1
    _validate(log, schema)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda p: p.name)
def test_empty_and_error_logs_are_valid_sarif(schema: Path) -> None:
    _validate(sarif.log([], api.rule_docs()), schema)
    _validate(sarif.log([FileResult("bad.py", error="syntax error at 1:5: bad")], api.rule_docs()), schema)


def test_driver_describes_every_rule(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, log = _run(["clean.py"], capsys)
    (run,) = log["runs"]
    assert log["version"] == "2.1.0"
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("lint-mainlayer", __version__)
    assert [r["id"] for r in driver["rules"]] == [rule.code for rule in ALL_RULES]
    for descriptor, rule in zip(driver["rules"], ALL_RULES):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["defaultConfiguration"]["level"] == "error"
        assert "## Why is this bad?" in descriptor["help"]["markdown"]
        assert "## What it does" not in descriptor["fullDescription"]["text"]
        assert descriptor["fullDescription"]["text"].startswith("Checks ")
    assert run["results"] == []
    assert run["invocations"][0]["executionSuccessful"] is True


def test_results_point_at_the_code_in_code_points(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, log = _run(["src"], capsys)
    (run,) = log["runs"]
    assert run["columnKind"] == "unicodeCodePoints"
    by_uri = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r for r in run["results"]}
    assert set(by_uri) == {"src/model.py", "src/my%20build.py"}
    result = by_uri["src/model.py"]
    rules = run["tool"]["driver"]["rules"]
    assert result["ruleId"] == "MLL001" and rules[result["ruleIndex"]]["id"] == "MLL001"
    assert result["level"] == "error"
    assert "random weights" in result["message"]["text"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    start = EMOJI_LINE.index("TFBertMainLayer") + 1
    assert location["region"] == {
        "startLine": 3,
        "startColumn": start,
        "endLine": 3,
        "endColumn": len(EMOJI_LINE) + 1,
    }
    assert result["properties"]["fix"]["applicability"] == "safe"
    assert by_uri["src/my%20build.py"]["properties"]["fix"]["applicability"] == "unsafe"


def test_unreadable_file_is_a_failed_invocation(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "broken.py").write_bytes(b"x = '\xff'\n")  # not UTF-8: the file cannot be read
    code, log = _run(["broken.py"], capsys)
    assert code == 2
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["message"]["text"].startswith("broken.py: ")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("src/model.py", {"uri": "src/model.py", "uriBaseId": "%SRCROOT%"}, id="relative"),
        pytest.param("./a b/m.py", {"uri": "a%20b/m.py", "uriBaseId": "%SRCROOT%"}, id="space"),
        pytest.param("/abs/m.py", {"uri": "file:///abs/m.py"}, id="absolute"),
    ],
)
def test_artifact_location(path: str, expected: dict[str, str]) -> None:
    assert sarif.artifact_location(path) == expected


def test_render_is_json_of_log() -> None:
    results = [FileResult("m.py", (Diagnostic("MLL001", "msg", 1, 2, 1, 3),))]
    assert json.loads(sarif.render(results, api.rule_docs())) == sarif.log(results, api.rule_docs())
