"""Training says how far it is (fits done, elapsed, time left); reporting folds as they finish changes no figure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import StratifiedGroupKFold
from support import small_params, uci_rows

from mer.model.estimators import build_estimator
from mer.model.evaluation import CVResult, repeated_grouped_cv, score


def _reference_cv(estimator, X, y, groups, n_splits, n_repeats, seed) -> CVResult:
    """The CV as it was before progress reporting: every fold fitted in order, one after the other."""
    folds, reps, oof = [], [], None
    classes = None
    for r in range(n_repeats):
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed + r)
        for tr, te in splitter.split(np.zeros(len(y)), y, groups):
            model = clone(estimator).fit(X.iloc[tr], y[tr])
            proba, classes = model.predict_proba(X.iloc[te]), model.classes_
            if oof is None:
                oof = np.full((n_repeats, len(y), len(classes)), np.nan)
            oof[r, te] = proba
            folds.append(score(y[te], classes[proba.argmax(axis=1)]))
            reps.append(r)
    return CVResult(folds, reps, oof, np.asarray(classes), y, n_splits, n_repeats)


def test_folds_reported_as_they_finish_give_the_same_figures() -> None:
    X, y = uci_rows()
    groups = np.arange(len(y))
    estimator = build_estimator(small_params("lda")["model"], seed=0)  # the real pipeline: search + calibration
    calls = []
    got = repeated_grouped_cv(estimator, X, y, groups, n_splits=3, n_repeats=2, seed=5, n_jobs=2,
                              progress=calls.append)
    want = _reference_cv(estimator, X, y, groups, 3, 2, 5)
    assert len(calls) == 6 and all(seconds > 0 for seconds in calls)  # each fold's own fit time
    np.testing.assert_array_equal(got.oof_proba, want.oof_proba)
    assert got.folds == want.folds and got.repeat_of_fold == want.repeat_of_fold
    assert got.summary() == want.summary()


def test_time_left_comes_from_fold_times_not_from_the_completion_rate(monkeypatch) -> None:
    from mer.model import training

    clock = {"t": 0.0}
    monkeypatch.setattr(training.time, "monotonic", lambda: clock["t"])
    seen = []
    steps = training._Clock(lambda *a: seen.append(a), n_folds=4, parallel=2, fold_rows=100,
                            final_rows=(110, 140))
    steps.now("cross-validation")
    clock["t"] = 10.0
    steps.fold(10.0)  # two folds run at once: the CV takes 4 x 10 / 2 = 20 s, then 1.1 + 1.4 folds of 10 s
    clock["t"] = 10.5
    steps.fold(10.5)
    clock["t"] = 21.0
    steps.fold(10.5)
    steps.fold(10.5)
    steps.now("hold-out model")
    clock["t"] = 30.0
    steps.done("final model")
    clock["t"] = 40.0
    steps.done("saving")
    assert [(d, t, what) for d, t, what, _ in seen] == [
        (0, 6, "cross-validation"), (1, 6, "cross-validation"), (2, 6, "cross-validation"),
        (3, 6, "cross-validation"), (4, 6, "cross-validation"), (4, 6, "hold-out model"), (5, 6, "final model"),
        (6, 6, "saving")]
    left = [s for *_, s in seen]
    # a rate estimate would say 50 s after the first fold (10 s per completion, 5 to go); the clock knows that the
    # other fold is nearly done: 20 - 10 s of CV left, then (1.1 + 1.4) x 10 s for the two last models
    assert left[:2] == [None, pytest.approx(35.0)]
    fold = (10 + 10.5 * 3) / 4
    assert left[3:] == pytest.approx([2.5 * 31 / 3, 2.5 * fold, 2.5 * fold, 1.4 * fold, 0.0])


_LINE = re.compile(r"^training: (?P<doing>[a-z -]+) (?P<done>\d+)/(?P<total>\d+) fits \((?P<pct>\d+) %\), "
                   r"(?:.+, )?elapsed [\dhms]+(?:, eta [\dhms]+)?$")  # 59s, 1m02s, 1h02m


def test_mer_train_writes_progress_lines_to_a_log(project: Path) -> None:
    from mer.pipeline import clean_all

    clean_all()
    log = project / "train.log"
    env = dict(os.environ) | {"MER_PROGRESS_SECONDS": "0"}
    with open(log, "w") as fh:  # stderr is a file, as under nohup, systemd or CI: no live bar, plain lines
        proc = subprocess.run([sys.executable, "-m", "mer", "train", "--candidate", "lda"], cwd=project, env=env,
                              stdout=subprocess.DEVNULL, stderr=fh, timeout=600)
    text = log.read_text()
    assert proc.returncode == 0, text
    lines = [m for m in map(_LINE.match, text.splitlines()) if m]
    steps = [(m["doing"], int(m["done"]), int(m["total"])) for m in lines]
    assert steps == [("cross-validation", 0, 5), ("cross-validation", 1, 5), ("cross-validation", 2, 5),
                     ("cross-validation", 3, 5), ("hold-out model", 3, 5), ("final model", 4, 5), ("saving", 5, 5)]
    assert lines[-1]["pct"] == "100"
    assert all("eta" in m.group(0) for m in lines[1:])
    assert "\x1b[" not in text  # no terminal control codes in a log
    assert pd.read_json(project / "reports" / "metrics.json", typ="series")["candidate"] == "lda"
