"""Schemathesis against the service's own OpenAPI schema: generated requests for every operation, each response
checked against what the schema promises (status codes, bodies, content types) and for server errors.

Driven through Hypothesis directly rather than `schemathesis.pytest.from_fixture`, which does not run under
pytest 9.2 (it reads a private attribute of pytest's test items that no longer exists).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from whyrec.service.app import Service, create_app

EXAMPLES = 20  # per operation


def test_every_operation_keeps_the_promises_of_its_schema(fake_service: Service) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(fake_service, rate_limit=0))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def conforms(case: Any) -> None:
            case.call_and_validate()

        conforms()
