"""What leaving out the columns our extractor does not reproduce would cost and buy; prints one table.

The extractor matches MIRtoolbox 1.7.1 on 47 of the 50 columns; tempo and attack time (Mean, Slope) are off on
some real clips (``python bench/fidelity.py``). A model that never reads those columns decides the same on our
features as on MIRtoolbox's, whatever those columns hold. This bench measures both sides of that trade for the
champion as ``params.yaml`` builds it (tuned, calibrated ensemble; with and without ``model.exclude_features``)
and for three simple, fixed proxy models. Every model gets the 50 columns and leaves ``--drop`` out itself
(:class:`mer.model.exclusion.ExcludeFeatures`), as the champion does:

* quality: macro-F1 on the unique UCI rows (388), repeats × 10-fold StratifiedGroupKFold, 95 % interval =
  mean ± 1.96·sd/√folds over the fold scores; the same folds for every column set, so the difference is
  also given per fold (paired Δ, same interval rule);
* parity: on the 25 real-music reference clips, the share whose decision (label, and accept at p ≥ 0.75) from
  our features equals the one from MIRtoolbox's features, for each model fitted on all 388 rows.

    python bench/parity_features.py                     # drops tempo, attack-time Mean and Slope (~6 min, 2 cores)
    python bench/parity_features.py --drop _AttackTime_Slope --models logreg lda et
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
from sklearn.metrics import f1_score, make_scorer
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PowerTransformer

from mer.decision import decide
from mer.model.estimators import build_estimator, grouped_folds
from mer.model.exclusion import ExcludeFeatures
from mer.model.training import load_training_table
from mer.pipeline import cleaned
from mer.schema import FEATURE_NAMES, UNREPRODUCED_FEATURES
from mer.settings import load_params

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fidelity import NOT_MUSIC, ORACLE_DIR, extract_all  # noqa: E402

MODELS = ("champion", "logreg", "lda", "et")
# macro-F1, and the F1 of the class the gates find hardest (sad: its gate is the tightest)
SCORING = {"macro": "f1_macro", "sad": make_scorer(f1_score, labels=["sad"], average="macro")}


def make_model(name: str, drop: list[str], seed: int):
    """The champion as params.yaml builds it, or a proxy with fixed settings (no search, no calibration);
    each leaves ``drop`` out of the 50 columns it is given."""
    if name == "champion":
        return build_estimator(load_params()["model"] | {"exclude_features": drop}, seed=seed)
    leave_out = ExcludeFeatures(tuple(drop))
    return {
        "logreg": lambda: make_pipeline(leave_out, SimpleImputer(strategy="median"), PowerTransformer(),
                                        LogisticRegression(C=0.3, max_iter=2000)),
        "lda": lambda: make_pipeline(leave_out, SimpleImputer(strategy="median"), PowerTransformer(),
                                     LinearDiscriminantAnalysis()),
        "et": lambda: make_pipeline(leave_out, SimpleImputer(strategy="median"),
                                    ExtraTreesClassifier(n_estimators=500, random_state=seed)),
    }[name]()


def _interval(scores: np.ndarray, fmt: str) -> str:
    """mean [95 % CI] over fold scores (or paired fold differences): mean ± 1.96·sd/√folds."""
    m, half = scores.mean(), 1.96 * scores.std(ddof=1) / np.sqrt(len(scores))
    return f"{fmt.format(m)} [{fmt.format(m - half)}, {fmt.format(m + half)}]"


def decisions(model, X: pd.DataFrame) -> pd.DataFrame:
    """The serving decision (label, accept/review at the default threshold) of each row."""
    return decide(model.predict_proba(X), model.classes_)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--drop", nargs="+", default=list(UNREPRODUCED_FEATURES), choices=FEATURE_NAMES, metavar="COLUMN")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)

    data = load_training_table(cleaned("uci"), dedupe=True)
    folds = [f for r in range(args.repeats) for f in grouped_folds(data.X, data.y, 10, args.seed + r)]
    reference = pd.read_csv(ORACLE_DIR / "oracle_features.csv").set_index("file")
    clips = [f for f in reference.index if f.startswith("wesnoth_") and f not in NOT_MUSIC]
    print(f"extracting our features for {len(clips)} real-music reference clips")
    ours = extract_all(clips)[list(FEATURE_NAMES)]
    reference = reference.loc[clips, list(FEATURE_NAMES)]
    column_sets = {"all 50": [], f"without {len(args.drop)}": args.drop}
    print(f"\nleft out: {', '.join(args.drop)}")
    print(f"{len(data.y)} unique UCI rows, {args.repeats} x 10-fold StratifiedGroupKFold (paired folds)\n")
    print(f"{'model':<9} {'columns':<12} {'macro-F1 [95% CI]':<24} {'paired Δ vs all 50 [CI]':<24} "
          f"{'F1 sad [95% CI]':<24} decisions agree (label)")
    for name in args.models:
        base = None
        for label, drop in column_sets.items():
            model = make_model(name, drop, args.seed)
            scores = cross_validate(model, data.X, data.y, cv=folds, scoring=SCORING, n_jobs=2)
            f1, sad = scores["test_macro"], scores["test_sad"]
            delta = "" if base is None else _interval(f1 - base, "{:+.3f}")
            base = f1 if base is None else base
            model.fit(data.X, data.y)
            a, b = decisions(model, ours.loc[clips]), decisions(model, reference)
            same_label = a["label"].to_numpy() == b["label"].to_numpy()
            same = same_label & (a["decision"].to_numpy() == b["decision"].to_numpy())
            print(f"{name:<9} {label:<12} {_interval(f1, '{:.3f}'):<24} {delta:<24} {_interval(sad, '{:.3f}'):<24}"
                  f" {same.mean():6.1%} ({same_label.mean():.1%})")


if __name__ == "__main__":
    main()
