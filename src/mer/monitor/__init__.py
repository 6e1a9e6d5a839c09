"""Monitoring: is the model still fit for the music it sees?

``drift`` — pure figures on DataFrames (PSI and corrected KS per feature, class mix, verdict shares, confidence,
feedback accuracy / macro-F1 / accepted precision / ECE with intervals, alerts); ``catalog`` — loading the reference
(the served model's cleaned training rows) and the catalog's windows and feedback of a period; ``html`` — the
self-contained report. Thresholds: ``params.yaml: monitor`` (:class:`mer.settings.MonitorSettings`).
"""

from mer.monitor.drift import feature_drift, feedback_quality, monitor_report, psi

__all__ = ["feature_drift", "feedback_quality", "monitor_report", "psi"]
