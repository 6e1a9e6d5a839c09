"""The Typer application every command module registers itself on, and what all commands share."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from typer.core import TyperGroup

STDOUT = "-"  # ``-o -``: write the table to standard output


class _MerGroup(TyperGroup):
    """Turns "not in a project" into a one-line reason (exit 2) whichever command met it, instead of a traceback."""

    def invoke(self, ctx: typer.Context):
        from mer.settings import NotAProject, SettingsError

        try:
            return super().invoke(ctx)
        except NotAProject as exc:
            fail(str(exc), code=2)
        except SettingsError as exc:  # a params.yaml value that is not allowed (search: randm): say which, no trace
            fail(f"params.yaml: {exc}", code=2)


app = typer.Typer(help="Music emotion recognition: clean, train, evaluate, extract features, predict.",
                  cls=_MerGroup, context_settings={"help_option_names": ["-h", "--help"]},
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def package_version() -> str:
    """The installed ``mer`` distribution's version (``unknown`` when run from an uninstalled source tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mer")
    except PackageNotFoundError:
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"mer {package_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print mer's version and exit.")] = False,
) -> None:
    """Music emotion recognition: clean, train, evaluate, extract features, predict."""


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop the command with a one-line reason on stderr."""
    Console(stderr=True).print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def is_stdout(path: Path | str) -> bool:
    """True for ``-o -``: the output goes to standard output."""
    return str(path) == STDOUT


def refuse_stdout(path: Path | str, what: str) -> None:
    """Stop with a reason when ``-o -`` was given for an output that cannot go to standard output; ``what`` names the
    output ("mer batch writes Parquet, which")."""
    if is_stdout(path):
        fail(f"-o -: {what} cannot go to standard output; give a file name")


def write_frame_csv(frame, output: Path) -> None:
    """A pandas table as CSV to ``output``, or to standard output for ``-o -`` (messages go to stderr)."""
    if is_stdout(output):
        frame.to_csv(sys.stdout, index=False)
        sys.stdout.flush()
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(output, index=False)
