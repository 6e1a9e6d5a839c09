"""Browser tests of the dashboard: a small champion trained once, the API under uvicorn on 127.0.0.1, Debian's
Chromium driven headless by Playwright (skipped when either is missing; CI installs both: .ci/chromium.sh)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import missing_component, point_mer_at, trained_project
from web_support import CHROMIUM, CHROMIUM_ARGS, LiveServer, live_server, screenshot_dir

if not CHROMIUM.exists():
    missing_component(f"{CHROMIUM} missing: run .ci/chromium.sh")
from playwright import sync_api  # noqa: E402 — the dev extra installs it


@pytest.fixture(scope="package")
def web_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with trained_project(tmp_path_factory.mktemp("web-project")) as root:
        yield root


@pytest.fixture(scope="module", autouse=True)
def in_web_project(web_project: Path) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        point_mer_at(mp, web_project)
        yield web_project


@pytest.fixture(scope="module")
def server(in_web_project: Path) -> Iterator[LiveServer]:
    """An open server (no API key, as a local single-user setup) with a fresh catalog per test module."""
    with live_server(in_web_project, f"catalog-{time.monotonic_ns()}.db") as live:
        yield live


@pytest.fixture(scope="package")
def browser() -> Iterator:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return screenshot_dir(tmp_path)


@pytest.fixture
def page(browser, server: LiveServer) -> Iterator:
    """A desktop-sized page on the server; fails the test if it asks anything of another host or logs an error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.base)
    pg = context.new_page()
    foreign: list[str] = []
    errors: list[str] = []
    pg.on("request", lambda r: None if r.url.startswith((server.base, "data:", "blob:")) else foreign.append(r.url))
    pg.on("pageerror", lambda e: errors.append(str(e)))
    # a refused write (401, 422) is an expected answer some tests provoke: the browser logs it, the page handles it
    pg.on("console", lambda m: errors.append(m.text)
          if m.type == "error" and "Failed to load resource" not in m.text else None)
    pg.on("response", lambda r: errors.append(f"{r.status} {r.url}")
          if r.status >= 400 and "/static/" in r.url else None)
    yield pg
    context.close()
    assert not foreign, f"the page asked other hosts: {foreign}"
    assert not errors, f"JavaScript errors: {errors}"
