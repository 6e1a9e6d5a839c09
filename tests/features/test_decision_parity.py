"""Decisions agree: a model with the champion's own structure (``tests/support.py`` ``small_champion()``, trained
on all 50 columns) decides — label and accept/review — the same on our features as on MIRtoolbox's, on every
real-music reference clip. Any column drifting far enough to change a decision fails here.

The registered champion's own figure is printed by ``python bench/fidelity.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from oracle_support import REAL_FILES, oracle_audio, oracle_table
from support import small_champion, uci_rows

from mer.decision import decide
from mer.features.extract import extract_clip
from mer.schema import FEATURE_NAMES

THRESHOLD = 0.75  # params.yaml decision.accept_threshold


@pytest.fixture(scope="module")
def model():
    return small_champion().fit(*uci_rows())


def test_decisions_on_our_features_equal_those_on_mirtoolbox_features(model) -> None:
    ours = pd.DataFrame([extract_clip(*oracle_audio(name)) for name in REAL_FILES], index=REAL_FILES)
    theirs = oracle_table().loc[REAL_FILES, list(FEATURE_NAMES)]
    a = decide(model.predict_proba(ours[list(FEATURE_NAMES)]), model.classes_, threshold=THRESHOLD)
    b = decide(model.predict_proba(theirs), model.classes_, threshold=THRESHOLD)
    same = (a["label"].to_numpy() == b["label"].to_numpy()) & (a["decision"].to_numpy() == b["decision"].to_numpy())
    assert len(REAL_FILES) == 26
    assert same.all(), f"decisions differ on {np.array(REAL_FILES)[~same].tolist()}"
