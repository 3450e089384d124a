"""The click commands: `check` built from `cli_options.OPTIONS`, and the subcommands.

Imported only when `cli_options.parse` leaves a command line to click (help, version,
subcommands, errors to report, anything unusual), so a plain lint run does without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from lint_mainlayer import __version__, cli
from lint_mainlayer.cli_options import OPTIONS, Option


def _lazy_verify() -> click.Command:
    from lint_mainlayer.runtime.command import verify

    return verify


def _lazy_lsp() -> click.Command:
    from lint_mainlayer.lsp_command import lsp

    return lsp


def _lazy_rule() -> click.Command:
    from lint_mainlayer.rule_command import rule

    return rule


# Subcommands are imported only when named, so the lint path stays light.
SUBCOMMANDS: dict[str, Callable[[], click.Command]] = {
    "verify": _lazy_verify,
    "lsp": _lazy_lsp,
    "rule": _lazy_rule,
}

_EPILOG = """\b
Other commands:
  lint-mainlayer check [OPTIONS] [PATHS]  the same as without `check` (as in ruff)
  lint-mainlayer rule MLL001 | --all      print a rule's documentation
  lint-mainlayer verify SCRIPT [ARGS]...  run a script with TensorFlow and report which
                                          main layers hold pretrained weights (executes it)
  lint-mainlayer lsp                      start the language server (stdio)

Exit status: 0 clean, 1 findings (or changes --diff would make), 2 errors.
"""


def _option(option: Option) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    settings: dict[str, Any] = {"help": option.help}
    if option.metavar is not None:
        settings["metavar"] = option.metavar
    if option.kind == "flag":
        settings["is_flag"] = True
    elif option.kind == "multiple":
        settings["multiple"] = True
    elif option.kind == "choice":
        settings.update(type=click.Choice(list(option.choices)), default=option.default, show_default=True)
    elif option.kind == "int":
        settings["type"] = click.IntRange(min=option.minimum)
    elif option.kind == "directory":
        settings["type"] = click.Path(file_okay=False, path_type=Path)
    return click.option(*option.names, option.dest, **settings)


def _check(**values: Any) -> int:
    """Find transformers TensorFlow main layers that silently run with random weights.

    PATHS are files and folders (searched for *.py, *.pyi and *.ipynb); '-' (or
    --stdin-filename alone) reads standard input. With no PATHS, the current folder is
    checked. Settings come from [tool.lint-mainlayer] in the nearest pyproject.toml.
    """
    try:
        return cli.check(**values)
    except cli.BadParameter as exc:
        raise click.BadParameter(exc.message, param_hint=exc.param_hint) from None
    except cli.UsageError as exc:
        raise click.UsageError(exc.message) from None


def _command() -> click.Command:
    # The decorators a hand-written command would have, in the same order, so its
    # `--help` reads as it always has.
    callback: Callable[..., Any] = click.version_option(__version__, "--version", prog_name="lint-mainlayer")(_check)
    for option in reversed(OPTIONS):
        callback = _option(option)(callback)
    callback = click.argument("paths", nargs=-1, type=click.Path(allow_dash=True, path_type=Path))(callback)
    return click.command(
        "check",
        context_settings={"help_option_names": ["-h", "--help"]},
        epilog=_EPILOG,
    )(callback)


check = _command()


def run(args: list[str]) -> int:
    """`lint-mainlayer ARGS` parsed by click: the subcommands, `check`, and the command
    lines `cli_options.parse` leaves to click. Returns the exit status."""
    name = args[0] if args else None
    if name in SUBCOMMANDS:
        return _invoke(SUBCOMMANDS[name](), args[1:], f"lint-mainlayer {name}")
    if name == "check":
        return _invoke(check, args[1:], "lint-mainlayer check")
    return _invoke(check, args, "lint-mainlayer")


def _invoke(command: click.Command, args: list[str], prog_name: str) -> int:
    # Not click's standalone mode: the command returns its status, and click's own errors
    # (usage, bad parameters) are shown here and become exit 2.
    try:
        status = command.main(args, prog_name=prog_name, standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        return cli.EXIT_ERROR
    except SystemExit as exc:
        # A subcommand that ends the process its own way (the checker runs user scripts).
        if exc.code is None:
            return cli.EXIT_CLEAN
        return exc.code if isinstance(exc.code, int) else cli.EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - exit 2 with one line, never a traceback and exit 1
        return cli.internal_error(exc)
    return status if isinstance(status, int) else cli.EXIT_CLEAN
