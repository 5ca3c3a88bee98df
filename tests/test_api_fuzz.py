"""Property-based requests from the merged OpenAPI document (schemathesis): whatever a client
sends to any documented operation, no endpoint answers with a server error, and every error is
problem+json."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_platform import running_park

pytestmark = pytest.mark.slow


def content_type(response: schemathesis.Response) -> str:
    values = {name.lower(): value for name, value in response.headers.items()}.get("content-type", [""])
    return values[0] if isinstance(values, list) else str(values)


def test_no_input_makes_a_server_error(seeded_platform: Path, tmp_path: Path) -> None:
    for park in running_park(seeded_platform, tmp_path, PARKHUB_RATE_LIMIT="1000000/minute"):
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", park.platform.wsgi)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 20
        headers = {"Authorization": f"Bearer {park.token('admin')}"}
        failures: list[str] = []

        for operation in operations:

            @given(case=operation.as_strategy(), _=st.just(operation.label))
            @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def probe(case: schemathesis.Case, _: str) -> None:
                response = case.call(headers=headers)
                label = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}"
                if response.status_code >= 500:
                    failures.append(label)
                elif response.status_code >= 400 and not content_type(response).startswith("application/problem+json"):
                    failures.append("not problem+json: " + label)

            try:
                probe()
            except schemathesis.errors.UnsupportedSchema as exc:  # a schema we publish but cannot fuzz
                failures.append(f"unsupported schema in {operation.label}: {str(exc)[:300]}")
        assert failures == []
