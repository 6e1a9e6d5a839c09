"""Alembic migrations of the catalog, shipped inside the package so an installed ``mer`` can upgrade its database."""
