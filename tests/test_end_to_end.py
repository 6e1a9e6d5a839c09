"""The CLI end to end in a throw-away project: run (train → register → predict), champion reuse, a failing gate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from support import LENIENT_GATES
from typer.testing import CliRunner

from mer.cli import app
from mer.schema import FEATURE_NAMES
from mer.scoring import SCORED_COLUMNS

runner = CliRunner()


def _set_gates(project: Path, gates: dict, **model: object) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["gates"] = gates
    params["model"] |= model
    (project / "params.yaml").write_text(yaml.safe_dump(params))


@pytest.mark.slow
def test_run_registers_champion_predicts_and_gates_hold_the_alias(project: Path) -> None:
    _set_gates(project, LENIENT_GATES)
    first = runner.invoke(app, ["run", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "no champion" in first.output and "as champion" in first.output
    preds = pd.read_csv(project / "reports" / "example_predictions.csv")
    assert len(preds) == 25 and list(preds.columns) == ["line", *SCORED_COLUMNS]
    scored = preds.filter(like="p_").notna().all(axis=1)
    np.testing.assert_allclose(preds[scored].filter(like="p_").sum(axis=1), 1.0, atol=1e-9)
    assert set(preds["decision"]) <= {"accept", "review", "unscorable"} and preds["reason"].notna().all()
    assert set(preds["model_version"]) == {1} and set(preds["model_alias"]) == {"champion"}
    metrics = json.loads((project / "reports" / "metrics.json").read_text())
    assert metrics["cv"]["protocol"]["folds"] == 3 and metrics["rows"]["used"] == 388
    for png in ("confusion_matrix.png", "reliability.png", "class_f1.png"):
        assert (project / "reports" / png).stat().st_size > 1000

    # the registered champion, loaded by alias, reproduces the saved model's probabilities
    from mer.model.registry import champion_version, load_champion
    from mer.model.training import load_training_table

    assert champion_version("music-emotion") == "1"
    X = load_training_table(project / "data" / "interim" / "uci_clean.csv").X.head(20)
    import mlflow.sklearn

    saved = mlflow.sklearn.load_model(str(project / "artifacts" / "model"))
    np.testing.assert_allclose(load_champion().predict_proba(X), saved.predict_proba(X))

    # a second run finds the champion and does not retrain
    again = runner.invoke(app, ["run", "--no-serve"])
    assert again.exit_code == 0 and "champion: music-emotion version 1" in again.output

    # impossible gates: the new version becomes candidate, the champion stays, the command says why
    _set_gates(project, LENIENT_GATES | {"min_macro_f1": 0.99})
    trained = runner.invoke(app, ["train"])
    assert trained.exit_code == 0, trained.output
    reg = runner.invoke(app, ["register"])
    assert reg.exit_code == 0 and "as candidate" in reg.output
    assert "gate failed: cv_macro_f1" in reg.output and "short by" in reg.output
    assert champion_version("music-emotion") == "1"


def test_predict_without_a_model_says_what_to_do(project: Path) -> None:
    out = runner.invoke(app, ["predict", "data/examples/example_features.csv", "-o", "p.csv"])
    assert out.exit_code == 1 and "mer run" in out.output


def test_predict_rejects_a_table_without_features(project: Path) -> None:
    (project / "bad.csv").write_text("name,size\na,1\n")
    out = runner.invoke(app, ["predict", "bad.csv", "-o", "p.csv"])
    assert out.exit_code == 1 and "feature columns recognised" in out.output
    assert not (project / "p.csv").exists()


def test_every_command_has_help() -> None:
    for cmd in ("clean", "eda", "train", "register", "predict", "run"):
        res = runner.invoke(app, [cmd, "--help"])
        assert res.exit_code == 0 and "Usage" in res.output, cmd
    assert len(FEATURE_NAMES) == 50
