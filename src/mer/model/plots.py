"""Evaluation pictures a person would rather look at than JSON: confusion matrix, reliability, per-class F1."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mer.schema import CLASSES  # noqa: E402


def confusion_png(counts: list[list[int]], path: Path, title: str) -> Path:
    cm = np.asarray(counts)
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center", color="white" if v > cm.max() / 2 else "black")
    ax.set_xticks(range(len(CLASSES)), CLASSES)
    ax.set_yticks(range(len(CLASSES)), CLASSES)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def reliability_png(table: list[dict], ece: float, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    conf = [r["confidence"] for r in table]
    acc = [r["accuracy"] for r in table]
    sizes = [20 + 2 * r["count"] for r in table]
    ax.plot(conf, acc, "-", color="C0")
    ax.scatter(conf, acc, s=sizes, color="C0", label="bins (size = clips)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Reliability, out-of-fold (ECE {ece:.3f})", fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def class_f1_png(summary: dict, path: Path) -> Path:
    means = [summary[f"f1_{c}"]["mean"] for c in CLASSES]
    lows = [m - summary[f"f1_{c}"]["ci95"][0] for c, m in zip(CLASSES, means, strict=True)]
    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    ax.bar(CLASSES, means, yerr=lows, capsize=4, color=["C1", "C0", "C3", "C2"])
    ax.axhline(summary["macro_f1"]["mean"], color="black", lw=1, ls="--", label="macro-F1")
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1 (mean over CV folds, 95% CI)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
