"""Commands on the model: ``mer train``, ``mer register``, ``mer predict`` and the main job ``mer run``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mer import settings
from mer.cli.app import app, fail, write_frame_csv
from mer.cli.progress import make_progress
from mer.data.csvio import InputError

console = Console(stderr=True)


def _print_metrics(metrics: dict) -> None:
    cv = metrics["cv"]
    table = Table(title=f"{metrics['candidate']}: {cv['protocol']['cv']} on {cv['protocol']['rows']} rows")
    for col in ("figure", "CV mean", "95% CI", "hold-out"):
        table.add_column(col)
    for key in ("macro_f1", "weighted_f1", "accuracy", "f1_happy", "f1_sad", "f1_angry", "f1_relax"):
        lo, hi = cv[key]["ci95"]
        table.add_row(key, f"{cv[key]['mean']:.3f}", f"[{lo:.3f}, {hi:.3f}]", f"{metrics['holdout'][key]:.3f}")
    table.add_row("ECE (top label)", f"{cv['ece']['mean']:.3f}", "", "")
    console.print(table)
    for gate in metrics["gates"]:
        ok = gate["passed"]
        console.print(f"  gate {'[green]pass[/]' if ok else '[red]FAIL[/]'} {gate['name']} = {gate['value']:.3f} "
                      + (f"(needs >= {gate['low']:.3f})" if gate["high"] == float("inf")
                         else f"(needs [{gate['low']:.3f}, {gate['high']:.3f}])")
                      + ("" if ok else f" — short by {-gate['margin']:.3f}"))
    fair = metrics["fairness"]
    console.print(f"  fairness: per-class F1 gap {fair['class_f1_gap']:.3f} (goal <= {fair['goal_max_gap']})")


def _train(params: dict, candidate: str | None):
    from mer.pipeline import train_stage

    with make_progress(console, "training", unit="fits", transient=True) as bar:
        task = bar.add_task("cross-validation", total=None)
        result = train_stage(params, candidate=candidate, progress=lambda done, total, doing, left: bar.update(
            task, completed=done, total=total, description=doing, eta_s=left))
    _print_metrics(result.metrics)
    return result


@app.command()
def train(
    candidate: Annotated[str | None, typer.Option(help="Override params.yaml model.candidate (logreg, svm, lda, rf, "
                                                       "et, gb, vote, ensemble).")] = None,
) -> None:
    """Evaluate by grouped repeated CV + hold-out, judge the gates, fit and save the final model (no registry)."""
    _train(settings.load_params(), candidate)


@app.command()
def register() -> None:
    """Log the trained model's run to MLflow and register it: alias champion if the gates pass, else candidate."""
    from mer.pipeline import register_stage

    reg, metrics = register_stage(settings.load_params())
    console.print(f"registered {reg.name} version {reg.version} as [bold]{reg.alias}[/] (run {reg.run_id})")
    for gate in metrics["gates"]:
        if not gate["passed"]:
            console.print(f"  [red]gate failed[/]: {gate['name']} = {gate['value']:.3f}, "
                          f"short by {-gate['margin']:.3f}")


@app.command()
def predict(
    input_csv: Annotated[Path, typer.Argument(help="CSV of the 50 features (any dialect; a Class column is ignored).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV, one row per input record: line, ood, "
                                                                "ood_features, p_happy, p_sad, p_angry, p_relax, "
                                                                "label, confidence, decision (accept, review, "
                                                                "unscorable), reason, top2, valence, arousal, "
                                                                "model_name, model_version, model_alias ('-': "
                                                                "standard output).")],
    threshold: Annotated[float | None, typer.Option(help="Accept threshold (default: params.yaml "
                                                         "decision.accept_threshold).")] = None,
    alias: Annotated[str | None, typer.Option(help="Registry alias to load (default: champion).")] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Add an explanation column (JSON): each feature's SHAP "
                                                           "contribution to the predicted class's probability, "
                                                           "largest first, with the base value (empty when "
                                                           "unscorable).")] = False,
) -> None:
    """Score feature rows with models:/music-emotion@champion; rows it cannot judge say why (unscorable)."""
    from mer.pipeline import NoChampion, score_csv

    try:
        scoring = settings.scoring_settings(settings.load_params(), alias)
        scoring = replace(scoring, decision=scoring.decision.replace(accept_threshold=threshold))
        out = score_csv(input_csv, scoring, explain=explain)
    except (InputError, NoChampion, settings.SettingsError) as exc:
        fail(str(exc))
    if explain:
        import json

        out["explanation"] = [json.dumps(e) if e else "" for e in out["explanation"]]
    write_frame_csv(out, output)
    counts = out["decision"].value_counts()
    console.print(f"{len(out)} rows scored with {out['model_name'].iloc[0] if len(out) else scoring.model.name} "
                  f"version {out['model_version'].iloc[0] if len(out) else '-'}: {counts.get('accept', 0)} accepted, "
                  f"{counts.get('review', 0)} to review, {counts.get('unscorable', 0)} unscorable (see reason). "
                  f"Wrote {output}")


def ensure_champion(params: dict) -> str:
    """The champion's version, training one first when there is none (:func:`mer.pipeline.ensure_champion`)."""
    from mer.pipeline import NoChampion
    from mer.pipeline import ensure_champion as ensure

    try:
        return ensure(params, say=console.print, train=lambda p: _train(p, None))
    except NoChampion as exc:
        fail(str(exc))


@app.command()
def run(
    serve: Annotated[bool, typer.Option(help="Serve the API when done (--no-serve: stop after the example).")] = True,
    host: Annotated[str, typer.Option(help="Interface for the API.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the API.")] = 8000,
) -> None:
    """The main job: if no champion is registered, clean, train and register one; predict the example; serve.

    Everything comes from params.yaml; MLflow tracks to ./mlflow.db unless MLFLOW_TRACKING_URI says otherwise.
    """
    from mer.pipeline import NoChampion
    from mer.pipeline import run as run_job

    try:
        run_job(settings.load_params(), say=console.print, train=lambda p: _train(p, None))
    except (NoChampion, InputError, settings.SettingsError) as exc:
        fail(str(exc))
    if serve:
        from mer.cli.serve import serve as serve_api

        serve_api(host=host, port=port)
