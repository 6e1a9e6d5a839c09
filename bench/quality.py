"""Grouped repeated-CV quality of every candidate on the unique UCI rows; prints one table.

Protocol: the cleaned UCI file, one row per exact-duplicate group (388 rows), ``repeats × folds``
StratifiedGroupKFold; each outer training part runs the candidate's whole estimator (imputer, IQR capping, scaling,
nested grid search, temperature calibration). 95% interval = mean ± 1.96·sd/√folds over the fold scores.

    python bench/quality.py                 # all candidates, 3 x 10 folds (tens of minutes on 2 cores)
    python bench/quality.py --repeats 1 --candidates vote ensemble
"""

from __future__ import annotations

import argparse
import time

from mer import settings
from mer.model.estimators import CANDIDATES, build_estimator
from mer.model.evaluation import repeated_grouped_cv
from mer.model.training import load_training_table
from mer.pipeline import cleaned


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=CANDIDATES)
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    params = settings.load_params()
    data = load_training_table(cleaned("uci"), dedupe=True)
    print(f"{len(data.y)} unique rows ({data.collapsed_duplicates} exact duplicates collapsed); "
          f"{args.repeats} x {args.folds}-fold StratifiedGroupKFold, seeds {args.seed}..{args.seed + args.repeats - 1}")
    head = (f"{'candidate':<10} {'macro-F1 [95% CI]':<24} {'per repeat':<22} {'w-F1':>6} {'acc':>6} "
            f"{'happy':>6} {'sad':>6} {'angry':>6} {'relax':>6} {'ECE':>6} {'s/fold':>7}")
    print(head)
    print("-" * len(head))
    for name in args.candidates:
        t0 = time.time()
        est = build_estimator(params["model"], candidate=name, seed=args.seed)
        res = repeated_grouped_cv(est, data.X, data.y, data.groups, args.folds, args.repeats, args.seed, args.jobs)
        s = res.summary()
        lo, hi = s["macro_f1"]["ci95"]
        reps = " ".join(f"{v:.3f}" for v in s["macro_f1"]["per_repeat"])
        print(f"{name:<10} {s['macro_f1']['mean']:.3f} [{lo:.3f}, {hi:.3f}]    {reps:<22} "
              f"{s['weighted_f1']['mean']:6.3f} {s['accuracy']['mean']:6.3f} "
              + " ".join(f"{s[f'f1_{c}']['mean']:6.3f}" for c in ("happy", "sad", "angry", "relax"))
              + f" {s['ece']['mean']:6.3f} {(time.time() - t0) / len(res.folds) * args.jobs:7.1f}", flush=True)


if __name__ == "__main__":
    main()
