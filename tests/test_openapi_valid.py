"""The merged OpenAPI document the running platform serves is valid OpenAPI 3.1.

Code generators and Swagger UI refuse or misread an invalid document, so every error is a bug at
its source (a response without a description, a header without a schema), not something to
paper over in the merge.
"""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import OpenAPIV31SpecValidator

from tests.park import Park


def served_document(park: Park) -> dict[str, Any]:
    response = park.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json
    return document


def test_the_merged_document_validates_as_openapi_3_1(park: Park) -> None:
    document = served_document(park)
    assert document["openapi"].startswith("3.1")
    errors = [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message[:120]}"
        for error in OpenAPIV31SpecValidator(document).iter_errors()
    ]
    assert not errors, "\n".join(errors)


def test_every_service_with_operations_is_in_the_merged_document(park: Park) -> None:
    # A validating document that silently lost a service would still pass the test above.
    paths = served_document(park)["paths"]
    for prefix in ("/api/v1/auth/token", "/api/v1/booking/reservations"):
        assert prefix in paths
    for service in ("booking", "consulting", "finance", "notify"):
        assert f"/api/v1/{service}/health" in paths, service
        assert f"/api/v1/{service}/directory/organisations" in paths or any(
            p.startswith(f"/api/v1/{service}/directory") for p in paths
        ), service


def test_every_response_has_a_description_and_every_header_a_schema(park: Park) -> None:
    # The two rules the validator enforced on us; stated directly so a failure names the operation.
    missing: list[str] = []
    for path, item in served_document(park)["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, answer in operation["responses"].items():
                if "$ref" in answer:
                    continue
                if "description" not in answer:
                    missing.append(f"{method.upper()} {path} {status}: no description")
                for name, header in answer.get("headers", {}).items():
                    if "$ref" not in header and "schema" not in header and "content" not in header:
                        missing.append(f"{method.upper()} {path} {status} {name}: no schema")
    assert not missing, "\n".join(missing)


def test_every_operation_has_a_unique_operation_id(park: Park) -> None:
    # Code generators name a client's methods after operationId; without one they derive names
    # from paths, which change when a path does.
    seen: dict[str, str] = {}
    missing: list[str] = []
    for path, item in served_document(park)["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            where = f"{method.upper()} {path}"
            operation_id = operation.get("operationId")
            if not operation_id:
                missing.append(where)
                continue
            assert operation_id not in seen, f"{where} repeats {seen.get(operation_id)}'s id {operation_id}"
            assert operation_id.isidentifier(), operation_id
            seen[operation_id] = where
    assert not missing, f"operations without an operationId: {missing}"


def test_every_operation_documents_the_problems_it_may_answer(park: Park) -> None:
    """A client generated from the document knows the refusals: 401 and 403 on everything that
    needs a token, 404 where the path names something, 409 on changes, 412 and 428 where If-Match
    is taken; every error response, and the default, is application/problem+json."""
    document = served_document(park)
    responses = document["components"]["responses"]
    for name in ("UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "DEFAULT_ERROR"):
        assert list(responses[name]["content"]) == ["application/problem+json"], name
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            expected = set()
            if operation.get("security") != []:
                expected |= {"401", "403"}
            if "{" in path:
                expected.add("404")
            if method in ("post", "put", "patch", "delete"):
                expected.add("409")
            if any(p.get("name") == "If-Match" for p in operation.get("parameters", [])):
                expected |= {"412", "428"}
            lacking = expected - set(operation["responses"])
            if lacking:
                missing.append(f"{method.upper()} {path}: {sorted(lacking)}")
    assert not missing, "\n".join(missing)
    accept = document["paths"]["/api/v1/consulting/cases/{case_id}/accept"]["post"]["responses"]
    assert accept["412"] == {"$ref": "#/components/responses/PRECONDITION_FAILED"}
    assert "401" not in document["paths"]["/api/v1/booking/health"]["get"]["responses"]  # public
