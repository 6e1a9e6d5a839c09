"""Commands on the catalog: ``mer playlist`` and ``mer db upgrade``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mer.cli.app import app, fail, is_stdout
from mer.schema import CLASSES

console = Console(stderr=True)
db_app = typer.Typer(help="The catalog database (SQLite by default, PostgreSQL by URL).", no_args_is_help=True)
app.add_typer(db_app, name="db")

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: MER_DATABASE_URL, else "
                                                            "sqlite:///<project root>/catalog.db).")]


def _url(db: str | None) -> str:
    from mer import settings

    return db or settings.database_url()


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create the catalog or migrate it to the newest schema (safe to run again)."""
    from sqlalchemy.exc import SQLAlchemyError

    from mer.catalog import init_db
    from mer.catalog.engine import redact_secrets, redact_url

    url = _url(db)
    try:
        revision = init_db(url)
    except (SQLAlchemyError, ValueError) as exc:
        fail(f"cannot migrate {redact_url(url)}: {redact_secrets(str(exc).splitlines()[0])}")
    console.print(f"catalog at revision [green]{revision}[/]")


@app.command()
def playlist(
    mood: Annotated[str, typer.Option(help=f"One of {', '.join(CLASSES)} (or a synonym such as calm).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Playlist file: M3U, or CSV when it ends in .csv "
                                                                "('-': M3U to standard output, see --csv).")],
    limit: Annotated[int, typer.Option(min=1, help="How many tracks, most likely first.")] = 50,
    db: DbOption = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV whatever the file name (e.g. with -o -).")] = False,
) -> None:
    """The tracks of the catalog most likely to be MOOD, as an M3U (or CSV) playlist."""
    from sqlalchemy.exc import SQLAlchemyError

    from mer.catalog import has_catalog, session_scope
    from mer.catalog import playlist as ranked
    from mer.catalog.engine import redact_secrets, redact_url
    from mer.catalog.playlist_file import write_playlist
    from mer.schema import normalise_label

    chosen = normalise_label(mood)
    if chosen is None:
        fail(f"unknown mood {mood!r}: choose one of {', '.join(CLASSES)}")
    url = _url(db)
    try:
        if not has_catalog(url):
            fail(f"no catalog at {redact_url(url)} (or it is not at the newest schema): run `mer db upgrade` and "
                 "score tracks")
        with session_scope(url) as session:
            items = ranked(session, chosen, limit)
    except SQLAlchemyError as exc:
        fail(f"cannot read the catalog at {redact_url(url)}: {redact_secrets(str(exc).splitlines()[0])}")
    kind = write_playlist(items, output, chosen, as_csv=as_csv)
    console.print(f"{len(items)} {chosen} tracks → {'standard output' if is_stdout(output) else output} ({kind})")
