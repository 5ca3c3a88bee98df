"""Schemathesis over the merged OpenAPI document of the running platform (issue 11).

The embedded platform runs over the whole demo (``demo_platform``: organisations, spaces,
reservations, cases, applications, offers…), so the ids schemathesis reads from one answer (a
list, a created resource) lead it into the next. Schemathesis 4's engine runs every phase over
every documented operation, each request signed by a demo user of a role drawn in turn per
operation (:data:`ROLES`): park admin, desk staff, two tenant admins of two organisations, a
tenant member, and the agents of a law firm and of a bank.

* **examples**: the examples the document gives (bodies, parameters);
* **coverage**: the boundary values and the negative cases of each parameter and body, and the
  methods a path does not document (``unsupported_method``: 405 with ``Allow``);
* **fuzzing**: :data:`EXAMPLES` generated cases per operation (``PARKHUB_FUZZ_EXAMPLES`` for a
  deeper local run), positive and negative;
* **stateful**: the document declares no OpenAPI ``links``; schemathesis infers the transitions
  from the schemas (a created resource's id into the operations whose path names it) and from the
  ``Location`` headers, and walks them. The test asserts that it found and ran them.

Checks: ``not_a_server_error``, ``status_code_conformance``, ``content_type_conformance``,
``response_schema_conformance``, ``response_headers_conformance``, ``unsupported_method``, and
ours: every 4xx answer is ``application/problem+json``. A failure is a defect of the platform or
of its document, fixed there; :data:`EXCLUDED` lists an operation's check left out, and why.

``test_an_undocumented_method_answers_405_with_allow`` sends, on every documented path, each
method the path does not document: 405, problem+json, and an ``Allow`` listing exactly the
documented methods (and ``HEAD``/``OPTIONS``, which Flask answers for every route).
``test_every_operation_documents_the_rate_limit_and_an_absent_database``: 429 and 503 (with
``Retry-After``) are documented everywhere, and a real 429 holds to the document. The last test
keeps the one 500 the fuzz found (a partial nested object in a space's PATCH).

Cost: about 11,000 requests at 5 examples (1.5 min of CPU for the file on the 2-CPU machine);
``PARKHUB_FUZZ_EXAMPLES=25`` sends about 15,000.
"""

from __future__ import annotations

import os
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from tests.park import Park, running_park

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("PARKHUB_FUZZ_EXAMPLES", "5"))
"""Generated cases per operation in the fuzzing phase (and per stateful scenario)."""

SEED = int(os.environ.get("PARKHUB_FUZZ_SEED", "11"))
"""Hypothesis's seed: the same cases on every run, unless a run asks for others."""

ROLES: dict[str, str] = {
    "park_admin": "admin",
    "desk_staff": "desk",
    "tenant_admin": "alice",
    "tenant_member": "bob",
    "tenant_admin of another organisation": "carol",
    "partner_agent of a law firm": "lawyer",
    "partner_agent of a bank": "bank",
}
"""Who signs the requests: a demo user (README.md) for each role, drawn in turn per operation."""

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "unsupported_method",
)

EXCLUDED: dict[tuple[str, str], str] = {}
"""(operation, check) left out of the run, with the reason. Empty: every check holds everywhere."""

PHASES = ("examples", "coverage", "fuzzing", "stateful")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "cache": {"enabled": False},  # nothing written into the working tree (.schemathesis/)
            "generation": {"max-examples": EXAMPLES, "database": "none"},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "phases": {name: {"enabled": True} for name in PHASES},
            "operations": [
                {"include-name": operation, "checks": {check: {"enabled": False}}} for operation, check in EXCLUDED
            ],
        }
    )


@dataclass
class Findings:
    """What a run saw: the failures (one sample per operation, check and kind), the requests
    per role and how many of them a role was let through (2xx), the scenarios per phase."""

    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    scenarios: Counter[str] = field(default_factory=Counter)
    operations: dict[str, set[str]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    granted: Counter[str] = field(default_factory=Counter)
    phases: dict[str, str] = field(default_factory=dict)

    def fail(self, key: tuple[str, str, str], sample: str) -> None:
        self.failures.setdefault(key, sample)

    def report(self) -> str:
        return "\n\n".join(f"{op} [{check}] {kind}\n{sample}" for (op, check, kind), sample in self.failures.items())


def _sample(interaction: Any, message: str = "") -> str:
    request = interaction.request
    response = interaction.response
    answer = "" if response is None else f" -> {response.status_code} {(response.content or b'')[:300]!r}"
    return f"{message[:600]}\n  {request.method} {request.uri}{answer}"


def _content_type(headers: dict[str, list[str]]) -> str:
    values = {name.lower(): value for name, value in headers.items()}.get("content-type", [""])
    return values[0] if values else ""


def _role_of(interaction: Any, roles_by_token: dict[str, str]) -> str:
    headers = {name.lower(): value for name, value in interaction.request.headers.items()}
    authorization = headers.get("authorization", [""])
    token = authorization[0].removeprefix("Bearer ") if authorization else ""
    return roles_by_token.get(token, "anonymous")


def _collect(event: Any, findings: Findings, roles_by_token: dict[str, str]) -> None:
    if isinstance(event, events.PhaseFinished):
        findings.phases[event.phase.name.value] = str(event.phase.skip_reason or event.status.value)
    elif isinstance(event, events.NonFatalError | events.FatalError):
        findings.errors.append(f"{getattr(event, 'label', '')}: {getattr(event, 'value', event)}"[:800])
    elif isinstance(event, events.ScenarioFinished):
        recorder = event.recorder
        findings.scenarios[event.phase.value] += 1
        findings.operations.setdefault(event.phase.value, set()).add(recorder.label)
        for case_id, interaction in recorder.interactions.items():
            role = _role_of(interaction, roles_by_token)
            findings.requests[role] += 1
            response = interaction.response
            if response is None:
                continue
            if 200 <= response.status_code < 300:
                findings.granted[role] += 1
            if 400 <= response.status_code < 500 and not _content_type(response.headers).startswith(
                "application/problem+json"
            ):
                operation = recorder.cases[case_id].value.operation.label
                findings.fail((operation, "problem_json", "a 4xx not problem+json"), _sample(interaction))
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.failure_info is None:
                    continue
                failure = check.failure_info.failure
                operation = recorder.cases[case_id].value.operation.label
                interaction = recorder.interactions.get(case_id)
                sample = failure.message if interaction is None else _sample(interaction, failure.message)
                findings.fail((operation, check.name, failure.title), sample)


def _fuzz(park: Park) -> tuple[Findings, list[str]]:
    tokens = {role: park.token(user) for role, user in ROLES.items()}
    roles_by_token = {token: role for role, token in tokens.items()}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", park.platform.wsgi, config=_config())
    turns: Counter[str] = Counter()
    order = list(tokens)

    class RoleInTurn:
        """Signs each case with the next role's token, in turn per operation, so that every
        operation is called by every role (and its cases are not all refused the same way)."""

        def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
            label = case.operation.label
            turns[label] += 1
            return tokens[order[turns[label] % len(order)]]

        def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    schema.auth.auth(refresh_interval=None)(RoleInTurn)
    operations = [result.ok().label for result in schema.get_all_operations()]
    findings = Findings()
    for event in from_schema(schema).execute():
        _collect(event, findings, roles_by_token)
    return findings, operations


@pytest.fixture
def demo_park(demo_platform: Path, tmp_path: Path) -> Iterator[Park]:
    yield from running_park(demo_platform, tmp_path, PARKHUB_RATE_LIMIT="1000000/minute")


@pytest.mark.duration(seconds=300)
def test_every_operation_holds_to_its_document_for_every_role(demo_park: Park) -> None:
    findings, operations = _fuzz(demo_park)
    print(  # the run's extent, for `pytest -s` (and the report of a failure)
        f"{len(operations)} operations, {EXAMPLES} examples each; scenarios per phase {dict(findings.scenarios)};"
        f" requests per role {dict(findings.requests)}; let through (2xx) {dict(findings.granted)}"
    )
    assert len(operations) > 150
    assert findings.errors == []
    assert findings.failures == {}, findings.report()
    for phase in ("examples", "coverage", "fuzzing"):
        assert findings.operations.get(phase) == set(operations), f"{phase}: {findings.phases.get(phase)}"
    # No links in the document: the transitions are inferred, and they ran.
    assert findings.phases.get("stateful") == Status.SUCCESS.value, findings.phases
    assert findings.scenarios["stateful"] > 0
    for role in ROLES:  # every role's token was used and was let in somewhere
        assert findings.requests[role] > 0 and findings.granted[role] > 0, (role, findings.requests, findings.granted)


def _fill(path: str, parameters: list[dict[str, Any]]) -> str:
    """The path with a plausible value for each parameter: routing decides 405 before a view
    looks the resource up, so the value only has to match the route's converter."""
    values = {}
    for parameter in parameters:
        schema = parameter.get("schema", {})
        if "enum" in schema:
            value = str(schema["enum"][0])
        elif schema.get("type") == "integer":
            value = str(max(schema.get("minimum", 2026), 2026) if schema.get("maximum", 9999) >= 2026 else 1)
        elif schema.get("format") == "uuid":
            value = str(uuid.UUID(int=1))
        else:
            value = "x1"
        values[parameter["name"]] = value
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], path)


def test_an_undocumented_method_answers_405_with_allow(seeded_platform: Path, tmp_path: Path) -> None:
    for park in running_park(seeded_platform, tmp_path, PARKHUB_RATE_LIMIT="1000000/minute"):
        document = park.client.get("/api/v1/openapi.json").json
        wrong: list[str] = []
        tried = 0
        for path, item in document["paths"].items():
            documented = {method.upper() for method in item if method.upper() in HTTP_METHODS}
            parameters = [
                parameter
                for operation in item.values()
                if isinstance(operation, dict)
                for parameter in operation.get("parameters", [])
                if parameter.get("in") == "path"
            ]
            parameters += [p for p in item.get("parameters", []) if p.get("in") == "path"]
            url = _fill(path, list({p["name"]: p for p in parameters}.values()))
            allowed = documented | {"OPTIONS"} | ({"HEAD"} if "GET" in documented else set())
            for method in sorted(set(HTTP_METHODS) - documented):
                tried += 1
                response = park.as_user("admin", method, url)
                allow = {value.strip() for value in response.headers.get("Allow", "").split(",") if value.strip()}
                if (
                    response.status_code != 405
                    or allow != allowed
                    or not response.content_type.startswith("application/problem+json")
                ):
                    wrong.append(
                        f"{method} {url} -> {response.status_code} Allow={sorted(allow)}, not {sorted(allowed)}"
                    )
        assert tried > 300
        assert wrong == []


def test_a_space_patched_with_part_of_a_nested_object_keeps_the_rest(demo_park: Park) -> None:
    """Found by the fuzz: ``{"cancellation": {}}`` in a PATCH was a 500 (a KeyError); a partial
    nested object now changes the members it names and nothing else, and an empty one changes
    nothing."""
    space = demo_park.as_user("admin", "GET", "/api/v1/booking/spaces").json["items"][0]
    path = f"/api/v1/booking/spaces/{space['id']}"
    before = demo_park.as_user("admin", "GET", path)
    changed = demo_park.as_user(
        "admin",
        "PATCH",
        path,
        json={"cancellation": {"late_fee_percent": "10.00"}, "price": {}},
        headers={"If-Match": before.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.json["cancellation"] == {**before.json["cancellation"], "late_fee_percent": "10.00"}
    assert changed.json["price"] == before.json["price"]


def test_every_operation_documents_the_rate_limit_and_an_absent_database(seeded_platform: Path, tmp_path: Path) -> None:
    """Any request may be refused by the edge's rate limit (429) or find its database away
    (503), both with ``Retry-After``: every operation documents both, and a real 429 holds to
    what the document says of it (status, problem+json, its schema, the header's type)."""
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    for park in running_park(seeded_platform, tmp_path, PARKHUB_RATE_LIMIT="3/minute"):
        document = park.client.get("/api/v1/openapi.json").json
        lacking = [
            f"{method.upper()} {path}"
            for path, item in document["paths"].items()
            for method, operation in item.items()
            if isinstance(operation, dict) and not {"429", "503"} <= set(operation.get("responses", {}))
        ]
        assert lacking == []
        for name in ("TOO_MANY_REQUESTS", "SERVICE_UNAVAILABLE"):
            answer = document["components"]["responses"][name]
            assert list(answer["content"]) == ["application/problem+json"]
            assert answer["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}

        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", park.platform.wsgi)
        case = schema["/api/v1/me"]["GET"].Case(headers={"Authorization": f"Bearer {park.token('alice')}"})
        statuses = [case.call().status_code for _ in range(3)]
        refused = case.call()
        assert statuses == [200, 200, 200] and refused.status_code == 429
        case.validate_response(
            refused,
            checks=[
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
                response_headers_conformance,
            ],
        )
