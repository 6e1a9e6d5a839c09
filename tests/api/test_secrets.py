"""No database password in any message or log: URLs are printed redacted, log records are filtered."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from support import ROOT

from mer.catalog.engine import redact_secrets, redact_url

SECRET = "hunter2"
UNREACHABLE = f"postgresql://mer:{SECRET}@127.0.0.1:1/catalog"  # port 1: refused at once


@pytest.mark.parametrize(("url", "shown"), [
    (UNREACHABLE, "postgresql+psycopg://mer:***@127.0.0.1:1/catalog"),
    ("postgresql+psycopg://mer:p%40ss@db/c?sslmode=require", "postgresql+psycopg://mer:***@db/c?sslmode=require"),
    ("postgresql://mer:p@ss@db/c", "postgresql+psycopg://mer:***@db/c"),
    ("sqlite:////tmp/catalog.db", "sqlite:////tmp/catalog.db"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_secrets_in_free_text() -> None:
    text = f"failed: {UNREACHABLE} then mysql://u:{SECRET}@h/d (no password: http://h/x)"
    assert redact_secrets(text) == "failed: postgresql://mer:***@127.0.0.1:1/catalog then mysql://u:***@h/d " \
                                   "(no password: http://h/x)"


@pytest.mark.parametrize("args", [["db", "upgrade"], ["playlist", "--mood", "happy", "-o", "x.m3u"]])
def test_cli_database_errors_show_no_password(tmp_path, args) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MER_")} | {"MER_HOME": str(ROOT)}
    res = subprocess.run([sys.executable, "-m", "mer", *args, "--db", UNREACHABLE], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert SECRET not in out and "mer:***@127.0.0.1:1" in out, out


def test_log_records_are_redacted_message_and_traceback(caplog) -> None:
    from mer.cli.serve import RedactSecrets

    logger = logging.getLogger("mer.test.secrets")
    caplog.handler.addFilter(RedactSecrets())
    try:
        raise RuntimeError(f"cannot connect to {UNREACHABLE}")
    except RuntimeError:
        logger.exception("catalog %s failed", UNREACHABLE)
    text = caplog.text
    assert SECRET not in text and text.count("mer:***@") == 2, text
