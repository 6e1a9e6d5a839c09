"""Alembic revisions (a package so setuptools installs them with ``mer``)."""
