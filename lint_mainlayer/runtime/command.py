"""`lint-mainlayer verify`: run a script and report which main layers hold pretrained weights.

Importing this module imports neither TensorFlow nor transformers; running the command does.
"""

from __future__ import annotations

import contextlib
import sys

import click

from lint_mainlayer.runtime.report import exit_code, format_table, to_json

#: Exit status when the script itself fails.
SCRIPT_FAILED = 2


def _parse_map(values: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not sep or not name or not folder:
            raise click.BadParameter(f"expected NAME=DIR, got {value!r}", param_hint="--map")
        mapping[name] = folder
    return mapping


@click.command(
    name="verify",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("script", type=click.Path(exists=True, dir_okay=False))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--checkpoint",
    metavar="PATH",
    help="Compare every main layer with this checkpoint (hub name or folder) instead of "
    "the one its config or from_pretrained call names.",
)
@click.option(
    "--map",
    "maps",
    metavar="NAME=DIR",
    multiple=True,
    help="Read checkpoint NAME from the local folder DIR (repeatable).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format on stdout (with json, the script's own output goes to stderr).",
)
@click.option(
    "--stop-at-first-use",
    is_flag=True,
    help="Report and stop the script as soon as a model holding a main layer is first "
    "used (fit, predict, evaluate, a call): a check of a training script takes seconds.",
)
def verify(
    script: str,
    args: tuple[str, ...],
    checkpoint: str | None,
    maps: tuple[str, ...],
    output_format: str,
    stop_at_first_use: bool,
) -> None:
    """Run SCRIPT and report which main layers it builds hold pretrained weights.

    This EXECUTES SCRIPT (with ARGS, as `python SCRIPT ARGS...` would), with all its side
    effects: only verify scripts you trust. Every transformers main layer the script
    constructs is recorded and compared with its checkpoint, tensor by tensor.

    Status per layer: pretrained (equal to the checkpoint), fine-tuned (trained from it),
    random (not derived from it), unbuilt (no weights), unknown (no checkpoint to compare
    with; the reason is shown). The checkpoint is the one the layer's from_pretrained or
    config came from, unless --checkpoint or --map says otherwise.

    Exit status: 0 when every built main layer is pretrained or fine-tuned, 1 otherwise,
    2 when the script itself fails (its traceback is shown).
    """
    from lint_mainlayer.runtime.runner import Progress, run_script

    mapping = _parse_map(maps)
    # In JSON mode stdout carries the report alone (for `| jq`): the script's prints go to
    # stderr instead.
    script_stdout = contextlib.redirect_stdout(sys.stderr) if output_format == "json" else contextlib.nullcontext()
    with Progress(enabled=sys.stderr.isatty()) as progress, script_stdout:
        result = run_script(
            script,
            args,
            checkpoint=checkpoint,
            mapping=mapping,
            stop_at_first_use=stop_at_first_use,
            progress=progress,
        )
    status = SCRIPT_FAILED if result.error is not None else exit_code(result.reports)
    if result.error is not None:
        click.echo(result.error.rstrip("\n"), err=True)
        click.echo(f"verify: {script} failed; layers recorded before the failure:", err=True)
    if result.stopped_at is not None:
        click.echo(f"verify: stopped the script at its first use: {result.stopped_at}", err=True)
    if output_format == "json":
        click.echo(
            to_json(
                result.reports,
                script=script,
                exit_status=status,
                stopped_at=result.stopped_at,
                error=result.error,
            ),
            nl=False,
        )
    else:
        click.echo(format_table(result.reports), nl=False)
    click.get_current_context().exit(status)


if __name__ == "__main__":
    verify(prog_name="lint-mainlayer verify")
