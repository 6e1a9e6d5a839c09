"""Input the model cannot judge, generated here: every kind of non-music is unscorable with a reason in plain words,
never accepted, stored as such, kept off playlists and put in the review queue."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from api_support import API_KEY

KEY = {"X-API-Key": API_KEY}
SR, SECONDS = 44100, 30  # the common rate (the oracle clips are 44.1 kHz)
_t = np.arange(SR * SECONDS) / SR
_rng = np.random.default_rng(7)


def _pink(n: int) -> np.ndarray:
    spectrum = np.fft.rfft(_rng.standard_normal(n))
    k = np.arange(len(spectrum))
    k[0] = 1
    x = np.fft.irfft(spectrum / np.sqrt(k), n)
    return 0.3 * x / np.abs(x).max()


# name: (signal, words the reason must hold); noise is named "noise-like spectrum" when its flatness is far above
# any training clip, and is at least "outside the training data's range" (roughness, zero crossings) otherwise
NOISE = ("noise-like spectrum", "outside the training data's range")
SIGNALS = {
    "silence": (np.zeros(SR * SECONDS), "silence"),
    "near_silence": (1e-4 * _rng.standard_normal(SR * SECONDS), "near silence"),
    "sine": (0.5 * np.sin(2 * np.pi * 440 * _t), "steady tone"),
    "white_noise": (_rng.uniform(-0.3, 0.3, SR * SECONDS), NOISE),
    "pink_noise": (_pink(SR * SECONDS), NOISE),
    "six_channel_tones": (np.stack([0.3 * np.sin(2 * np.pi * f * _t) for f in (220, 330, 440, 550, 660, 880)],
                                   axis=1), "steady tone"),
}


def _wav(signal: np.ndarray) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, signal, SR, format="WAV", subtype="FLOAT")
    return buf.getvalue()


@pytest.fixture(scope="module")
def uploads(client) -> dict[str, dict]:
    out = {}
    for name, (signal, _) in SIGNALS.items():
        r = client.post("/v1/predict/audio", files={"file": (f"{name}.wav", _wav(signal))}, headers=KEY)
        assert r.status_code == 200, r.text
        out[name] = r.json()
    return out


@pytest.mark.parametrize("name", list(SIGNALS))
def test_non_music_is_unscorable_with_a_plain_reason(uploads, name) -> None:
    body, words = uploads[name], SIGNALS[name][1]
    words = (words,) if isinstance(words, str) else words
    assert body["track"]["decision"] == "unscorable", body["track"]
    assert any(w in body["track"]["reason"] for w in words), body["track"]["reason"]
    for window in body["windows"]:
        assert window["decision"] == "unscorable" and window["ood"]
        assert any(w in window["reason"] for w in words), window["reason"]
    assert body["track"]["scorable_share"] == 0.0


def test_non_music_is_never_in_a_playlist_and_always_in_the_review_queue(client, uploads) -> None:
    ids = {body["track_id"] for body in uploads.values()}
    for mood in ("happy", "sad", "angry", "relax"):
        items = client.get(f"/v1/playlists/{mood}", params={"limit": 500}).json()["items"]
        assert not ids & {item["track_id"] for item in items}
    queue = client.get("/v1/review", params={"limit": 500}).json()["items"]
    assert ids <= {item["track_id"] for item in queue}
    stored = client.get(f"/v1/tracks/{uploads['sine']['track_id']}").json()
    assert stored["decision"] == "unscorable" and "steady tone" in stored["reason"]
