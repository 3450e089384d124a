"""`lint-mainlayer lsp`: start the language server; pygls (the `[lsp]` extra) is imported
only here, so the linting path never needs it."""

from __future__ import annotations

import sys

import click

_MISSING = (
    "error: the language server needs pygls 2: install lint-mainlayer[lsp] "
    "(pip install 'lint-mainlayer[lsp]')"
)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--stdio",
    is_flag=True,
    help="Talk over standard input and output (the default and only transport; accepted "
    "because many editors pass it).",
)
def lsp(stdio: bool) -> None:
    """Start the lint-mainlayer language server over standard input and output.

    Point your editor's LSP client at `lint-mainlayer lsp`. Settings come from
    [tool.lint-mainlayer] in the pyproject.toml nearest to each file.
    """
    try:
        # pygls 1 has no `pygls.lsp.server`: this also rejects a too-old pygls.
        import pygls.lsp.server  # noqa: F401
    except ImportError:
        click.echo(_MISSING, err=True)
        sys.exit(2)
    from lint_mainlayer.lsp import serve

    serve()
