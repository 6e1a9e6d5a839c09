"""Latency of one explained verdict: ``mer.scoring.score_columns(..., explain=True)`` on one row, as the API's
``?explain=true`` runs it (the served model's compiled path, :mod:`mer.model.fast_predict`).

The model: the champion's structure as ``params.yaml`` builds it (8-member ensemble, temperature-calibrated) with
its real 500-tree ExtraTrees (``--trees``), a 2-fold inner search so it fits in a few minutes, fitted on all UCI
rows; ``--champion`` loads the registered ``models:/music-emotion@champion`` instead. Rows: the UCI rows, one at a
time, after a warm-up (the first call imports shap and compiles the model: seconds, once per process).

    python bench/explain_speed.py [--rows 100] [--trees 500] [--champion] [--background 4 8 12]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def served_model(args):
    from mer.api.model_service import prepare

    if args.champion:
        from mer.model.registry import load_champion

        return prepare("music-emotion", "champion", "?", load_champion("music-emotion")), "registered champion"
    from support import small_champion, uci_rows

    t0 = time.perf_counter()
    est = small_champion().set_params(estimator__clf__et__clf__n_estimators=args.trees,
                                      estimator__clf__et_derived__clf__n_estimators=args.trees)
    est.fit(*uci_rows())
    print(f"fitted in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return prepare("bench", "none", "0", est), f"champion structure, {args.trees}-tree forests, fitted on all UCI rows"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--champion", action="store_true")
    parser.add_argument("--background", type=int, nargs="*", default=[4],
                        help="background sizes to compare (the first N clips of explain_background.csv)")
    args = parser.parse_args()

    from support import uci_rows

    from mer.model import explain
    from mer.scoring import score_columns
    from mer.settings import DecisionSettings

    served, what = served_model(args)
    rule = DecisionSettings()
    X = uci_rows()[0].drop_duplicates().to_numpy(dtype=float)
    t0 = time.perf_counter()
    score_columns(served, X[:1], rule, explain=True)
    print(f"warm-up (import shap, compile): {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print(f"model: {what} (compiled: {served.compiled})")
    for size in args.background:
        explain.BACKGROUND_ROWS = size
        explain.background.cache_clear()
        rng = np.random.default_rng(0)
        times, plain = [], []
        for i in rng.choice(len(X), size=min(args.rows, len(X)), replace=False):
            t0 = time.perf_counter()
            score_columns(served, X[i:i + 1], rule)
            plain.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            cols = score_columns(served, X[i:i + 1], rule, explain=True)
            times.append(time.perf_counter() - t0)
            e = cols["explanation"][0]
            if e is not None:
                gap = abs(e["base_value"] + sum(c["contribution"] for c in e["contributions"]) - e["probability"])
                assert gap <= 1e-3, gap
        ms = np.array(times) * 1000
        print(f"background {size:2d} clips, {len(ms)} rows, one explained row per call: "
              f"p50 {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms "
              f"(the same call without explain: p50 {np.percentile(plain, 50) * 1000:.1f} ms)", flush=True)

if __name__ == "__main__":
    main()
