"""A small champion trained once for the API tests, in a throw-away project with its own registry and catalog.

The project is trained once per run; the environment that points ``mer`` at it (MER_HOME, MLflow URI, catalog URL,
working directory) is set per test module and restored after it, so nothing leaks into other test folders (pytest
scopes a folder without ``__init__.py`` to the session, so a "package" fixture would hold it to the end of the run).
Two versions are registered, so a test can move the alias between them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import support
from api_support import make_config, wait_ready
from fastapi.testclient import TestClient
from support import ROOT, point_mer_at


@pytest.fixture(scope="package")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with support.trained_project(tmp_path_factory.mktemp("api-project"), versions=2) as root:
        yield root


@pytest.fixture(scope="module", autouse=True)
def in_trained_project(trained_project: Path) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        point_mer_at(mp, trained_project)
        yield trained_project


@pytest.fixture(scope="module")
def client(in_trained_project: Path) -> Iterator[TestClient]:
    """An app with an API key, a fresh catalog per test module, and the small champion loaded."""
    from mer.api import create_app

    db_name = f"catalog-{time.monotonic_ns()}.db"
    with TestClient(create_app(make_config(in_trained_project, db_name))) as c:
        wait_ready(c)
        yield c


@pytest.fixture(scope="module")
def example_rows() -> list[dict[str, float]]:
    import pandas as pd

    from mer.schema import FEATURE_NAMES

    frame = pd.read_csv(ROOT / "data" / "examples" / "example_features.csv")
    return frame[list(FEATURE_NAMES)].to_dict("records")
