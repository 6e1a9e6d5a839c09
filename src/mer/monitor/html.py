"""The monitoring report as one self-contained HTML page: tables plus matplotlib plots inlined as base64 PNGs."""

from __future__ import annotations

import base64
import html
import io
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from mer.schema import CLASSES, plain_name

MOOD_COLOURS = {"happy": "#E69F00", "sad": "#0072B2", "angry": "#D55E00", "relax": "#009E73"}  # Okabe-Ito


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode("ascii")}">'


def _overlays(report: dict[str, Any], reference: pd.DataFrame, windows: pd.DataFrame, top: int) -> str:
    import matplotlib.pyplot as plt

    feats = sorted(((v["psi"], k) for k, v in report["features"].items() if v["psi"] is not None), reverse=True)[:top]
    if not feats or windows.empty:
        return "<p>No windows in the period.</p>"
    cols = 3
    rows = math.ceil(len(feats) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), squeeze=False)
    for ax, (value, name) in zip(axes.flat, feats, strict=False):
        ref = pd.to_numeric(reference[name], errors="coerce").dropna().to_numpy(float)
        cur = pd.to_numeric(windows[name], errors="coerce").dropna().to_numpy(float)
        both = np.concatenate([ref, cur])
        lo, hi = np.quantile(both, [0.005, 0.995]) if both.size else (0, 1)
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 30)
        ax.hist(np.clip(ref, lo, hi), bins=bins, density=True, alpha=0.5, color="#777777", label="training")
        ax.hist(np.clip(cur, lo, hi), bins=bins, density=True, alpha=0.5, color="#0072B2", label="period")
        flag = " DRIFT" if report["features"][name]["drift"] else ""
        ax.set_title(f"{plain_name(name)}\nPSI {value:.2f}{flag}", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(feats):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)


def _class_mix(report: dict[str, Any], windows: pd.DataFrame) -> str:
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.2), gridspec_kw={"width_ratios": [1, 2]})
    train, cur = report["class_mix"]["training"] or {}, report["class_mix"]["current"]
    x = np.arange(len(CLASSES))
    a.bar(x - 0.2, [train.get(c, 0) for c in CLASSES], 0.4, color="#999999", label="training")
    a.bar(x + 0.2, [cur[c] or 0 for c in CLASSES], 0.4, color=[MOOD_COLOURS[c] for c in CLASSES], label="period")
    a.set_xticks(x, CLASSES)
    a.set_ylabel("share")
    a.legend(fontsize=8)
    a.set_title("class mix (scorable windows)", fontsize=9)
    scored = windows[windows["decision"] != "unscorable"] if len(windows) else windows
    if len(scored):
        day = pd.to_datetime(scored["created_at"], utc=True).dt.floor("D")
        mix = pd.crosstab(day, scored["label"], normalize="index").reindex(columns=list(CLASSES), fill_value=0)
        bottom = np.zeros(len(mix))
        for c in CLASSES:
            b.bar(range(len(mix)), mix[c].to_numpy(), bottom=bottom, color=MOOD_COLOURS[c], label=c)
            bottom += mix[c].to_numpy()
        step = max(1, len(mix) // 10)
        b.set_xticks(range(0, len(mix), step), [d.strftime("%Y-%m-%d") for d in mix.index[::step]], fontsize=7,
                     rotation=30)
        b.legend(fontsize=7, ncol=4)
    b.set_title("class mix over time (per day of the verdict)", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def _confidence(report: dict[str, Any]) -> str:
    import matplotlib.pyplot as plt

    h = report["confidence_histogram"]
    fig, ax = plt.subplots(figsize=(5, 3))
    edges = np.asarray(h["edges"])
    ax.bar(edges[:-1], h["counts"], width=np.diff(edges), align="edge", color="#0072B2", edgecolor="white")
    ax.axvline(report.get("accept_threshold", 0.75), color="k", ls="--", lw=1)
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("windows")
    ax.set_title("confidence of scorable windows", fontsize=9)
    return _png(fig)


def _reliability(report: dict[str, Any]) -> str:
    import matplotlib.pyplot as plt

    levels = [(k, v) for k, v in report["feedback"].items() if v.get("reliability")]
    if not levels:
        return "<p>No labelled windows or tracks in the period: no reliability diagram.</p>"
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], color="#999999", lw=1, ls="--")
    for (level, fb), colour in zip(levels, ("#0072B2", "#D55E00"), strict=False):
        rel = fb["reliability"]
        ax.plot([r["confidence"] for r in rel], [r["accuracy"] for r in rel], "o-", color=colour,
                label=f"{level} (n={fb['n']}, ECE {fb['ece']['value']:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean confidence")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=8)
    ax.set_title("reliability (labelled items)", fontsize=9)
    return _png(fig)


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return "–" if not math.isfinite(v) else f"{v:.{digits}g}" if abs(v) < 1e-3 and v else f"{v:.{digits}f}"
    return html.escape(str(v))


def _ci(fig: dict[str, Any] | None) -> str:
    if not fig or fig.get("value") is None:
        return "–"
    ci = fig.get("ci95")
    return f"{fig['value']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def render_html(report: dict[str, Any], reference: pd.DataFrame, windows: pd.DataFrame) -> str:
    """The report as a self-contained HTML page (no external resource)."""
    import matplotlib

    matplotlib.use("Agg")
    e = html.escape
    alerts = report["alerts"]
    alert_rows = "".join(f"<tr><td>{e(a['kind'])}</td><td>{e(a['subject'])}</td><td>{_fmt(a['value'])}</td>"
                         f"<td>{_fmt(a['threshold'])}</td><td>{e(a['message'])}</td></tr>" for a in alerts)
    feats = sorted(report["features"].items(), key=lambda kv: -(kv[1]["psi"] or -1))
    feat_rows = "".join(
        f"<tr{' class=drift' if v['drift'] else ''}><td>{e(plain_name(k))}</td><td><code>{e(k)}</code></td>"
        f"<td>{_fmt(v['psi'])}</td><td>{_fmt(v['ks_p'])}</td><td>{_fmt(v['ks_p_adj'])}</td>"
        f"<td>{'yes' if v['drift'] else ''}</td></tr>" for k, v in feats)
    shares = report["shares"]
    share_rows = "".join(f"<tr><td>{k}</td><td>{_fmt(v)}</td></tr>" for k, v in shares.items())
    fb_rows = "".join(
        f"<tr><td>{e(level)}</td><td>{fb.get('n', 0)}</td><td>{_ci(fb.get('accuracy'))}</td>"
        f"<td>{_ci(fb.get('macro_f1'))}</td><td>{_ci(fb.get('accepted_precision'))}</td>"
        f"<td>{_ci(fb.get('ece'))}</td></tr>" for level, fb in report["feedback"].items())
    models = ", ".join(f"{m['name']} v{m['version']} ({m['windows']} windows)" for m in report.get("models", []))
    ref = report.get("reference", {})
    latency = (f"{report['latency_p95_ms']:.1f} ms" if report.get("latency_p95_ms") is not None
               else e(report.get("latency_note", "omitted")))
    period = report.get("period", {})
    sha = e(str(ref.get("sha256", ""))[:12])
    json_blob = e(json.dumps(report, indent=1, default=str))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mer monitoring report</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}}
table{{border-collapse:collapse;margin:.5em 0 1.5em}} td,th{{border:1px solid #ccc;padding:.2em .5em;font-size:.9em}}
th{{background:#f3f3f3}} tr.drift{{background:#fde2d0}} .ok{{color:#1a7f37}} .bad{{color:#b42318}}
img{{max-width:100%}} details pre{{font-size:.75em;overflow:auto;max-height:30em}}
</style></head><body>
<h1>mer monitoring report</h1>
<p>Generated {e(str(report.get('generated_at', '')))} on {e(str(report.get('catalog', '')))};
period {e(str(period.get('since') or 'start'))} – {e(str(period.get('until') or 'now'))};
{report['windows']['n']} windows ({report['windows']['scorable']} scorable); models: {e(models) or '–'}.<br>
Reference: {e(str(ref.get('path', '')))} ({ref.get('n', '?')} training rows, sha256 {sha}).
Request latency p95: {latency}.</p>
<h2>Alerts ({len(alerts)})</h2>
{f'<table><tr><th>kind</th><th>subject</th><th>value</th><th>threshold</th><th>message</th></tr>{alert_rows}</table>'
 if alerts else '<p class=ok>No alert.</p>'}
<h2>Feature drift</h2>
<p>PSI on the training rows' decile bins; KS p-values corrected over 50 tests ({e(report['thresholds']['correction'])});
drift = PSI ≥ {report['thresholds']['psi_threshold']} and corrected p &lt; {report['thresholds']['ks_alpha']}.
The {report['thresholds']['top_features']} features with the highest PSI:</p>
{_overlays(report, reference, windows, report['thresholds']['top_features'])}
<table><tr><th>feature</th><th>column</th><th>PSI</th><th>KS p</th><th>KS p corrected</th><th>drift</th></tr>
{feat_rows}</table>
<h2>Class mix and verdicts</h2>
{_class_mix(report, windows)}
<table><tr><th>share of windows</th><th></th></tr>{share_rows}</table>
{_confidence(report)}
<h2>Feedback</h2>
<p>Items with a feedback label; accuracy and accepted precision with 95 % Wilson intervals, macro-F1 and ECE with
95 % bootstrap intervals.</p>
{f'<table><tr><th>level</th><th>n</th><th>accuracy</th><th>macro-F1</th><th>accepted precision</th><th>ECE</th></tr>'
 f'{fb_rows}</table>' if fb_rows else '<p>No labelled items.</p>'}
{_reliability(report)}
<details><summary>The report as JSON</summary><pre>{json_blob}</pre></details>
</body></html>
"""
