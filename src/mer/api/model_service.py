"""The model the API serves: ``models:/<name>@<alias>``, compiled, verified, and swapped when the alias moves.

Requests never wait for the registry: a background task asks :class:`~mer.model.registry.ChampionHandle` every
``check_every_s`` seconds (in a thread, MLflow calls block) and, when the alias points at a new version, loads it,
compiles it (:mod:`mer.model.fast_predict`), checks the compiled path against ``predict_proba`` on probe rows, and only
then swaps the :class:`ServedModel` in one assignment. A compiled path that does not match is not used: the model's
own ``predict_proba`` serves instead, slower but the same model.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mer.schema import FEATURE_NAMES
from mer.settings import CHAMPION_ALIAS

log = logging.getLogger("mer.api")


@dataclass(frozen=True)
class ServedModel:
    """One loaded version: ``predict_proba`` takes rows of the 50 features in schema order (a float array)."""

    name: str
    alias: str
    version: str
    model: object  # the fitted estimator, as registered
    predictor: object  # FastModel, or the estimator itself when compilation was refused
    compiled: bool

    @property
    def classes(self) -> list[str]:
        return list(self.model.classes_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if self.compiled:
            return self.predictor.predict_proba(X)
        return self.model.predict_proba(pd.DataFrame(X, columns=list(FEATURE_NAMES)))

    @property
    def info(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "alias": self.alias}


def prepare(name: str, alias: str, version: str, model, compile_model: bool = True) -> ServedModel:
    """Wrap a loaded model for serving, with its compiled path when that reproduces ``predict_proba``."""
    if compile_model:
        from mer.model.fast_predict import probe_rows, verified

        try:
            fast = verified(model, probe_rows())
            return ServedModel(name, alias, version, model, fast, compiled=True)
        except Exception as exc:  # noqa: BLE001 — any failure to compile means: serve the original
            log.warning("model %s version %s served without the compiled path: %s", name, version, exc)
    return ServedModel(name, alias, version, model, model, compiled=False)


class ModelService:
    """Holds the currently served model and follows the registry alias."""

    def __init__(self, name: str, alias: str = CHAMPION_ALIAS, check_every_s: float = 10.0,
                 compile_model: bool = True):
        from mer.model.registry import ChampionHandle

        self.name, self.alias = name, alias
        self.check_every_s = check_every_s
        self.compile_model = compile_model
        self._handle = ChampionHandle(name, alias, check_every_s=0.0)  # the interval is ours, below
        self.current: ServedModel | None = None
        self.last_error: str | None = None
        self.on_change: list = []  # callbacks(ServedModel), e.g. the metrics' model-version label

    def refresh(self) -> ServedModel | None:
        """Ask the registry once (blocking); load, compile and swap in a new version if the alias moved."""
        try:
            model, version = self._handle.get()
        except Exception as exc:  # noqa: BLE001 — the registry may be unreachable for a while; keep serving
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("registry check failed: %s", self.last_error)
            return self.current
        if model is None:
            self.last_error = f"no version of {self.name} carries the alias {self.alias!r}"
            return self.current
        self.last_error = None
        if self.current is None or self.current.version != version:
            served = prepare(self.name, self.alias, version, model, self.compile_model)
            self.current = served
            log.info("serving %s version %s (compiled: %s)", self.name, version, served.compiled)
            for callback in self.on_change:
                callback(served)
        return self.current

    async def follow(self) -> None:
        """Refresh now and then every ``check_every_s`` seconds, off the event loop, until cancelled."""
        while True:
            await asyncio.to_thread(self.refresh)
            await asyncio.sleep(self.check_every_s if self.current is not None else min(self.check_every_s, 1.0))
