"""The REST API: FastAPI app factory, routers per resource, pydantic contract, micro-batched model, metrics."""

from mer.api.app import create_app
from mer.api.config import ServeConfig

__all__ = ["ServeConfig", "create_app"]
