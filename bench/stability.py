"""Stability of the verdicts across encodings: the real reference clips as a user's copy would arrive.

Each real-music reference clip (``tests/oracle/wesnoth_*.flac``, 44.1 kHz stereo, without ``silence``, which is
4-LSB dither) is re-encoded the ways a user's copy of a song comes:

    mp3       MPEG Layer III, libsndfile's LAME defaults (≈ 128 kbit/s VBR at 44.1 kHz)
    vorbis    Ogg Vorbis, libsndfile's default quality
    opus      Ogg Opus at 48 kHz (Opus has no 44.1 kHz mode: decoders always return 48 kHz)
    aac       AAC-LC in M4A at 128 kbit/s (PyAV's FFmpeg encoder; decoded through PyAV)
    wav48k    16-bit WAV at 48 kHz
    wav22k    16-bit WAV at 22.05 kHz
    wav16k    16-bit WAV at 16 kHz (the lowest source rate the extractor accepts)

The 48, 22.05 and 16 kHz versions are made with scipy's ``resample_poly`` default filter (Kaiser β = 5, 10 zero
crossings), not the extractor's own filter, so the round trip does not flatter the extractor.

Every version is extracted two ways — at its **native** rate (``sample_rate=None``) and **resampled to
44.1 kHz** (``sample_rate=44100``, the default) — and scored by one model; the original FLAC gives the reference
verdicts. Per encoding and way: label agreement with the original (k/n and a 95 % Wilson interval), decision
agreement (label and accept/review), the largest probability change, and the features that move most: the median
over clips of |Δ| in units of the feature's standard deviation in the UCI data (what the model's scaling sees).

The model: the champion's structure as ``params.yaml`` builds it, fitted on all UCI rows with 60-tree forests
(``tests/support.py: small_champion``, seconds to fit); ``--champion`` uses the registered champion instead.

    python bench/stability.py                       # all 25 clips, ≈ 20 min on a busy 2-core machine
    python bench/stability.py --only sad --keep /tmp/enc   # a subset; keep the encoded files
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import yaml
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from mer.features import audio  # noqa: E402
from mer.features.extract import extract  # noqa: E402
from mer.schema import FEATURE_NAMES  # noqa: E402

ORACLE_DIR = ROOT / "tests" / "oracle"
NOT_MUSIC = {"wesnoth_silence.flac"}
WAYS = {"native": None, "44.1k": 44_100}
Z = 1.96


def _write_resampled(path: Path, x: np.ndarray, sr: int, to: int) -> None:
    g = np.gcd(sr, to)
    y = resample_poly(x, to // g, sr // g, axis=0)  # scipy's default filter, not the extractor's
    sf.write(str(path), np.clip(y, -1.0, 1.0), to, subtype="PCM_16")


def _write_blocks(path: Path, x: np.ndarray, sr: int, **kw) -> None:
    """Lossy libsndfile formats in ≤ 10 s blocks (one long OGG write overflows libvorbis' stack)."""
    with sf.SoundFile(str(path), "w", sr, x.shape[1], **kw) as f:
        for i in range(0, len(x), 10 * sr):
            f.write(x[i : i + 10 * sr])


def _write_aac(path: Path, x: np.ndarray, sr: int) -> None:
    import av

    with av.open(str(path), "w", format="ipod") as out:
        stream = out.add_stream("aac", rate=sr, layout="stereo" if x.shape[1] == 2 else "mono")
        stream.bit_rate = 128_000
        step = 1024
        for i in range(0, len(x), step):
            chunk = np.ascontiguousarray(x[i : i + step].T, dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=stream.layout.name)
            frame.sample_rate, frame.pts, frame.time_base = sr, i, Fraction(1, sr)  # timestamps: an edit list
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def encode(src: Path, folder: Path) -> dict[str, Path]:
    """The clip ``src`` in every encoding of the module docstring, written to ``folder``."""
    x, sr = sf.read(str(src), always_2d=True)
    stem = folder / src.stem
    out = {
        "mp3": stem.with_suffix(".mp3"),
        "vorbis": stem.with_suffix(".ogg"),
        "opus": stem.with_suffix(".opus"),
        "aac": stem.with_suffix(".m4a"),
        "wav48k": folder / f"{src.stem}_48k.wav",
        "wav22k": folder / f"{src.stem}_22k.wav",
        "wav16k": folder / f"{src.stem}_16k.wav",
    }
    _write_blocks(out["mp3"], x, sr, format="MP3", subtype="MPEG_LAYER_III")
    _write_blocks(out["vorbis"], x, sr, format="OGG", subtype="VORBIS")
    g = np.gcd(sr, 48_000)
    _write_blocks(out["opus"], np.clip(resample_poly(x, 48_000 // g, sr // g, axis=0), -1, 1), 48_000,
                  format="OGG", subtype="OPUS")
    _write_aac(out["aac"], x, sr)
    _write_resampled(out["wav48k"], x, sr, 48_000)
    _write_resampled(out["wav22k"], x, sr, 22_050)
    _write_resampled(out["wav16k"], x, sr, 16_000)
    return out


def features(path: Path, sample_rate: int | None) -> pd.Series:
    """The whole-file row (every reference clip is ≤ 30 s)."""
    return extract(path, sample_rate=sample_rate).iloc[0][list(FEATURE_NAMES)].astype(float)


def wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    """95 % Wilson score interval of the proportion k/n."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def load_model(champion: bool):
    if champion:
        from mer.model.registry import load_champion

        return load_champion(), "registered champion"
    from support import small_champion, uci_rows

    return small_champion().fit(*uci_rows()), "champion structure, 60-tree forests, fitted on all UCI rows"


def verdicts(model, rows: pd.DataFrame, threshold: float) -> pd.DataFrame:
    from mer.decision import decide

    return decide(model.predict_proba(rows[list(FEATURE_NAMES)]), model.classes_, threshold=threshold)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="only clips whose name contains this text")
    ap.add_argument("--keep", type=Path, help="write the encoded files here (default: a temporary folder)")
    ap.add_argument("--champion", action="store_true", help="score with the registered champion")
    ap.add_argument("--top", type=int, default=4, help="features listed per encoding")
    args = ap.parse_args()

    clips = sorted(p for p in ORACLE_DIR.glob("wesnoth_*.flac") if p.name not in NOT_MUSIC and args.only in p.name)
    threshold = float(yaml.safe_load((ROOT / "params.yaml").read_text())["decision"]["accept_threshold"])
    t0 = time.perf_counter()
    model, model_name = load_model(args.champion)
    print(f"model: {model_name} ({time.perf_counter() - t0:.0f} s); accept threshold {threshold}")

    rows: dict[tuple[str, str], dict[str, pd.Series]] = {}  # (encoding, way) -> clip -> features
    bitrates: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="mer-stability-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for i, clip in enumerate(clips, 1):
            t0 = time.perf_counter()
            duration = sf.info(str(clip)).duration
            ref = features(clip, None)
            for way in WAYS:
                rows.setdefault(("original", way), {})[clip.name] = ref  # 44.1 kHz: both ways are the same signal
            for enc, path in encode(clip, folder).items():
                bitrates.setdefault(enc, []).append(path.stat().st_size * 8 / duration / 1000)
                native = audio.audio_info(path).sample_rate
                for way, rate in WAYS.items():
                    if way != "native" and native == rate:  # decoded at 44.1 kHz: resampling is a no-op
                        rows.setdefault((enc, way), {})[clip.name] = rows[(enc, "native")][clip.name]
                    else:
                        rows.setdefault((enc, way), {})[clip.name] = features(path, rate)
            print(f"  [{i:2d}/{len(clips)}] {clip.name:<40} {time.perf_counter() - t0:5.1f} s", flush=True)

    report(rows, bitrates, [c.name for c in clips], model, threshold, args.top)


def report(rows: dict, bitrates: dict[str, list[float]], names: list[str], model, threshold: float, top: int) -> None:
    """The agreement table, the features that move most, and which label changes one feature explains."""
    uci = pd.read_csv(ROOT / "data" / "raw" / "acoustic_features.csv")
    sd = uci[list(FEATURE_NAMES)].astype(float).std()
    base = pd.DataFrame(rows[("original", "native")]).T.loc[names]
    ref_v = verdicts(model, base, threshold)
    ref_label, ref_decision = ref_v["label"].to_numpy(), ref_v["decision"].to_numpy()
    accepted = ref_decision == "accept"
    n = len(names)
    print(f"\n{n} real-music clips; reference verdicts from the 44.1 kHz FLAC: "
          + ", ".join(f"{k} {v}" for k, v in ref_v["label"].value_counts().items())
          + f"; accepted {int(accepted.sum())}/{n}")
    print("labels: same label as the original; accepted: same label among the clips accepted on the original; "
          "decisions: same label and accept/review\n")
    print(f"{'encoding':<9}{'kbit/s':>7}  {'way':<7}{'labels':>7} {'agree':>7} {'[95% Wilson]':<14}"
          f"{'accepted':>9} {'decisions':>10} {'max|dp|':>8}")
    print("-" * 83)
    moves, changes, explained = [], [], []
    for enc in bitrates:
        for way in WAYS:
            table = pd.DataFrame(rows[(enc, way)]).T.loc[names]
            v = verdicts(model, table, threshold)
            same = v["label"].to_numpy() == ref_label
            same_d = same & (v["decision"].to_numpy() == ref_decision)
            k = int(same.sum())
            low, high = wilson(k, n)
            dp = np.abs(v.filter(like="p_").to_numpy() - ref_v.filter(like="p_").to_numpy()).max()
            print(f"{enc:<9}{np.median(bitrates[enc]):7.0f}  {way:<7}{k:>3}/{n:<3} {k / n:7.1%} [{low:.2f}, {high:.2f}]"
                  f"  {int(same[accepted].sum()):>3}/{int(accepted.sum()):<3} {int(same_d.sum()):>5}/{n:<3}"
                  f" {dp:8.3f}")
            moved = ((table - base).abs() / sd).median().sort_values(ascending=False)
            moves.append(f"{enc:<9}{way:<7}" + ", ".join(f"{c.strip('_')} {m:.2f}" for c, m in moved.head(top).items()))
            for j in np.flatnonzero(~same):
                changes.append(f"  {enc:<9}{way:<7}{names[j]:<36} {ref_label[j]} ({ref_v['confidence'].iloc[j]:.2f})"
                               f" -> {v['label'].iloc[j]} ({v['confidence'].iloc[j]:.2f})")
            if k < n:  # does the feature that moves most explain the changes? put the original's values back
                fixed = table.copy()
                fixed[moved.index[0]] = base[moved.index[0]]
                k_fixed = int((verdicts(model, fixed, threshold)["label"].to_numpy() == ref_label).sum())
                explained.append(f"  {enc:<9}{way:<7}{k}/{n} -> {k_fixed}/{n} with the original's "
                                 f"{moved.index[0].strip('_')}")
    print("\nfeatures that move most (median over clips of |encoded - original| / UCI standard deviation):")
    print("\n".join(moves))
    print("\nlabel changes (original (confidence) -> encoded):" if changes else "\nno label changes")
    print("\n".join(changes))
    if explained:
        print("\nlabels agreeing if the feature that moves most kept the original's value:")
        print("\n".join(explained))

if __name__ == "__main__":
    main()
