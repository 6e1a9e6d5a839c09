"""The single source of truth for the data's shape: feature names, units, ranges, classes, label synonyms.

Everything that needs to know what a row looks like imports from here. The 50 features are the columns of the UCI
*Turkish Music Emotion* file, in its order, as MIRtoolbox 1.7.1's ``mirexport`` names them. The plausible ranges are
the minimum and maximum seen in that file (400 rows); ``tests/test_schema.py`` re-derives them from the data.
"""

from __future__ import annotations

from dataclasses import dataclass

CLASSES: tuple[str, ...] = ("happy", "sad", "angry", "relax")
LABEL_COLUMN = "Class"


@dataclass(frozen=True)
class Feature:
    """One column of the feature table: its UCI name, unit, MIRtoolbox call and range seen in the UCI data."""

    name: str
    unit: str
    source: str
    low: float
    high: float


def _f(name: str, unit: str, source: str, low: float, high: float) -> Feature:
    return Feature(name, unit, source, low, high)


_MFCC_RANGES = [
    (0.323, 5.996), (-3.484, 1.937), (-0.87, 1.622), (-1.636, 1.126), (-0.494, 1.055), (-0.916, 0.799),
    (-0.936, 0.571), (-0.744, 0.728), (-0.621, 0.539), (-0.544, 0.51), (-0.487, 0.494), (-0.418, 0.355),
    (-0.62, 0.536),
]
PITCH_CLASSES: tuple[str, ...] = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

FEATURES: tuple[Feature, ...] = (
    _f("_RMSenergy_Mean", "amplitude (full scale 1)", "mirrms", 0.01, 0.431),
    _f("_Lowenergy_Mean", "ratio", "mirlowenergy", 0.302, 0.703),
    _f("_Fluctuation_Mean", "dB/s (arbitrary)", "mirfluctuation", 3.58, 23.475),
    _f("_Tempo_Mean", "BPM", "mirtempo", 48.284, 195.026),
    *(
        _f(f"_MFCC_Mean_{k}", "log10 magnitude", "mirmfcc", lo, hi)
        for k, (lo, hi) in enumerate(_MFCC_RANGES, start=1)
    ),
    _f("_Roughness_Mean", "magnitude^2 (Sethares)", "mirroughness", 0.941, 3899.847),
    _f("_Roughness_Slope", "normalised slope", "mirroughness", -0.525, 0.584),
    _f("_Zero-crossingrate_Mean", "crossings/s", "mirzerocross", 149.49, 3147.907),
    _f("_AttackTime_Mean", "s", "mirattacktime", 0.01, 0.165),
    _f("_AttackTime_Slope", "normalised slope", "mirattacktime", -0.465, 0.599),
    _f("_Rolloff_Mean", "Hz", "mirrolloff", 887.151, 11508.298),
    _f("_Eventdensity_Mean", "events/s", "mireventdensity", 0.234, 7.952),
    _f("_Pulseclarity_Mean", "0-1", "mirpulseclarity", 0.011, 0.856),
    _f("_Brightness_Mean", "ratio", "mirbrightness", 0.053, 0.737),
    _f("_Spectralcentroid_Mean", "Hz", "mircentroid", 606.524, 5326.379),
    _f("_Spectralspread_Mean", "Hz", "mirspread", 814.817, 4721.479),
    _f("_Spectralskewness_Mean", "-", "mirskewness", 0.39, 7.855),
    _f("_Spectralkurtosis_Mean", "- (not excess)", "mirkurtosis", 1.93, 121.996),
    _f("_Spectralflatness_Mean", "ratio", "mirflatness", 0.006, 0.209),
    _f("_EntropyofSpectrum_Mean", "0-1", "mirentropy", 0.74, 0.942),
    *(_f(f"_Chromagram_Mean_{k}", f"0-1 ({pc})", "mirchromagram", 0.0, 1.0) for k, pc in enumerate(PITCH_CLASSES, 1)),
    _f("_HarmonicChangeDetectionFunction_Mean", "distance", "mirhcdf", 0.112, 0.488),
    _f("_HarmonicChangeDetectionFunction_Std", "distance", "mirhcdf", 0.06, 0.34),
    _f("_HarmonicChangeDetectionFunction_Slope", "normalised slope", "mirhcdf", -0.285, 0.442),
    _f("_HarmonicChangeDetectionFunction_PeriodFreq", "Hz", "mirhcdf", 0.187, 4.486),
    _f("_HarmonicChangeDetectionFunction_PeriodAmp", "autocorrelation", "mirhcdf", 0.53, 0.908),
    _f("_HarmonicChangeDetectionFunction_PeriodEntropy", "0-1", "mirhcdf", 0.939, 0.977),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURE_RANGES: dict[str, tuple[float, float]] = {f.name: (f.low, f.high) for f in FEATURES}
assert len(FEATURE_NAMES) == 50 and len(set(FEATURE_NAMES)) == 50

# What each feature measures, in plain words, for reasons a listener can read ("spectral flatness far above any
# training clip"); the MIRtoolbox column name stays the key.
_PLAIN: dict[str, str] = {
    "_RMSenergy_Mean": "loudness (RMS energy)",
    "_Lowenergy_Mean": "share of quiet frames",
    "_Fluctuation_Mean": "rhythmic fluctuation",
    "_Tempo_Mean": "tempo",
    **{f"_MFCC_Mean_{k}": f"timbre coefficient {k} (MFCC)" for k in range(1, 14)},
    "_Roughness_Mean": "roughness (sensory dissonance)",
    "_Roughness_Slope": "trend of roughness",
    "_Zero-crossingrate_Mean": "zero-crossing rate (noisiness)",
    "_AttackTime_Mean": "note attack time",
    "_AttackTime_Slope": "trend of note attack time",
    "_Rolloff_Mean": "spectral rolloff (where 85 % of the energy lies below)",
    "_Eventdensity_Mean": "note onsets per second",
    "_Pulseclarity_Mean": "beat clarity",
    "_Brightness_Mean": "brightness (share of energy above 1.5 kHz)",
    "_Spectralcentroid_Mean": "spectral centroid (centre of the spectrum)",
    "_Spectralspread_Mean": "spectral spread",
    "_Spectralskewness_Mean": "spectral skewness",
    "_Spectralkurtosis_Mean": "spectral peakiness (kurtosis)",
    "_Spectralflatness_Mean": "spectral flatness",
    "_EntropyofSpectrum_Mean": "spectral entropy",
    **{f"_Chromagram_Mean_{k}": f"strength of pitch class {pc}" for k, pc in enumerate(PITCH_CLASSES, 1)},
    "_HarmonicChangeDetectionFunction_Mean": "harmonic change",
    "_HarmonicChangeDetectionFunction_Std": "variation of harmonic change",
    "_HarmonicChangeDetectionFunction_Slope": "trend of harmonic change",
    "_HarmonicChangeDetectionFunction_PeriodFreq": "rate of harmonic change",
    "_HarmonicChangeDetectionFunction_PeriodAmp": "regularity of harmonic change",
    "_HarmonicChangeDetectionFunction_PeriodEntropy": "irregularity of harmonic change",
}
assert set(_PLAIN) == set(FEATURE_NAMES)
PLAIN_NAMES: dict[str, str] = {n: _PLAIN[n] for n in FEATURE_NAMES}


def plain_name(feature: str) -> str:
    """The feature in plain words (``_Spectralflatness_Mean`` → ``spectral flatness``); unknown names unchanged."""
    return PLAIN_NAMES.get(feature, feature)
# Every spelling a user's export may use for a class, after lower-casing and stripping. Unknown labels are reported,
# never guessed: a label not in this table makes its row unusable.
LABEL_SYNONYMS: dict[str, str] = {
    "happy": "happy", "feliz": "happy", "joy": "happy", "happiness": "happy",
    "sad": "sad", "triste": "sad", "sadness": "sad",
    "angry": "angry", "enojado": "angry", "anger": "angry", "enfadado": "angry",
    "relax": "relax", "relaxed": "relax", "calm": "relax", "relajado": "relax", "relaxing": "relax",
}
assert set(LABEL_SYNONYMS.values()) == set(CLASSES)


def normalise_label(raw: object) -> str | None:
    """Map a raw label to one of CLASSES, or None when it is blank or unknown."""
    if raw is None:
        return None
    key = " ".join(str(raw).strip().lower().split())
    return LABEL_SYNONYMS.get(key)
