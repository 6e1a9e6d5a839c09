"""``GET /v1/model``: the served version's model card — markdown and structured figures, from the registry."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from mer.api.deps import ModelDep
from mer.api.schemas import Problem

router = APIRouter(prefix="/v1", tags=["model"])


class Figure(BaseModel):
    mean: float
    ci95: list[float] | None = Field(None, description="95 % interval over the CV folds")


class GateResult(BaseModel):
    name: str
    value: float
    low: float
    high: float | None = Field(None, description="null: no upper bound")
    passed: bool


class ModelMetrics(BaseModel):
    cv: dict[str, Figure] = Field(description="CV means with 95 % intervals: macro_f1, accuracy, weighted_f1, "
                                              "class_f1_gap, ece")
    cv_f1_per_class: dict[str, Figure]
    holdout: dict[str, float] = Field(description="figures on the untouched hold-out rows")


class ModelCardOut(BaseModel):
    name: str
    version: str
    alias: str
    compiled: bool = Field(description="served by the verified compiled prediction path")
    run_id: str | None = None
    card: str = Field(description="the model card as markdown (the MLflow model-version description)")
    metrics: ModelMetrics
    gates: list[GateResult]
    gates_passed: bool
    data: dict[str, Any]
    intended_use: list[str]
    not_for: list[str]
    limits: list[str]
    outside_evidence: list[dict[str, str]] = Field(
        description="figures measured on real music outside the training data, each with the command")


def _load(name: str, version: str, alias: str) -> dict[str, Any]:
    from mlflow import MlflowClient

    from mer.model.card import card_from_registry
    from mer.model.registry import _mlflow

    _mlflow()
    client = MlflowClient()
    card = card_from_registry(client, name, version, alias)
    f = card.fields
    return {"name": name, "version": version, "alias": alias, "run_id": client.get_model_version(name, version).run_id,
            "card": card.markdown, "metrics": f["metrics"], "gates": f["gates"], "gates_passed": f["gates_passed"],
            "data": f["data"], "intended_use": f["intended_use"], "not_for": f["not_for"], "limits": f["limits"],
            "outside_evidence": f["outside_evidence"]}


@router.get("/model", response_model=ModelCardOut, summary="The served model's card: data, use, limits, figures, gates",
            responses={502: {"model": Problem, "description": "the model registry could not be read"},
                       503: {"model": Problem, "description": "no model loaded yet"}})
async def model_card(request: Request, served: ModelDep) -> dict[str, Any]:
    """The card of the version being served (read from the MLflow registry once per version)."""
    cache: dict[tuple[str, str], dict[str, Any]] = request.app.state.model_cards
    key = (served.name, served.version)
    if key not in cache:
        try:
            cache[key] = await asyncio.to_thread(_load, served.name, served.version, served.alias)
        except Exception as exc:  # noqa: BLE001 — the registry is another service: say so, keep serving
            raise HTTPException(status.HTTP_502_BAD_GATEWAY,
                                f"the model registry could not be read: {type(exc).__name__}") from exc
    return cache[key] | {"alias": served.alias, "compiled": served.compiled}
