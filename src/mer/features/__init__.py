"""Audio → the 50 MIRtoolbox 1.7.1 features (see ``shared/mirtoolbox-features.md`` for the specification)."""
