"""Property-based: requests generated from the OpenAPI schema never get a 5xx (run in-process over ASGI).

Each operation's Hypothesis strategy is run directly (``as_strategy``): schemathesis's pytest integration
(``from_fixture``) cannot be used with this pytest version, and the app needs the package's trained model.
"""

from __future__ import annotations

import schemathesis
from api_support import make_config
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from mer.api import create_app
from mer.api.model_service import ModelService


def test_no_operation_answers_generated_requests_with_a_server_error(trained_project) -> None:
    service = ModelService("music-emotion", check_every_s=3600.0)
    assert service.refresh() is not None  # loaded before the first request: readiness is not what is tested
    app = create_app(make_config(trained_project, "catalog-schemathesis.db", api_key=None), service=service)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # every operation the app documents (routes are added by several features: count them, do not hard-code)
    documented = sum(len(methods) for methods in app.openapi()["paths"].values())
    assert len(operations) == documented >= 11

    failures = {}
    for operation in operations:

        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        try:
            check()
        except Exception as exc:  # noqa: BLE001 — collect every operation's failure, then report them all
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
