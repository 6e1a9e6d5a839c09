"""Deployment gates: the alias ``champion`` moves only when every gate passes.

Judged on the repeated-CV means (a ~78-row hold-out is too small to gate on alone: its accuracy interval is about
±0.09); the hold-out only has to land inside the range the CV predicts for a set of its size — a guard against
leakage (hold-out far below CV) or a lucky split (far above).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from mer.schema import CLASSES


@dataclass(frozen=True)
class Gate:
    name: str
    value: float
    low: float
    high: float = math.inf

    @property
    def passed(self) -> bool:
        return self.low <= self.value <= self.high

    @property
    def margin(self) -> float:
        """Distance to the nearest bound: positive inside, negative by how much it failed."""
        return min(self.value - self.low, self.high - self.value)

    def describe(self) -> str:
        bound = f">= {self.low:.3f}" if math.isinf(self.high) else f"in [{self.low:.3f}, {self.high:.3f}]"
        verdict = "pass" if self.passed else f"FAIL by {-self.margin:.3f}"
        return f"{self.name} = {self.value:.3f} (needs {bound}): {verdict}"

    def to_dict(self) -> dict:
        return asdict(self) | {"passed": self.passed, "margin": self.margin}


def holdout_range(cv_summary: dict, n_holdout: int, z: float) -> tuple[float, float]:
    """Expected range of a hold-out macro-F1: CV mean ± z·sd_fold·sqrt(fold size / hold-out size)."""
    f1 = cv_summary["macro_f1"]
    fold_rows = cv_summary["protocol"]["rows"] / max(1, cv_summary["protocol"]["folds"] // len(f1["per_repeat"]))
    half = z * f1["sd"] * math.sqrt(fold_rows / max(1, n_holdout))
    return f1["mean"] - half, f1["mean"] + half


def evaluate_gates(cv_summary: dict, holdout: dict, n_holdout: int, gates: dict) -> list[Gate]:
    """The gates of ``params.yaml`` applied to the CV summary and the hold-out scores."""
    out = [
        Gate("cv_macro_f1", cv_summary["macro_f1"]["mean"], gates["min_macro_f1"]),
        Gate("cv_accuracy", cv_summary["accuracy"]["mean"], gates["min_accuracy"]),
    ]
    out += [Gate(f"cv_f1_{c}", cv_summary[f"f1_{c}"]["mean"], gates["min_class_f1"]) for c in CLASSES]
    low, high = holdout_range(cv_summary, n_holdout, gates.get("holdout_z", 1.96))
    out.append(Gate("holdout_macro_f1", holdout["macro_f1"], low, high))
    return out
