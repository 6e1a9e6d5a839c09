"""Pure monitoring figures on DataFrames: feature drift, class mix, verdict shares, feedback quality, alerts.

Nothing here touches a database or a file: :func:`monitor_report` takes the reference rows (the cleaned training
table the served model was fit on), the scored windows of a period and the labelled windows/tracks, and returns a
JSON-ready dict. :mod:`mer.monitor.catalog` loads those frames from the catalog.

* **PSI** (population stability index) on ``psi_bins`` bins at the reference's quantiles (open-ended first and last
  bin), shares floored at 1e-4: ``sum((c - r) * ln(c / r))``. Rule of thumb: < 0.1 stable, 0.1-0.25 moderate,
  > 0.25 a real shift.
* **KS**: the two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``) per feature; the 50 p-values are corrected
  together (Benjamini-Hochberg by ``scipy.stats.false_discovery_control``, or Holm).
* A feature **drifts** when both hold: PSI >= ``psi_threshold`` and corrected p < ``ks_alpha`` (KS alone flags tiny
  shifts on a big catalog; PSI alone is noisy on a small one).
* **Feedback**: accuracy and accepted precision with 95 % Wilson intervals; macro-F1 and top-label ECE (10 equal-width
  confidence bins) with 95 % percentile-bootstrap intervals.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from mer.schema import CLASSES, FEATURE_NAMES, plain_name
from mer.settings import MonitorSettings

EPS = 1e-4
CONFIDENCE_BINS = 10


# ------------------------------------------------------------------------------------------------- drift --
def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """Population stability index of ``current`` against ``reference`` on the reference's quantile bins."""
    ref = np.asarray(reference, float)
    cur = np.asarray(current, float)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if ref.size == 0 or cur.size == 0:
        return math.nan
    inner = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
    r = np.bincount(np.searchsorted(inner, ref, side="right"), minlength=inner.size + 1) / ref.size
    c = np.bincount(np.searchsorted(inner, cur, side="right"), minlength=inner.size + 1) / cur.size
    r, c = np.maximum(r, EPS), np.maximum(c, EPS)
    return float(np.sum((c - r) * np.log(c / r)))


def adjust_pvalues(p: np.ndarray, method: str = "bh") -> np.ndarray:
    """Multiple-testing correction of ``p`` (NaN kept): Benjamini-Hochberg (``bh``) or Holm (``holm``)."""
    p = np.asarray(p, float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if not ok.any():
        return out
    q = p[ok]
    if method == "bh":
        out[ok] = stats.false_discovery_control(q, method="bh")
    elif method == "holm":
        order = np.argsort(q)
        m = q.size
        adj = np.maximum.accumulate((m - np.arange(m)) * q[order])
        res = np.empty(m)
        res[order] = np.minimum(adj, 1.0)
        out[ok] = res
    else:
        raise ValueError(f"unknown correction {method!r}; choose bh or holm")
    return out


def feature_drift(reference: pd.DataFrame, current: pd.DataFrame, settings: MonitorSettings) -> pd.DataFrame:
    """One row per feature (index: the 50 names): ``psi, ks_stat, ks_p, ks_p_adj, n, drift``."""
    rows = []
    for name in FEATURE_NAMES:
        ref = pd.to_numeric(reference[name], errors="coerce").to_numpy(float)
        cur = pd.to_numeric(current[name], errors="coerce").to_numpy(float) if name in current else np.array([])
        ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
        if cur.size == 0 or ref.size == 0:
            rows.append((name, math.nan, math.nan, math.nan, int(cur.size)))
            continue
        with warnings.catch_warnings():  # ties make the exact method fall back to the asymptotic one, loudly
            warnings.simplefilter("ignore", RuntimeWarning)
            ks = stats.ks_2samp(ref, cur)
        rows.append((name, psi(ref, cur, settings.psi_bins), float(ks.statistic), float(ks.pvalue), int(cur.size)))
    out = pd.DataFrame(rows, columns=["feature", "psi", "ks_stat", "ks_p", "n"]).set_index("feature")
    out["ks_p_adj"] = adjust_pvalues(out["ks_p"].to_numpy(), settings.correction)
    judged = out["n"] >= settings.min_windows
    out["drift"] = judged & (out["psi"] >= settings.psi_threshold) & (out["ks_p_adj"] < settings.ks_alpha)
    return out


# -------------------------------------------------------------------------------------------- mixes --
def class_mix(labels: pd.Series) -> dict[str, float]:
    labels = labels.dropna()
    n = len(labels)
    return {c: (float((labels == c).sum()) / n if n else math.nan) for c in CLASSES}


def confidence_histogram(confidence: pd.Series, bins: int = CONFIDENCE_BINS) -> dict[str, list]:
    conf = pd.to_numeric(confidence, errors="coerce").dropna().to_numpy(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts, _ = np.histogram(np.clip(conf, 0.0, 1.0), bins=edges)
    return {"edges": [round(float(e), 4) for e in edges], "counts": [int(c) for c in counts]}


# ----------------------------------------------------------------------------------------- feedback --
def wilson(successes: int, n: int, z: float = 1.96) -> list[float] | None:
    if n == 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return [max(0.0, centre - half), min(1.0, centre + half)]


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro-F1 over the classes present in either the truth or the predictions."""
    present = [c for c in CLASSES if (y_true == c).any() or (y_pred == c).any()]
    f1s = []
    for c in present:
        tp = np.sum((y_true == c) & (y_pred == c))
        fp = np.sum((y_true != c) & (y_pred == c))
        fn = np.sum((y_true == c) & (y_pred != c))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(f1s)) if f1s else math.nan


def ece(correct: np.ndarray, confidence: np.ndarray, bins: int = CONFIDENCE_BINS) -> float:
    """Top-label expected calibration error: sum over equal-width confidence bins of share * |accuracy - conf|."""
    if correct.size == 0:
        return math.nan
    idx = np.minimum((np.clip(confidence, 0, 1) * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.mean() * abs(correct[m].mean() - confidence[m].mean())
    return float(total)


def reliability(correct: np.ndarray, confidence: np.ndarray, bins: int = CONFIDENCE_BINS) -> list[dict[str, Any]]:
    idx = np.minimum((np.clip(confidence, 0, 1) * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        m = idx == b
        if m.any():
            out.append({"low": b / bins, "high": (b + 1) / bins, "n": int(m.sum()),
                        "accuracy": float(correct[m].mean()), "confidence": float(confidence[m].mean())})
    return out


def feedback_quality(labelled: pd.DataFrame, settings: MonitorSettings, seed: int = 0) -> dict[str, Any]:
    """Figures on labelled items: columns ``true`` (feedback label), ``label`` (the verdict's), ``confidence``,
    ``decision``. Unscorable items (no label) count as wrong in accuracy and are left out of ECE."""
    df = labelled.dropna(subset=["true"])
    n = len(df)
    out: dict[str, Any] = {"n": n}
    if n == 0:
        return out
    y_true = df["true"].astype(str).to_numpy()
    y_pred = df["label"].astype(object).where(df["label"].notna(), "").astype(str).to_numpy()
    conf = pd.to_numeric(df["confidence"], errors="coerce").to_numpy(float)
    correct = y_true == y_pred
    acc = int(correct.sum())
    out["accuracy"] = {"value": acc / n, "ci95": wilson(acc, n)}
    accepted = (df["decision"] == "accept").to_numpy()
    k = int(accepted.sum())
    hit = int(correct[accepted].sum())
    out["accepted_precision"] = {"value": hit / k if k else None, "ci95": wilson(hit, k), "n": k}
    scored = np.isfinite(conf) & (y_pred != "")
    rng = np.random.default_rng(seed)
    boot_f1, boot_ece = [], []
    for _ in range(settings.bootstrap):
        i = rng.integers(0, n, n)
        boot_f1.append(macro_f1(y_true[i], y_pred[i]))
        j = i[scored[i]]
        boot_ece.append(ece(correct[j], conf[j]) if j.size else math.nan)

    def ci(values: list[float]) -> list[float] | None:
        v = np.asarray(values, float)
        v = v[np.isfinite(v)]
        return [float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975))] if v.size else None

    out["macro_f1"] = {"value": macro_f1(y_true, y_pred), "ci95": ci(boot_f1)}
    out["ece"] = {"value": ece(correct[scored], conf[scored]) if scored.any() else None, "ci95": ci(boot_ece),
                  "n": int(scored.sum())}
    out["reliability"] = reliability(correct[scored], conf[scored])
    out["confusion"] = {t: {p: int(np.sum((y_true == t) & (y_pred == p))) for p in (*CLASSES, "")}
                        for t in CLASSES}
    return out


# ------------------------------------------------------------------------------------------- alerts --
def _alert(kind: str, subject: str, value: float, threshold: float, message: str) -> dict[str, Any]:
    return {"kind": kind, "subject": subject, "value": _num(value), "threshold": threshold, "message": message}


def _num(x: Any) -> Any:
    if x is None:
        return None
    x = float(x)
    return None if not math.isfinite(x) else x


def alerts_for(report: dict[str, Any], drift: pd.DataFrame, settings: MonitorSettings) -> list[dict[str, Any]]:
    s = settings
    out: list[dict[str, Any]] = []
    n = report["windows"]["n"]
    if n < s.min_windows:
        out.append(_alert("too_few_windows", "windows", n, s.min_windows,
                          f"only {n} windows in the period (< {s.min_windows}): drift and mix not judged"))
    else:
        for name, row in drift[drift["drift"]].sort_values("psi", ascending=False).iterrows():
            out.append(_alert("drift", str(name), row["psi"], s.psi_threshold,
                              f"{plain_name(str(name))} drifted: PSI {row['psi']:.2f} >= {s.psi_threshold}, "
                              f"KS p (corrected) {row['ks_p_adj']:.2g} < {s.ks_alpha}"))
        k = int(drift["drift"].sum())
        if k > s.max_drifted_features:
            out.append(_alert("drift_count", "features", k, s.max_drifted_features,
                              f"{k} of {len(drift)} features drifted (> {s.max_drifted_features})"))
        mix, train = report["class_mix"]["current"], report["class_mix"]["training"]
        for c in CLASSES:
            if mix[c] is not None and math.isfinite(mix[c]) and abs(mix[c] - train[c]) > s.max_class_mix_diff:
                out.append(_alert("class_mix", c, mix[c], s.max_class_mix_diff,
                                  f"{c} is {mix[c]:.0%} of the scored windows' verdicts, "
                                  f"{train[c]:.0%} in training (difference > {s.max_class_mix_diff:.0%})"))
        for key, bound in (("ood", s.max_ood_share), ("unscorable", s.max_unscorable_share),
                           ("review", s.max_review_share)):
            v = report["shares"][key]
            if v is not None and v > bound:
                out.append(_alert(f"{key}_share", "windows", v, bound,
                                  f"{v:.0%} of the windows are {key} (> {bound:.0%})"))
    for level, fb in report["feedback"].items():
        if fb.get("n", 0) < s.min_labelled:
            continue
        checks = (("accuracy", s.min_accuracy, False), ("macro_f1", s.min_macro_f1, False),
                  ("accepted_precision", s.min_accepted_precision, False), ("ece", s.max_ece, True))
        for key, bound, above in checks:
            v = fb[key]["value"]
            if v is None or not math.isfinite(v):
                continue
            if (v > bound) if above else (v < bound):
                ci = fb[key]["ci95"]
                ci_s = f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""
                out.append(_alert(key, level, v, bound,
                                  f"{key.replace('_', ' ')} on {fb['n']} labelled {level} {v:.3f}{ci_s} "
                                  f"{'>' if above else '<'} {bound}"))
    return out


# ------------------------------------------------------------------------------------------- report --
def monitor_report(reference: pd.DataFrame, windows: pd.DataFrame, settings: MonitorSettings,
                   labelled_windows: pd.DataFrame | None = None, labelled_tracks: pd.DataFrame | None = None,
                   latency_p95_ms: float | None = None, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole report as a JSON-ready dict.

    ``reference``: the training rows (the 50 features and ``Class``); ``windows``: the period's windows with the 50
    features and ``ood``, ``label``, ``confidence``, ``decision`` (the latest verdict); ``labelled_*``: ``true``,
    ``label``, ``confidence``, ``decision``.
    """
    drift = feature_drift(reference, windows, settings)
    n = len(windows)
    decision = windows["decision"] if "decision" in windows else pd.Series(dtype=object)
    shares = {
        "ood": float(windows["ood"].astype(bool).mean()) if n and "ood" in windows else None,
        "unscorable": float((decision == "unscorable").mean()) if n else None,
        "review": float((decision == "review").mean()) if n else None,
        "accept": float((decision == "accept").mean()) if n else None,
    }
    scorable = windows[decision != "unscorable"] if n else windows
    report: dict[str, Any] = {
        **(meta or {}),
        "windows": {"n": n, "scorable": len(scorable)},
        "reference": {**((meta or {}).get("reference") or {}), "n": len(reference)},
        "features": {name: {"psi": _num(r["psi"]), "ks_p": _num(r["ks_p"]), "ks_p_adj": _num(r["ks_p_adj"]),
                            "ks_stat": _num(r["ks_stat"]), "drift": bool(r["drift"])}
                     for name, r in drift.iterrows()},
        "drifted": [str(f) for f in drift[drift["drift"]].sort_values("psi", ascending=False).index],
        "class_mix": {"training": class_mix(reference["Class"]) if "Class" in reference else None,
                      "current": {k: _num(v) for k, v in class_mix(scorable.get("label", pd.Series(
                          dtype=object))).items()}},
        "shares": shares,
        "confidence_histogram": confidence_histogram(scorable.get("confidence", pd.Series(dtype=float))),
        "feedback": {},
        "latency_p95_ms": latency_p95_ms,
        "thresholds": settings.__dict__.copy(),
    }
    if latency_p95_ms is None:
        report["latency_note"] = "omitted: no served metrics were available to this run"
    for level, frame in (("windows", labelled_windows), ("tracks", labelled_tracks)):
        if frame is not None:
            report["feedback"][level] = feedback_quality(frame, settings)
    report["alerts"] = alerts_for(report, drift, settings)
    return report
