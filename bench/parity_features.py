"""What leaving out the columns our extractor does not reproduce would cost and buy; prints one table.

The extractor matches MIRtoolbox 1.7.1 on 47 of the 50 columns; tempo and attack time (Mean, Slope) are off on
some real clips (``python bench/fidelity.py``). A model that never reads those columns decides the same on our
features as on MIRtoolbox's, whatever those columns hold. This bench measures both sides of that trade for
simple, fixed proxy models (not the tuned, calibrated champion — a decision for the next training change):

* quality: macro-F1 on the unique UCI rows (388), repeats × 10-fold StratifiedGroupKFold, 95 % interval =
  mean ± 1.96·sd/√folds over the fold scores; the same folds for every column set (paired);
* parity: on the 25 real-music reference clips, the share whose decision (label, and accept at p ≥ 0.75) from
  our features equals the one from MIRtoolbox's features, for each proxy fitted on all 388 rows.

    python bench/parity_features.py                     # drops tempo, attack-time Mean and Slope
    python bench/parity_features.py --drop _AttackTime_Slope
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PowerTransformer

from mer.decision import decide
from mer.model.estimators import grouped_folds
from mer.model.training import load_training_table
from mer.pipeline import clean_all, cleaned_path
from mer.schema import FEATURE_NAMES

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fidelity import NOT_MUSIC, ORACLE_DIR, extract_all  # noqa: E402

UNREPRODUCED = ["_Tempo_Mean", "_AttackTime_Mean", "_AttackTime_Slope"]


def proxies(seed: int) -> dict[str, object]:
    """Three model families of the candidate list, with fixed settings (no search, no calibration)."""
    return {
        "logreg": make_pipeline(SimpleImputer(strategy="median"), PowerTransformer(),
                                LogisticRegression(C=0.3, max_iter=2000)),
        "lda": make_pipeline(SimpleImputer(strategy="median"), PowerTransformer(), LinearDiscriminantAnalysis()),
        "et": make_pipeline(SimpleImputer(strategy="median"),
                            ExtraTreesClassifier(n_estimators=500, random_state=seed, n_jobs=2)),
    }


def cv_f1(model, X: pd.DataFrame, y: np.ndarray, folds: list) -> np.ndarray:
    scores = []
    for train, test in folds:
        model.fit(X.iloc[train], y[train])
        scores.append(f1_score(y[test], model.predict(X.iloc[test]), average="macro"))
    return np.asarray(scores)


def decisions(model, X: pd.DataFrame) -> pd.DataFrame:
    """The serving decision (label, accept/review at the default threshold) of each row."""
    return decide(model.predict_proba(X), model.classes_)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--drop", nargs="+", default=UNREPRODUCED, choices=FEATURE_NAMES, metavar="COLUMN")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)

    if not cleaned_path("uci").exists():
        clean_all()
    data = load_training_table(cleaned_path("uci"), dedupe=True)
    folds = [f for r in range(args.repeats) for f in grouped_folds(data.X, data.y, 10, args.seed + r)]
    reference = pd.read_csv(ORACLE_DIR / "oracle_features.csv").set_index("file")
    clips = [f for f in reference.index if f.startswith("wesnoth_") and f not in NOT_MUSIC]
    print(f"extracting our features for {len(clips)} real-music reference clips")
    ours = extract_all(clips)
    column_sets = {"all 50": list(FEATURE_NAMES), f"without {len(args.drop)}": [c for c in FEATURE_NAMES
                                                                                 if c not in args.drop]}
    print(f"\nleft out: {', '.join(args.drop)}")
    print(f"{len(data.y)} unique UCI rows, {args.repeats} x 10-fold StratifiedGroupKFold (paired folds)\n")
    print(f"{'proxy':<8} {'columns':<12} {'macro-F1 [95% CI]':<24} {'Δ vs all 50':>12}   decisions agree (label)")
    for name, model in proxies(args.seed).items():
        base = None
        for label, columns in column_sets.items():
            f1 = cv_f1(model, data.X[columns], data.y, folds)
            half = 1.96 * f1.std(ddof=1) / np.sqrt(len(f1))
            delta = "" if base is None else f"{(f1 - base).mean():+.3f}"
            base = f1 if base is None else base
            model.fit(data.X[columns], data.y)
            a, b = decisions(model, ours.loc[clips, columns]), decisions(model, reference.loc[clips, columns])
            same_label = a["label"].to_numpy() == b["label"].to_numpy()
            same = same_label & (a["decision"].to_numpy() == b["decision"].to_numpy())
            print(f"{name:<8} {label:<12} {f1.mean():.3f} [{f1.mean() - half:.3f}, {f1.mean() + half:.3f}]"
                  f"{'':<4} {delta:>12}   {same.mean():6.1%} ({same_label.mean():.1%})")


if __name__ == "__main__":
    main()
