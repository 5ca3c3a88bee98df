"""Whatever a client sends to any documented booking operation: never a server error, and
every error is problem+json (schemathesis, from booking's own OpenAPI document)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.booking.factories import SpaceFactory


@pytest.mark.duration(seconds=50)
def test_no_input_makes_a_server_error(api, db):
    SpaceFactory(id="6f1d5f0e-1111-4111-8111-111111111111")
    schema = schemathesis.openapi.from_wsgi("/api/v1/booking/openapi.json", api.client.application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 25
    failures: list[str] = []
    for user in ("admin", "alice"):
        headers = api.headers(user)
        for operation in operations:

            @given(case=operation.as_strategy(), _=st.just(operation.label))
            @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def probe(case: schemathesis.Case, _: str) -> None:
                response = case.call(headers=headers)
                label = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
                if response.status_code >= 500:
                    failures.append(label)
                headers_seen = {name.lower(): value for name, value in dict(response.headers).items()}
                content_type = headers_seen.get("content-type") or ""
                if isinstance(content_type, list):
                    content_type = content_type[0]
                if 400 <= response.status_code < 500 and not content_type.startswith("application/problem+json"):
                    failures.append("not problem+json: " + label)

            probe()
    assert failures == []
