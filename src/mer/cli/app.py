"""The Typer application every command module registers itself on."""

from typing import NoReturn

import typer
from rich.console import Console

app = typer.Typer(help="Music emotion recognition: clean, train, evaluate, extract features, predict.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop the command with a one-line reason on stderr."""
    Console(stderr=True).print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
