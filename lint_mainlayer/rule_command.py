"""`lint-mainlayer rule MLL001` / `rule --all`: a rule's documentation, as `ruff rule` prints it."""

from __future__ import annotations

import json
from typing import Any

import click

from lint_mainlayer import api
from lint_mainlayer.types import RuleDoc

_FIX = {
    "always": "Fix is always available.",
    "sometimes": "Fix is sometimes available.",
    "never": "Fix is not available.",
}


def explanation(rule: RuleDoc) -> str:
    """The rule's documentation (its docstring) as markdown, headed by name, code and fixability."""
    _, _, body = rule.doc.partition("\n")
    return f"# {rule.name} ({rule.code})\n\n{_FIX[rule.fixable]}\n\n{body.strip()}\n"


def _record(rule: RuleDoc) -> dict[str, Any]:
    return {
        "name": rule.name,
        "code": rule.code,
        "summary": rule.summary,
        "fix": _FIX[rule.fixable],
        "explanation": explanation(rule),
        "url": rule.url,
    }


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("code", required=False)
@click.option("--all", "all_rules", is_flag=True, help="Print the documentation of every rule.")
@click.option(
    "--output-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
def rule(code: str | None, all_rules: bool, output_format: str) -> None:
    """Print the documentation of the rule CODE (e.g. MLL001), or of every rule with --all."""
    if all_rules == (code is not None):
        raise click.UsageError("give one rule code, or --all")
    rules = {rule.code: rule for rule in api.rule_docs()}
    if all_rules:
        chosen = list(rules.values())
    else:
        assert code is not None
        found = rules.get(code.strip().upper())
        if found is None:
            raise click.BadParameter(f"unknown rule code {code!r} (valid: {', '.join(rules)})", param_hint="CODE")
        chosen = [found]
    if output_format == "json":
        records = [_record(r) for r in chosen]
        click.echo(json.dumps(records if all_rules else records[0], indent=2))
        return
    click.echo("\n".join(explanation(r) for r in chosen), nl=False)
