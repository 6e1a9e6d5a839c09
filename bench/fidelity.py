"""Fidelity of our extractor to MIRtoolbox 1.7.1 on the files in ``tests/oracle``; prints two tables.

1. Per column: median and worst relative error over the files, and how many files pass the issue's tolerance.
   Relative error = |ours − MIRtoolbox| / |MIRtoolbox| (0 when both are NaN, inf when only one is).
   Tolerances (issue 10; the absolute part keeps slope-like columns that cross 0 meaningful):
     RMS … chromagram                     0.5 % relative or 1e-3 absolute
     tempo                                0.01 BPM
     attack time                          0.5 % relative or 1e-4 absolute
     HCDF                                 2 % relative or 1e-4 absolute
     fluctuation, roughness               2 % relative or 2 % of the column's UCI range
     event density, pulse clarity         10 % relative or 10 % of the column's UCI range (both are exact)
   The one allowed exception, listed as such: the steady sine's HCDF Slope/PeriodFreq/PeriodAmp/PeriodEntropy,
   which MIRtoolbox computes on its own rounding noise (``shared/mirtoolbox-features.md`` §7 E.3).
2. "Decisions agree": with the registered champion model, the share of the real-music reference clips (the
   wesnoth excerpts) whose decision — label and accept/review — from our features equals the one from
   MIRtoolbox's features; where they differ, the agreement when one extractor's columns are replaced by
   MIRtoolbox's (listed only where it changes).

    python bench/fidelity.py                   # all 34 files, decode + extract each (a few minutes on 1 core)
    python bench/fidelity.py --only wesnoth    # files whose name contains "wesnoth"
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mer.decision import decide
from mer.features.extract import extract
from mer.schema import FEATURE_NAMES, FEATURE_RANGES, FEATURES

ORACLE_DIR = Path(__file__).resolve().parents[1] / "tests" / "oracle"
# MIRtoolbox's statistics of its own rounding noise on a steady sine (§7 E.3): no implementation reproduces them
KNOWN_EXCEPTIONS = {
    ("synth_e_sine440.flac", f"_HarmonicChangeDetectionFunction_{stat}")
    for stat in ("Slope", "PeriodFreq", "PeriodAmp", "PeriodEntropy")
}


def tolerance(column: str) -> tuple[float, float, str]:
    """(relative, absolute, description) of the issue's tolerance for ``column``."""
    low, high = FEATURE_RANGES[column]
    if column == "_Tempo_Mean":
        return 0.0, 0.01, "0.01 BPM"
    if column.startswith("_AttackTime"):
        return 0.005, 1e-4, "0.5% / 1e-4"
    if column.startswith("_HarmonicChange"):
        return 0.02, 1e-4, "2% / 1e-4"
    if column.startswith(("_Fluctuation", "_Roughness")):
        return 0.02, 0.02 * (high - low), "2% / 2% range"
    if column.startswith(("_Eventdensity", "_Pulseclarity")):
        return 0.10, 0.10 * (high - low), "10% / 10% range"
    return 0.005, 1e-3, "0.5% / 1e-3"


def relative_errors(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|ours − ref| / |ref|, 0 where both are NaN (or equal), inf where only one is NaN or ref is 0."""
    both_nan = np.isnan(ours) & np.isnan(ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.abs(ours - ref) / np.abs(ref)
    err = np.where(ours == ref, 0.0, err)
    err = np.where(np.isnan(err), np.inf, err)
    return np.where(both_nan, 0.0, err)


def passes(ours: np.ndarray, ref: np.ndarray, rel: float, abs_: float) -> np.ndarray:
    both_nan = np.isnan(ours) & np.isnan(ref)
    diff = np.abs(ours - ref)
    with np.errstate(invalid="ignore"):
        ok = (diff <= abs_) | (diff <= rel * np.abs(ref))
    return both_nan | (ok & np.isfinite(diff))


def extract_all(files: list[str]) -> pd.DataFrame:
    """Our features for each file (whole file: every reference excerpt is ≤ 30 s), indexed by file name."""
    rows = []
    for i, name in enumerate(files, 1):
        t0 = time.perf_counter()
        row = extract(ORACLE_DIR / name).iloc[0]
        print(f"  [{i:2d}/{len(files)}] {name:<40} {time.perf_counter() - t0:5.1f} s", flush=True)
        rows.append(row[list(FEATURE_NAMES)].astype(float).rename(name))
    return pd.DataFrame(rows)


def column_table(ours: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
    """Per column: median/worst relative error and passes, the known exceptions counted apart (``exempt``)."""
    out = []
    for column in FEATURE_NAMES:
        o, r = ours[column].to_numpy(float), ref[column].to_numpy(float)
        rel, abs_, desc = tolerance(column)
        exempt = np.array([(f, column) in KNOWN_EXCEPTIONS for f in ours.index])
        err = np.where(exempt, 0.0, relative_errors(o, r))
        ok = passes(o, r, rel, abs_) | exempt
        worst = int(np.argmax(err))
        out.append({
            "column": column, "tolerance": desc, "median_rel": float(np.median(err)),
            "worst_rel": float(err[worst]), "worst_file": ours.index[worst] if err[worst] > 0 else "",
            "pass_": f"{int(ok.sum())}/{len(ok)}", "exempt": int(exempt.sum()),
        })
    return pd.DataFrame(out)


def _decisions(model, table: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """The decision rule (``mer.decision.decide``) on the model's probabilities for the 50 columns of ``table``."""
    proba = model.predict_proba(table[list(FEATURE_NAMES)].astype(float))
    return decide(proba, list(model.classes_), threshold=threshold)


def _verdict(d: pd.DataFrame, i: int) -> str:
    return f"{d.loc[i, 'label']}/{d.loc[i, 'decision']} ({d.loc[i, 'confidence']:.2f})"


def decisions_agree(ours: pd.DataFrame, ref: pd.DataFrame, inexact: list[str]) -> None:
    """Agreement of the champion's decisions; ``inexact`` names the extractors off tolerance on some file."""
    files = [f for f in ours.index if f.startswith("wesnoth_")]
    if not files:
        print("\nDecisions agree: no real-music reference clips selected")
        return
    from mer import settings

    uri = settings.tracking_uri()
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        print("\nDecisions agree: no champion model registered — run `mer train` first (no tracking store)")
        return  # do not let MLflow create an empty store as a side effect of a benchmark
    try:
        from mer.model.registry import load_champion

        model = load_champion()
    except Exception as exc:  # noqa: BLE001 — no registry, no alias, MLflow missing: all mean the same here
        print(f"\nDecisions agree: no champion model registered — run `mer train` first "
              f"({type(exc).__name__})")
        return
    threshold = float(settings.load_params().get("decision", {}).get("accept_threshold", 0.75))

    a = _decisions(model, ours.loc[files], threshold)
    b = _decisions(model, ref.loc[files, list(FEATURE_NAMES)], threshold)
    same_label = a["label"].to_numpy() == b["label"].to_numpy()
    same = same_label & (a["decision"].to_numpy() == b["decision"].to_numpy())
    print(f"\nDecisions agree (champion, accept threshold {threshold}): {same.mean():.1%} of {len(files)} "
          f"real-music clips (label alone: {same_label.mean():.1%}); "
          f"max |Δp| {np.abs(a.filter(like='p_').to_numpy() - b.filter(like='p_').to_numpy()).max():.3f}")
    for i in np.flatnonzero(~same):
        print(f"  {files[i]:<40} ours {_verdict(a, i)}  MIRtoolbox {_verdict(b, i)}")
    if same.all():
        return

    # where the disagreement comes from: swap extractors' columns for MIRtoolbox's and decide again
    def agreement_with(sources: list[str]) -> float:
        columns = [f.name for f in FEATURES if f.source in sources]
        hybrid = ours.loc[files].copy()
        hybrid[columns] = ref.loc[files, columns].to_numpy()
        h = _decisions(model, hybrid, threshold)
        return float(((h["label"] == b["label"]) & (h["decision"] == b["decision"])).mean())

    print("  agreement if one extractor's columns were MIRtoolbox's (only where it changes):")
    for source in dict.fromkeys(f.source for f in FEATURES):
        agree = agreement_with([source])
        if agree != same.mean():
            print(f"    {source:<16} {agree:.1%}")
    if inexact:
        print(f"  ... if all extractors off tolerance somewhere were ({', '.join(inexact)}): "
              f"{agreement_with(inexact):.1%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="only files whose name contains this text")
    args = ap.parse_args()

    ref = pd.read_csv(ORACLE_DIR / "oracle_features.csv").set_index("file")
    files = [f for f in ref.index if args.only in f]
    print(f"Extracting {len(files)} reference files with mer.features.extract.extract ...")
    t0 = time.perf_counter()
    ours = extract_all(files)
    print(f"done in {time.perf_counter() - t0:.0f} s\n")
    ref = ref.loc[files]

    table = column_table(ours, ref)
    width = max(map(len, FEATURE_NAMES))
    print(f"{'column':<{width}}  {'tolerance':<16} {'median rel':>10} {'worst rel':>10} {'pass':>6}  "
          "worst file")
    for r in table.itertuples():
        note = f" ({r.exempt} known exception)" if r.exempt else ""
        print(f"{r.column:<{width}}  {r.tolerance:<16} {r.median_rel:10.2e} {r.worst_rel:10.2e} "
              f"{r.pass_:>6}  {r.worst_file}{note}")
    n_pass = sum(int(p.split("/")[0]) == len(files) for p in table["pass_"])
    print(f"\n{n_pass}/{len(table)} columns pass on every file (known exceptions: the steady sine's HCDF "
          "Slope/PeriodFreq/PeriodAmp/PeriodEntropy, MIRtoolbox's rounding noise, §7 E.3)")
    failing = set(table.loc[[int(p.split("/")[0]) < len(files) for p in table["pass_"]], "column"])
    inexact = list(dict.fromkeys(f.source for f in FEATURES if f.name in failing))
    decisions_agree(ours, ref, inexact)


if __name__ == "__main__":
    main()
