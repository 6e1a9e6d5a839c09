"""Bar 5 of the extractor, as far as the extractor decides it: a model that leaves out the columns we do not
reproduce (``mer.schema.UNREPRODUCED_FEATURES``) decides the same on our features as on MIRtoolbox's on ≥ 97 % of the
real clips. So any of the other 47 columns drifting far enough to change a decision fails here.

The model has the champion's structure and ``params.yaml``'s model settings with that exclusion, and smaller forests
so it fits in seconds. The registered champion's own figure (it reads all 50 columns unless ``exclude_features`` is
set) is printed by ``python bench/fidelity.py``; ``python bench/parity_features.py`` measures both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from oracle_support import REAL_FILES, oracle_audio, oracle_table
from support import small_champion, uci_rows

from mer.decision import decide
from mer.features.extract import extract_clip
from mer.schema import FEATURE_NAMES, UNREPRODUCED_FEATURES

MUSIC = [f for f in REAL_FILES if f != "wesnoth_silence.flac"]  # 4-LSB dither, not music


@pytest.fixture(scope="module")
def model():
    return small_champion(UNREPRODUCED_FEATURES).fit(*uci_rows())


def test_decisions_on_our_features_equal_those_on_mirtoolbox_features(model) -> None:
    ours = pd.DataFrame([extract_clip(*oracle_audio(name)) for name in MUSIC], index=MUSIC)[list(FEATURE_NAMES)]
    theirs = oracle_table().loc[MUSIC, list(FEATURE_NAMES)]
    a, b = decide(model.predict_proba(ours), model.classes_), decide(model.predict_proba(theirs), model.classes_)
    same = (a["label"].to_numpy() == b["label"].to_numpy()) & (a["decision"].to_numpy() == b["decision"].to_numpy())
    assert len(MUSIC) == 25
    assert same.mean() >= 0.97, f"decisions agree on {same.mean():.0%}; differ on {np.array(MUSIC)[~same].tolist()}"
