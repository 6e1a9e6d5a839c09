"""The model card: built from a run's own figures, written to MLflow at registration, read back from the registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import LENIENT_GATES, ROOT, make_project, point_mer_at, small_params

from mer.model.card import MAX_DESCRIPTION_CHARS, model_card


def test_card_of_the_committed_metrics_states_data_limits_figures_and_gates() -> None:
    metrics = json.loads((ROOT / "reports" / "metrics.json").read_text())
    card = model_card(metrics, {"decision": {"accept_threshold": 0.75}}, "music-emotion", "7", "champion")
    text = card.markdown
    assert len(text) <= MAX_DESCRIPTION_CHARS
    assert "UCI Turkish Music Emotion" in text and "CC BY 4.0" in text and "400 clips" in text
    assert "Western pop, orchestral and electronic music were not in the training data" in text
    assert "python bench/fidelity.py" in text  # outside evidence cites its command
    cv = metrics["cv"]
    lo, hi = cv["macro_f1"]["ci95"]
    assert f"| macro-F1 | {cv['macro_f1']['mean']:.3f} [{lo:.3f}, {hi:.3f}] |" in text
    for c in ("happy", "sad", "angry", "relax"):
        assert f"| F1 {c} | {cv[f'f1_{c}']['mean']:.3f} [" in text
    for gate in metrics["gates"]:
        assert f"| {gate['name']} | {gate['value']:.3f} |" in text
    assert "## Gates (all passed)" in text
    assert card.fields["gates_passed"] is True
    assert card.fields["metrics"]["cv_f1_per_class"]["sad"]["mean"] == pytest.approx(cv["f1_sad"]["mean"])
    json.dumps(card.fields, allow_nan=False)  # the structured card is plain JSON (no inf bounds)


def test_a_failed_gate_is_named_and_the_card_says_not_a_champion() -> None:
    metrics = json.loads((ROOT / "reports" / "metrics.json").read_text())
    metrics["gates"][3] |= {"value": 0.60, "passed": False}
    metrics["gates_passed"] = False
    text = model_card(metrics, {}, "m", "1").markdown
    assert "NOT all passed" in text and f"| {metrics['gates'][3]['name']} | 0.600 | ≥ 0.650 | FAIL |" in text


def test_registration_writes_the_card_as_registered_model_and_version_description(tmp_path) -> None:
    params = small_params() | {"gates": LENIENT_GATES}
    root = make_project(tmp_path, params)
    with pytest.MonkeyPatch.context() as mp:
        point_mer_at(mp, root)
        from mlflow import MlflowClient

        from mer.model.card import card_from_registry
        from mer.model.registry import _mlflow
        from mer.pipeline import clean_all, register_stage, train_stage

        clean_all()
        train_stage(params)
        reg, metrics = register_stage(params)
        _mlflow()
        client = MlflowClient()
        version = client.get_model_version(reg.name, reg.version)
        registered = client.get_registered_model(reg.name)
        expected = model_card(metrics, params, reg.name, reg.version).markdown
        assert version.description == registered.description
        head, _, _ = expected.partition("Code: git commit")  # the commit line depends on the checkout
        assert version.description.startswith(head)
        assert f"# {reg.name} version {reg.version} — model card" in version.description
        assert f"{metrics['cv']['macro_f1']['mean']:.3f} [" in version.description
        back = card_from_registry(client, reg.name, reg.version, reg.alias)
        assert back.markdown == version.description
        assert back.fields["metrics"]["cv"]["macro_f1"]["mean"] == pytest.approx(metrics["cv"]["macro_f1"]["mean"])
        assert [g["name"] for g in back.fields["gates"]] == [g["name"] for g in metrics["gates"]]
        artifact = client.download_artifacts(reg.run_id, "model_card.md", str(tmp_path))
        assert Path(artifact).read_text(encoding="utf-8") == version.description

        # a version registered before cards existed (no description) gets its card from its run's metrics.json
        from mer.model.registry import describe_existing

        client.update_model_version(reg.name, reg.version, description="")
        client.update_registered_model(reg.name, description="")
        assert describe_existing(reg.name) == [reg.version]
        again = client.get_model_version(reg.name, reg.version).description
        assert again.startswith(f"# {reg.name} version {reg.version} — model card") and "| macro-F1 |" in again
        assert client.get_registered_model(reg.name).description == again
        assert describe_existing(reg.name) == []  # described versions are left alone
    from mer.catalog import dispose_engines

    dispose_engines()
