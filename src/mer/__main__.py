"""``python -m mer`` = the ``mer`` command."""

from mer.cli import app

app()
