"""The model card: what a registered version is, what it was measured to do, and where it is not to be trusted.

Built from the run's own figures (``reports/metrics.json`` as logged with the run, and its params) at registration,
so the card and the version can never disagree. :func:`model_card` returns the markdown (the MLflow registered-model
and model-version description, ``GET /v1/model``, the README section) and the same facts as structured fields.

What no run measures — how the model does on real music outside its training data — is cited from the project's
benches in :data:`OUTSIDE_EVIDENCE`, each with the command that reproduces it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mer.schema import CLASSES

# MLflow stores descriptions in a VARCHAR(5000) (registered model and model version alike)
MAX_DESCRIPTION_CHARS = 5000

DATA = {
    "name": "UCI Turkish Music Emotion",
    "source": "UCI Machine Learning Repository, dataset 862, DOI 10.24432/C5JG93 (data/raw/README.md)",
    "licence": "CC BY 4.0 (credit: M. Bilal Er, I. B. Aydilek)",
    "clips": 400,
    "per_class": 100,
    "description": "30-second excerpts of Turkish music (verbal and non-verbal, several genres), 50 MIRtoolbox "
                   "features each; the raw audio is not public",
}

INTENDED_USE = (
    "Sorting and tagging music by mood (happy, sad, angry, relax: the quadrants of Russell's valence/arousal "
    "circumplex) and building mood playlists, where what is not accepted goes to a person (the review queue).",
    "Input: 30-s clips (or tracks cut into 30-s windows) described by the 50 MIRtoolbox 1.7.1 features, from "
    "`mer features` or MIRtoolbox itself.",
)
NOT_FOR = (
    "Judging people (listeners' or performers' moods, clinical or hiring decisions).",
    "Unreviewed decisions on music unlike the training data, or on non-music (speech, noise, tones, silence).",
)

# Measured on real music outside the training data (no labelled clips outside it exist in the project, so these are
# agreement figures, not accuracy); each with its source and the command that reproduces it.
OUTSIDE_EVIDENCE: tuple[dict[str, str], ...] = (
    {"what": "decisions (label and accept/review) from mer's extractor equal to those from MIRtoolbox 1.7.1's own "
             "features, with a model of the champion's structure trained on all 50 columns (every column exact: "
             "tempo to 0.01 BPM, attack time to 0.5 %)",
     "data": "26 real orchestral excerpts (Wesnoth game music, tests/oracle)",
     "figure": "26/26",
     "command": "pytest tests/features/test_decision_parity.py; python bench/fidelity.py --only wesnoth",
     "source": "README, Features from audio"},
)
LIMITS = (
    "Trained only on Turkish music. Western pop, orchestral and electronic music were not in the training data: "
    "accuracy on them has not been measured (no labelled clips outside the training data exist here).",
    "Game (orchestral) music is brighter than the training data: on some excerpts flatness, spread, rolloff and "
    "centroid exceed the training maxima; such windows are flagged out of distribution (`ood`).",
    "Labels are one annotation per 30-s clip; a whole track is judged from its windows (mean of probabilities by "
    "default), and mixed tracks are rarely confident.",
)


@dataclass(frozen=True)
class ModelCard:
    """A rendered card: ``markdown`` for people and MLflow, ``fields`` for programs (``GET /v1/model``)."""

    name: str
    version: str
    alias: str | None
    markdown: str
    fields: dict[str, Any] = field(default_factory=dict)


def _figure(value: Any) -> dict[str, Any] | None:
    """``{"mean", "ci95"}`` from a CV summary entry (or a bare number)."""
    if isinstance(value, dict) and "mean" in value:
        out: dict[str, Any] = {"mean": float(value["mean"])}
        if "ci95" in value:
            out["ci95"] = [float(v) for v in value["ci95"]]
        return out
    if isinstance(value, int | float):
        return {"mean": float(value)}
    return None


def card_fields(metrics: dict, params: dict | None = None, data_hashes: dict[str, str] | None = None,
                git_commit: str | None = None) -> dict[str, Any]:
    """The card's facts as plain data, from a run's ``metrics.json`` (and its params, data hashes, commit)."""
    params = params or {}
    cv = metrics.get("cv", {})
    holdout = metrics.get("holdout", {})
    figures = {key: fig for key in ("macro_f1", "accuracy", "weighted_f1", "class_f1_gap", "ece")
               if (fig := _figure(cv.get(key))) is not None}
    per_class = {c: fig for c in CLASSES if (fig := _figure(cv.get(f"f1_{c}"))) is not None}
    gates = [{"name": g["name"], "value": float(g["value"]), "low": float(g["low"]),
              "high": None if math.isinf(float(g.get("high", math.inf))) else float(g["high"]),
              "passed": bool(g["passed"])} for g in metrics.get("gates", [])]
    decision = params.get("decision") or {}
    return {
        "candidate": metrics.get("candidate"),
        "data": DATA | {"rows": metrics.get("rows", {}), "hashes": dict(data_hashes or {})},
        "intended_use": list(INTENDED_USE),
        "not_for": list(NOT_FOR),
        "limits": list(LIMITS),
        "outside_evidence": [dict(e) for e in OUTSIDE_EVIDENCE],
        "protocol": {"cv": cv.get("protocol", {}), "holdout": holdout.get("protocol")},
        "metrics": {"cv": figures, "cv_f1_per_class": per_class,
                    "holdout": {k: float(v) for k, v in holdout.items() if isinstance(v, int | float)}},
        "fairness": metrics.get("fairness", {}),
        "gates": gates,
        "gates_passed": bool(metrics.get("gates_passed", gates and all(g["passed"] for g in gates))),
        "decision": {"accept_threshold": decision.get("accept_threshold"), "aggregate": decision.get("aggregate")},
        "git_commit": git_commit,
    }


def _ci(fig: dict[str, Any] | None) -> str:
    if not fig:
        return "n/a"
    if "ci95" in fig:
        return f"{fig['mean']:.3f} [{fig['ci95'][0]:.3f}, {fig['ci95'][1]:.3f}]"
    return f"{fig['mean']:.3f}"


def _gate_row(g: dict[str, Any]) -> str:
    need = f"≥ {g['low']:.3f}" if g["high"] is None else f"in [{g['low']:.3f}, {g['high']:.3f}]"
    return f"| {g['name']} | {g['value']:.3f} | {need} | {'pass' if g['passed'] else 'FAIL'} |"


def render_markdown(fields: dict[str, Any], name: str, version: str) -> str:
    """The card as markdown (kept under MLflow's 5,000-character description limit). It names no alias: aliases
    move, descriptions stay."""
    rows = fields["data"].get("rows") or {}
    proto = fields["protocol"].get("cv") or {}
    m = fields["metrics"]
    cv, per_class, hold = m["cv"], m["cv_f1_per_class"], m["holdout"]
    threshold = fields["decision"].get("accept_threshold")
    lines = [
        f"# {name} version {version} — model card",
        "",
        f"Candidate `{fields.get('candidate')}`: scores a clip as happy, sad, angry or relax from the 50 MIRtoolbox "
        "features, with calibrated probabilities and a decision (accept when the top probability ≥ "
        f"{threshold if threshold is not None else 0.75}, else review with the top two).",
        "",
        "## Data",
        f"{DATA['name']} ({DATA['source']}), licence {DATA['licence']}: {DATA['clips']} clips, "
        f"{DATA['per_class']} per class; {DATA['description']}. Rows used: {rows.get('used', 'n/a')} unique "
        f"({rows.get('collapsed_exact_duplicates', 'n/a')} exact duplicates collapsed), "
        f"{rows.get('development', 'n/a')} for development, {rows.get('holdout', 'n/a')} held out.",
        "",
        "## Intended use",
        *(f"- {u}" for u in fields["intended_use"]),
        *(f"- Not for: {u}" for u in fields["not_for"]),
        "",
        "## Limits",
        *(f"- {u}" for u in fields["limits"]),
        "- Measured on real music outside the training data:",
        *(f"  - {e['what']}: **{e['figure']}** on {e['data']} (`{e['command']}`)" for e in fields["outside_evidence"]),
        "",
        "## Protocol",
        f"{proto.get('cv', 'cross-validation')} on {proto.get('rows', 'n/a')} development rows; every figure is the "
        f"mean over the {proto.get('folds', 'n/a')} folds with a 95 % interval ({proto.get('interval', 'n/a')}). "
        f"Hold-out: {fields['protocol'].get('holdout') or 'n/a'}.",
        "",
        "## Figures (CV mean [95 % interval])",
        "| metric | value |",
        "|---|---|",
        f"| macro-F1 | {_ci(cv.get('macro_f1'))} |",
        f"| accuracy | {_ci(cv.get('accuracy'))} |",
        *(f"| F1 {c} | {_ci(per_class.get(c))} |" for c in CLASSES),
        f"| per-class F1 gap | {_ci(cv.get('class_f1_gap'))} |",
        f"| calibration error (top-label ECE) | {_ci(cv.get('ece'))} |",
        f"| hold-out macro-F1 | {hold['macro_f1']:.3f} |" if "macro_f1" in hold else "| hold-out macro-F1 | n/a |",
        "",
    ]
    fairness = fields.get("fairness") or {}
    if "goal_max_gap" in fairness:
        lines += [f"Fairness aim (per-class F1 within {fairness['goal_max_gap']:.2f}): "
                  f"{'met' if fairness.get('meets_goal') else 'not met'}.", ""]
    lines += [
        "## Gates " + ("(all passed)" if fields["gates_passed"] else "(NOT all passed: not a champion)"),
        "| gate | value | required | result |",
        "|---|---|---|---|",
        *(_gate_row(g) for g in fields["gates"]),
    ]
    if fields.get("git_commit"):
        lines += ["", f"Code: git commit `{fields['git_commit']}`."]
    text = "\n".join(lines) + "\n"
    if len(text) > MAX_DESCRIPTION_CHARS:  # never expected; keep MLflow's column happy whatever grows
        tail = "\n…(cut; the full card is the run artifact model_card.md)\n"
        text = text[: MAX_DESCRIPTION_CHARS - len(tail)] + tail
    return text


def model_card(metrics: dict, params: dict | None, name: str, version: str, alias: str | None = None,
               data_hashes: dict[str, str] | None = None, git_commit: str | None = None) -> ModelCard:
    """The card of one registered version, from the run's own figures."""
    fields = card_fields(metrics, params, data_hashes, git_commit)
    return ModelCard(name, str(version), alias, render_markdown(fields, name, str(version)), fields)


def describe_in_registry(client, card: ModelCard, registered_model_too: bool) -> None:
    """Write the card as the model version's description and, for the version that serves (the champion, or the
    only one there is), as the registered model's description — with MLflow's ``update_model_version`` and
    ``update_registered_model``."""
    client.update_model_version(name=card.name, version=card.version, description=card.markdown)
    if registered_model_too:
        client.update_registered_model(name=card.name, description=card.markdown)


def card_from_registry(client, name: str, version: str, alias: str | None = None) -> ModelCard:
    """The card of a registered version as the API shows it: the description MLflow holds (as registered), and the
    structured fields rebuilt from the ``metrics.json`` its run logged."""
    import mlflow

    mv = client.get_model_version(name, str(version))
    metrics: dict = {}
    params: dict = {}
    commit = None
    if mv.run_id:
        try:
            metrics = mlflow.artifacts.load_dict(f"runs:/{mv.run_id}/metrics.json")
        except Exception:  # noqa: BLE001 — a version logged without it: the card says n/a
            metrics = {}
        run = client.get_run(mv.run_id)
        commit = run.data.tags.get("git_commit")
        threshold = run.data.params.get("decision.accept_threshold")
        aggregate = run.data.params.get("decision.aggregate")
        params = {"decision": {"accept_threshold": float(threshold) if threshold else None, "aggregate": aggregate}}
    card = model_card(metrics, params, name, str(version), alias, git_commit=commit)
    if mv.description:
        card = ModelCard(card.name, card.version, alias, mv.description, card.fields)
    return card
