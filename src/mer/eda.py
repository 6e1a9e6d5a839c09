"""Exploratory report of a cleaned feature table: PNGs and one HTML page that shows them with their numbers.

Covers what the modelling choices rest on: class balance, how correlated the 50 features are, how many PCA
components carry 90% / 95% of the variance (after the same imputing, capping and scaling the model uses), and
how many values per feature the IQR capping moves.
"""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from mer.model.capping import IQRCapper  # noqa: E402
from mer.schema import CLASSES, FEATURE_NAMES, LABEL_COLUMN  # noqa: E402


def outlier_counts(X: pd.DataFrame, factor: float = 1.5) -> pd.DataFrame:
    """Per feature: values outside the IQR fences before capping, and after (0 by construction, checked)."""
    capper = IQRCapper(factor=factor).fit(X)
    capped = capper.transform(X)
    before = ((capper.lower_ > X) | (capper.upper_ < X)).sum().to_numpy()
    after = ((capped < capper.lower_) | (capped > capper.upper_)).sum(axis=0)
    return pd.DataFrame({"feature": X.columns, "outliers_before": before, "outliers_after": after})


def pca_variance(X: pd.DataFrame, factor: float = 1.5) -> np.ndarray:
    """Cumulative explained variance ratio after median imputation, IQR capping and standard scaling."""
    prep = make_pipeline(SimpleImputer(strategy="median"), IQRCapper(factor=factor), StandardScaler())
    return np.cumsum(PCA().fit(prep.fit_transform(X)).explained_variance_ratio_)


def eda_report(cleaned_csv: str | Path, out_dir: str | Path) -> Path:
    """Write the PNGs and ``index.html`` into ``out_dir``; returns the page."""
    table = pd.read_csv(cleaned_csv)
    missing = [c for c in (LABEL_COLUMN, *FEATURE_NAMES) if c not in table.columns]
    if missing:
        raise ValueError(f"{cleaned_csv}: not a cleaned table (missing {', '.join(missing[:3])})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X = table[list(FEATURE_NAMES)].astype(float)
    counts = table[LABEL_COLUMN].value_counts().reindex(list(CLASSES), fill_value=0)

    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.bar(counts.index, counts.to_numpy(), color=["C1", "C0", "C3", "C2"])
    ax.set_ylabel("clips")
    ax.set_title("Class balance")
    fig.tight_layout()
    fig.savefig(out / "class_balance.png", dpi=110)
    plt.close(fig)

    corr = X.corr()
    fig, ax = plt.subplots(figsize=(11, 9.5))
    im = ax.imshow(corr.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    short = [n.strip("_").replace("HarmonicChangeDetectionFunction", "HCDF") for n in FEATURE_NAMES]
    ax.set_xticks(range(50), short, rotation=90, fontsize=6)
    ax.set_yticks(range(50), short, fontsize=6)
    fig.colorbar(im, ax=ax, shrink=0.8, label="Pearson r")
    ax.set_title("Feature correlation")
    fig.tight_layout()
    fig.savefig(out / "correlation.png", dpi=110)
    plt.close(fig)

    cum = pca_variance(X)
    n90, n95 = int(np.searchsorted(cum, 0.90) + 1), int(np.searchsorted(cum, 0.95) + 1)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.plot(np.arange(1, len(cum) + 1), cum, marker=".")
    for share, n in ((0.90, n90), (0.95, n95)):
        ax.axhline(share, color="grey", ls="--", lw=0.8)
        ax.axvline(n, color="grey", ls=":", lw=0.8)
        ax.annotate(f"{share:.0%}: {n} components", (n, share), xytext=(n + 2, share - 0.08), fontsize=8)
    ax.set_xlabel("components")
    ax.set_ylabel("cumulative explained variance")
    ax.set_title("PCA (imputed, capped, standardised)")
    fig.tight_layout()
    fig.savefig(out / "pca_variance.png", dpi=110)
    plt.close(fig)

    outl = outlier_counts(X)
    fig, ax = plt.subplots(figsize=(11, 4))
    pos = np.arange(50)
    ax.bar(pos - 0.2, outl["outliers_before"], 0.4, label="before capping")
    ax.bar(pos + 0.2, outl["outliers_after"], 0.4, label="after capping")
    ax.set_xticks(pos, short, rotation=90, fontsize=6)
    ax.set_ylabel("values outside Q1-1.5 IQR .. Q3+1.5 IQR")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "outliers.png", dpi=110)
    plt.close(fig)

    rows = "".join(
        f"<tr><td>{html.escape(r.feature)}</td><td>{r.outliers_before}</td><td>{r.outliers_after}</td></tr>"
        for r in outl.itertuples()
    )
    page = out / "index.html"
    pairs = int(((corr.abs() > 0.8).to_numpy().sum() - 50) / 2)
    source = html.escape(str(cleaned_csv))
    page.write_text(f"""<!doctype html><html><head><meta charset="utf-8"><title>EDA: {source}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}}td,th{{padding:2px 8px}}</style></head><body>
<h1>Exploratory report</h1><p>Source: {source}, {len(table)} rows, 50 features.</p>
<h2>Class balance</h2><p>{", ".join(f"{c}: {n}" for c, n in counts.items())}</p><img src="class_balance.png">
<h2>Feature correlation</h2><p>{pairs} feature pairs with |r| &gt; 0.8.</p>
<img src="correlation.png" width="100%">
<h2>PCA cumulative explained variance</h2><p>{n90} components reach 90% of the variance, {n95} reach 95%.</p>
<img src="pca_variance.png">
<h2>Outliers per feature, before and after IQR capping</h2><img src="outliers.png" width="100%">
<table><tr><th>feature</th><th>before</th><th>after</th></tr>{rows}</table></body></html>
""", encoding="utf-8")
    return page
