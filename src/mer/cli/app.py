"""The Typer application every command module registers itself on."""

import typer

app = typer.Typer(help="Music emotion recognition: clean, train, evaluate, extract features, predict.",
                  no_args_is_help=True, add_completion=False)
