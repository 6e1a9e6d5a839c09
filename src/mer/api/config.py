"""What one API process is configured with: limits, the model to serve, the catalog, the key for writes.

Built once by ``mer serve`` (or a test) and handed to :func:`mer.api.app.create_app`; nothing reads the environment
after that, so a test can run several differently configured apps side by side.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from mer import settings

MAX_ROWS_PER_REQUEST = 1000


def _decision() -> settings.DecisionSettings:
    return settings.scoring_settings().decision  # params.yaml, or the documented defaults without one


@dataclass(frozen=True)
class ServeConfig:
    """Every knob of the API. ``api_key=None`` leaves the write endpoints open (a local, single-user setup)."""

    database_url: str = field(default_factory=settings.database_url)
    api_key: str | None = field(default_factory=lambda: os.environ.get("MER_API_KEY") or None)
    model_name: str = field(default_factory=settings.model_name)
    alias: str = settings.CHAMPION_ALIAS
    # the decision rule (threshold, aggregation, OOD margin, track rule), resolved once from params.yaml
    decision: settings.DecisionSettings = field(default_factory=_decision)
    # how often the registry is asked whether the alias moved (a moved alias is served without a restart)
    check_every_s: float = 10.0
    # micro-batching of /v1/predict: gather concurrent requests for at most this long, up to this many rows
    batch_wait_ms: float = 0.0
    max_batch_rows: int = 256
    # uploads
    max_upload_bytes: int = 50 * 1024 * 1024
    max_duration_s: float = 15 * 60.0
    # a compiled model is served only when it matches predict_proba this closely on probe rows
    compile_model: bool = True
    # the front door (mer.api.guard), checked from the headers before any body is read
    predict_requires_key: bool = True  # POST /v1/predict needs X-API-Key too when a key is configured
    max_body_bytes: int = 8 * 1024 * 1024  # JSON bodies (1,000 rows of the 50 features take about 2 MB)
    request_timeout_s: float | None = 120.0  # None: no limit
    # browser origins allowed to call the API (CORS); empty: no CORS headers. MER_CORS_ORIGINS="https://a,https://b"
    cors_origins: tuple[str, ...] = field(default_factory=lambda: cors_origins_from_env())
    docs: bool = True  # /docs and /redoc, served from assets in the package (no CDN)


def cors_origins_from_env() -> tuple[str, ...]:
    return tuple(o.strip() for o in os.environ.get("MER_CORS_ORIGINS", "").split(",") if o.strip())
