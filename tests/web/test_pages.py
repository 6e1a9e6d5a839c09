"""The dashboard's pages over plain HTTP: every page answers, nothing points off the server, exports and audio."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from web_support import ORACLE, proba_for, seed_track

import mer.web

WEB = Path(mer.web.__file__).parent


@pytest.fixture(scope="module")
def seeded(server) -> dict[str, int]:
    url = server.database_url
    return {
        "happy": seed_track(url, "bright.flac", proba_for("happy", 0.9)),
        "sad": seed_track(url, "rain.flac", proba_for("sad", 0.6)),
        "relax": seed_track(url, "/music/calm_sea.flac", proba_for("relax", 0.8)),
        "silence": seed_track(url, "silence.flac", proba_for("relax", 0.5), unscorable="near silence"),
        "real": seed_track(url, "real", proba_for("sad", 0.55), path=str(ORACLE / "wesnoth_sad.flac")),
    }


@pytest.mark.parametrize("path", ["/", "/catalog", "/review", "/review?level=window", "/playlists",
                                  "/catalog?q=rain&sort=confidence&order=desc&limit=25&page=1",
                                  "/catalog?label=bored&decision=maybe&sort=evil&limit=7&page=99",
                                  "/playlists?mood=sad&min_probability=0.3"])
def test_every_page_answers_html_with_a_strict_policy(server, seeded, path) -> None:
    r = server.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert '<nav aria-label="Pages">' in r.text and "(coming)" in r.text


def test_nothing_in_the_package_loads_from_another_host() -> None:
    for f in [*WEB.glob("templates/*.html"), *WEB.glob("static/*")]:
        text = f.read_text()
        urls = set(re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, flags=re.I))
        assert urls <= {"http://www.w3.org"}, f"{f.name} refers to {urls}"  # the SVG namespace is a name, not a load
        assert "@import" not in text and "@font-face" not in text


def test_the_catalog_filters_searches_sorts_and_pages(server, seeded) -> None:
    page = server.get("/catalog", params={"q": "rain"}).text
    assert "rain.flac" in page and "bright.flac" not in page and "1 matching track" in page
    page = server.get("/catalog", params={"label": "happy"}).text
    assert "bright.flac" in page and "rain.flac" not in page
    page = server.get("/catalog", params={"decision": "unscorable"}).text
    assert "silence.flac" in page and "near silence" in page and "bright.flac" not in page
    page = server.get("/catalog", params={"sort": "confidence", "order": "desc"}).text
    assert page.index("bright.flac") < page.index("calm_sea.flac") < page.index("rain.flac")
    assert page.index("rain.flac") < page.index("silence.flac")  # no confidence: last
    page = server.get("/catalog", params={"q": "%"}).text  # LIKE wildcards are literal
    assert "0 matching tracks" in page


def test_a_stored_track_page_embeds_its_windows_and_unknown_ids_are_404(server, seeded) -> None:
    r = server.get(f"/tracks/{seeded['sad']}")
    assert r.status_code == 200 and 'id="track-data"' in r.text and "rain.flac" in r.text
    assert server.get("/tracks/999999").status_code == 404
    assert server.get("/tracks/0").status_code == 422


def test_m3u_export_lists_the_playlist_most_likely_first(server, seeded) -> None:
    r = server.get("/playlists/sad.m3u", params={"min_probability": 0.5})
    assert r.status_code == 200 and r.headers["content-type"].startswith("audio/x-mpegurl")
    assert "attachment" in r.headers["content-disposition"]
    lines = r.text.splitlines()
    assert lines[:2] == ["#EXTM3U", "#PLAYLIST:sad"]
    paths = [line for line in lines if not line.startswith("#")]
    assert paths == ["rain.flac", str(ORACLE / "wesnoth_sad.flac")]
    assert server.get("/playlists/bored.m3u").status_code == 422


def test_audio_is_served_only_for_catalogued_files_on_this_server(server, seeded) -> None:
    r = server.get(f"/audio/{seeded['real']}")
    assert r.status_code == 200 and r.content == (ORACLE / "wesnoth_sad.flac").read_bytes()
    assert server.get(f"/audio/{seeded['sad']}").status_code == 404  # an upload: only its name is known
    assert server.get("/audio/999999").status_code == 404
    assert f'src="/audio/{seeded["real"]}"' in server.get("/review").text


def test_the_window_queue_matches_the_store_with_several_model_versions_and_feedback(server, seeded) -> None:
    from mer.catalog import add_feedback, count_review, review_queue, session_scope
    from mer.web.queries import window_review

    url = server.database_url
    two = seed_track(url, "versions.flac", np.array([proba_for("sad", 0.5), proba_for("happy", 0.9)]))
    seed_track(url, "versions.flac", np.array([proba_for("angry", 0.9), proba_for("relax", 0.45)]),
               model_version="seed-2")  # rescored by another version: its verdicts are the latest
    labelled = seed_track(url, "labelled.flac", np.array([proba_for("sad", 0.3), proba_for("sad", 0.35)]))
    with session_scope(url) as s:
        windows = [w["window_id"] for w in review_queue(s, 500, "window") if w["track_id"] == labelled]
        add_feedback(s, label="sad", source="test", track_id=labelled, window_id=windows[0])
        for offset in (0, 1, 3):
            items, total = window_review(s, 4, offset)
            assert items == review_queue(s, 4, "window", offset) and total == count_review(s, "window")
        ours = {(w["track_id"], w["index"]): w["label"] for w in window_review(s, 500)[0]}
    assert ours[(two, 1)] == "relax" and (two, 0) not in ours  # the latest version's verdicts
    assert (labelled, 0) not in ours and (labelled, 1) in ours
