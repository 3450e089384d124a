"""`lint-mainlayer verify`: run a script and report which main layers hold pretrained weights.

Importing this module imports neither TensorFlow nor transformers; running the command does.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import sys

import click

from lint_mainlayer.runtime.report import exit_code, format_table, to_json

#: Exit status when the script itself fails, or the checker cannot run.
SCRIPT_FAILED = 2

# What `verify` needs, by import name, and the distribution that provides it.
_RUNTIME_MODULES = {"tensorflow": "tensorflow", "tf_keras": "tf-keras", "transformers": "transformers"}


def missing_runtime() -> list[str]:
    """The `[runtime]` extra's distributions that cannot be imported (or transformers 5+,
    which has no TensorFlow classes), found without importing them: the script may still
    configure TensorFlow through `os.environ` before its own import."""
    missing = []
    for module, distribution in _RUNTIME_MODULES.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(distribution)
    if "transformers" not in missing:
        try:
            major = int(importlib.metadata.version("transformers").split(".")[0])
        except (importlib.metadata.PackageNotFoundError, ValueError):
            major = 4
        if major >= 5:
            missing.append("transformers<5 (transformers 5 has no TensorFlow classes)")
    return missing


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
    context_settings={
        "ignore_unknown_options": True,
        "allow_interspersed_args": False,
        "help_option_names": ["-h", "--help"],
    },
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

    Status per layer: pretrained (equal to a checkpoint's tensors, possibly remapped),
    fine-tuned (trained from it), random (not derived from any, or re-initialised after
    its first use), unbuilt (no weights), incomplete (built only in part), unknown (no
    checkpoint to compare with; the reason is shown). Each layer is judged against every
    checkpoint the script loaded (from_pretrained, load_weights, set_weights from a loaded
    model, checkpoint restores) and its config's checkpoint; the report says which one
    its weights came from. --checkpoint judges against that checkpoint only; --map
    redirects a name to a folder.

    Exit status: 0 when every built main layer is pretrained or fine-tuned, 1 otherwise,
    2 when the script itself fails (its traceback is shown) or the [runtime] extra is
    missing.
    """
    missing = missing_runtime()
    if missing:
        click.echo(
            f"verify: needs the [runtime] extra (missing: {', '.join(missing)}); "
            "install it with: pip install 'lint-mainlayer[runtime]'",
            err=True,
        )
        click.get_current_context().exit(SCRIPT_FAILED)
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
