"""Track verdicts on real music: each track's share of time per mood beside the aggregate, and what the track rule
(``mer.decision.track_decision``) does compared with the plain mean of all windows.

    python bench/track_verdicts.py /usr/share/games/wesnoth/1.16/data/core/music   # Debian's wesnoth-1.16-music
    python bench/track_verdicts.py DIR --champion        # the registry's champion instead of a small test model

Without ``--champion`` the model is ``tests/support.py``'s small champion (the champion's structure with 60-tree
forests) fitted on the UCI rows: no registry needed. Prints one line per track (duration, windows as letters —
upper case accepted, lower case review, ``.`` unscorable — the mood shares, old and new verdict, reason) and the
counts for tracks of 3 minutes or more.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _model(champion: bool):
    from mer import settings
    from mer.scoring import Scorer

    if champion:
        from mer.pipeline import load_scorer

        return load_scorer(settings.scoring_settings().model)
    sys.path.insert(0, str(ROOT / "tests"))
    from support import small_champion, uci_rows

    X, y = uci_rows()
    return Scorer(small_champion().fit(X, y), "small-champion", "0", "none")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--champion", action="store_true", help="score with models:/<name>@champion")
    parser.add_argument("--min-minutes", type=float, default=3.0, help="what counts as a long track")
    args = parser.parse_args()

    import soundfile as sf

    from mer import settings
    from mer.features.audio import AUDIO_EXTENSIONS
    from mer.features.extract import extract
    from mer.schema import FEATURE_NAMES
    from mer.scoring import score_windows

    rule = settings.scoring_settings().decision
    model = _model(args.champion)
    files = sorted(p for p in args.folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
    print(f"{len(files)} files; model {model.name} {model.version}; rule {rule}")
    rows, t0 = [], time.perf_counter()
    for path in files:
        info = sf.info(str(path))
        windows = extract(path, ood_margin=rule.ood_margin)
        scored, track = score_windows(model, windows, rule)
        # the rule before: the model on every window (its imputer filling undefined features), plain mean, 0.75
        mean = model.predict_proba(windows[list(FEATURE_NAMES)].to_numpy(float)).mean(axis=0)
        old = "accept" if mean.max() >= rule.accept_threshold else "review"
        letters = "".join("." if d == "unscorable" else (lab[0].upper() if d == "accept" else lab[0])
                          for lab, d in zip(scored["label"].fillna("?"), scored["decision"], strict=True))
        shares = " ".join(f"{c[0]}{track[f'share_{c}']:.2f}" for c in ("happy", "sad", "angry", "relax"))
        rows.append((path.name, info.frames / info.samplerate, letters, shares, old, track))
        print(f"{path.name[:28]:28s} {info.frames / info.samplerate:6.0f}s {letters:22s} {shares}  {old:6s} -> "
              f"{track['decision']:10s} {track['label'] or '-':5s} {track['reason']}", flush=True)
    long = [r for r in rows if r[1] >= 60 * args.min_minutes]
    count = {k: sum(r[5]["decision"] == k for r in long) for k in ("accept", "review", "unscorable")}
    windows = sum(len(r[2]) for r in rows)
    unscorable = sum(r[2].count(".") for r in rows)
    print(f"\n{len(long)} tracks >= {args.min_minutes:g} min: mean of all windows accepts "
          f"{sum(r[4] == 'accept' for r in long)}; the track rule accepts {count['accept']}, reviews "
          f"{count['review']}, finds {count['unscorable']} unscorable")
    print(f"windows: {windows}, unscorable {unscorable} ({unscorable / max(windows, 1):.0%}); "
          f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
