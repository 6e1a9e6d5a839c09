"""Monitoring tests reuse the catalog's fixtures (a fresh SQLite file and, when installed, a real PostgreSQL) and its
made-up scored tracks."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "catalog"))

from catalog.conftest import db_url, empty_url, postgres_server  # noqa: E402, F401

ROOT = Path(__file__).resolve().parents[2]
CLEANED = ROOT / "data" / "interim" / "uci_clean.csv"


@pytest.fixture(scope="session")
def training_rows() -> pd.DataFrame:
    """The cleaned UCI table (what training reads), one row per exact-duplicate group."""
    from mer.data.cleaning import clean_table

    table = pd.read_csv(CLEANED) if CLEANED.exists() else clean_table(ROOT / "data/raw/acoustic_features.csv").table
    return table.drop_duplicates("dup_group").reset_index(drop=True)
