"""Prometheus metrics (docs/OPERATIONS.md, "Metrics"): ``/metrics`` of a service, of the gateway and
of the embedded platform list the metrics with bounded labels after requests; the inbox's counters
move per outcome; the edge does not answer ``/metrics``; a request's measuring stays cheap."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import MetaData

from shared.bus.inbox import Inbox, Outcome, RetryPolicy
from shared.bus.tables import define_messaging_tables
from shared.db import Database, database_for
from shared.events import Event
from shared.metrics import HTTP_DURATION, HTTP_REQUESTS, UNMATCHED_ROUTE, scrape_registry
from shared.settings import Settings
from shared.tracing import SpanKind, span
from tests.booking.conftest import Api, signing_key
from tests.bus.conftest import REGISTERED, Effects, organisation
from tests.consulting.conftest import api, app, db
from tests.consulting.test_cases_support import submitted
from tests.park import Park

__all__ = ["api", "app", "db", "signing_key"]  # consulting's rig, as fixtures of this module

Samples = list[tuple[str, dict[str, str], float]]


def samples(text: str) -> Samples:
    return [
        (sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def value(found: Samples, name: str, **labels: str) -> float | None:
    for sample_name, sample_labels, sample_value in found:
        if sample_name == name and all(sample_labels.get(k) == v for k, v in labels.items()):
            return sample_value
    return None


def labels_of(found: Samples, prefix: str) -> Iterable[dict[str, str]]:
    return (labels for name, labels, _ in found if name.startswith(prefix))


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# A service -----------------------------------------------------------------------------------------


def test_a_services_metrics_count_requests_by_route_never_by_path(api: Api) -> None:
    case = submitted(api, "bob")
    assert api.get(f"/cases/{case['id']}", user="bob").status_code == 200
    assert api.get("/no-such-thing", user="bob").status_code == 404

    answer = api.client.get("/metrics")  # no token
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    found = samples(answer.get_data(as_text=True))
    submitted_count = value(
        found,
        "parkhub_http_requests_total",
        service="consulting",
        method="POST",
        route="/api/v1/consulting/cases",
        status="201",
    )
    assert submitted_count is not None and submitted_count >= 1
    assert value(
        found,
        "parkhub_http_request_duration_seconds_count",
        service="consulting",
        method="GET",
        route="/api/v1/consulting/cases/<uuid:case_id>",
    )
    assert value(found, "parkhub_http_requests_total", service="consulting", route=UNMATCHED_ROUTE, status="404")
    # Bounded: no label holds a case id or a raw path that matched no rule.
    for labels in labels_of(found, "parkhub_http_"):
        assert case["id"] not in labels["route"] and "no-such-thing" not in labels["route"]
    # Its outbox: the submitted event waits (no relay runs here), with its age.
    assert value(found, "parkhub_outbox_backlog", service="consulting") == 1
    age = value(found, "parkhub_outbox_oldest_age_seconds", service="consulting")
    assert age is not None and 0 <= age < 60


def test_openmetrics_is_answered_when_asked_for(api: Api) -> None:
    answer = api.client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/openmetrics-text")
    assert answer.get_data(as_text=True).rstrip().endswith("# EOF")


def test_metrics_are_not_in_the_services_openapi_document(api: Api) -> None:
    paths = api.client.get("/api/v1/consulting/openapi.json").json["paths"]
    assert not any(path.endswith("/metrics") for path in paths)


def test_the_method_label_is_one_of_the_http_methods_or_other(api: Api) -> None:
    for _ in range(50):  # methods a client made up: each would be a label value of its own
        answer = api.client.open("/api/v1/consulting/cases", method=f"X{uuid.uuid4().hex[:8].upper()}")
        assert answer.status_code == 405
    found = samples(api.client.get("/metrics").get_data(as_text=True))
    methods = {labels["method"] for labels in labels_of(found, "parkhub_http_") if labels["service"] == "consulting"}
    assert len(methods) <= 8 and "<other>" in methods, methods
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "<other>"}


class DiskFull(OSError):
    """What a write to a memory-mapped file of the multiprocess directory can raise."""


def disk_full(*_args: Any, **_kwargs: Any) -> Any:
    raise DiskFull(28, "No space left on device")


def test_a_failing_metric_or_span_never_fails_a_request(api: Api, monkeypatch: Any, caplog: Any) -> None:
    import shared.http.telemetry as telemetry

    monkeypatch.setattr(HTTP_REQUESTS, "labels", disk_full)
    for _ in range(2):
        answer = api.get("/cases", user="bob")
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert [r.levelname for r in caplog.records if "DiskFull" in r.getMessage()] == ["WARNING"]  # once

    monkeypatch.undo()
    monkeypatch.setattr(telemetry, "span", disk_full)  # tracing fails before the view
    assert api.get("/cases", user="bob").status_code == 200
    assert value(
        samples(api.client.get("/metrics").get_data(as_text=True)),
        "parkhub_http_requests_total",
        service="consulting",
        route="/api/v1/consulting/cases",
        method="GET",
        status="200",
    )


# The inbox -----------------------------------------------------------------------------------------


@pytest.fixture
def notify_db(settings: Settings) -> Database:
    from sqlalchemy import text

    database = database_for("notify", settings.database_url("notify"), define_messaging_tables(MetaData()))
    with database.unit_of_work() as uow:
        uow.session.execute(text("CREATE TABLE effects (event_id TEXT NOT NULL, name TEXT NOT NULL)"))
        uow.commit()
    return database


def envelope(**overrides: Any) -> dict[str, Any]:
    body = Event(type=REGISTERED, source="/parkhub/gateway", data=organisation()).to_dict()
    body.update(overrides)
    return body


def test_the_inbox_counts_handled_duplicate_retried_and_dead_lettered(notify_db: Database) -> None:
    effects = Effects(notify_db)
    service = f"metrics{uuid.uuid4().hex[:6]}"  # counters are process-wide: a service name of its own
    inbox = Inbox(service, notify_db, {REGISTERED: effects}, retry=RetryPolicy(attempts=2, base_seconds=0.0))

    def count(outcome: str, type: str = REGISTERED) -> float:
        return counted("parkhub_events_handled_total", service=service, type=type, outcome=outcome)

    body = envelope()
    assert inbox.deliver(body) is Outcome.HANDLED
    assert inbox.deliver(body) is Outcome.DUPLICATE
    assert (count("handled"), count("duplicate")) == (1, 1)

    effects.failing = True
    failing = envelope()
    assert inbox.deliver(failing, attempt=1) is Outcome.RETRY
    assert inbox.deliver(failing, attempt=2) is Outcome.DEAD_LETTERED
    assert (count("retried"), count("dead_lettered")) == (1, 1)

    assert inbox.deliver(b"not json") is Outcome.DEAD_LETTERED
    assert inbox.deliver(json.dumps({"specversion": "1.0"})) is Outcome.DEAD_LETTERED
    assert count("dead_lettered", "<invalid>") == 2
    assert count("handled") == 1  # nothing else moved it

    # And /metrics shows them with the outbox of the inbox's database.
    found = samples(generate_latest(scrape_registry([notify_db])).decode())
    assert value(found, "parkhub_events_handled_total", service=service, type=REGISTERED, outcome="handled") == 1
    assert value(found, "parkhub_outbox_backlog", service="notify") == 0
    assert value(found, "parkhub_outbox_oldest_age_seconds", service="notify") == 0


def test_a_failing_counter_or_span_never_fails_a_delivery(notify_db: Database, monkeypatch: Any) -> None:
    from contextlib import contextmanager

    from shared.bus import inbox as inbox_module

    effects = Effects(notify_db)
    inbox = Inbox("notify", notify_db, {REGISTERED: effects}, retry=RetryPolicy(attempts=2, base_seconds=0.0))

    monkeypatch.setattr(inbox_module.EVENTS_HANDLED, "labels", disk_full)
    counted_body = envelope()
    assert inbox.deliver(counted_body) is Outcome.HANDLED
    assert inbox.deliver(b"not json") is Outcome.DEAD_LETTERED
    monkeypatch.undo()

    monkeypatch.setattr(inbox_module, "span", disk_full)  # tracing fails before the handler
    traced_body = envelope()
    assert inbox.deliver(traced_body) is Outcome.HANDLED

    @contextmanager
    def failing_exit(*_args: Any, **_kwargs: Any) -> Any:
        yield
        raise DiskFull(28, "No space left on device")

    monkeypatch.setattr(inbox_module, "span", failing_exit)  # and after it
    ended_body = envelope()
    assert inbox.deliver(ended_body) is Outcome.HANDLED
    assert inbox.deliver(ended_body) is Outcome.DUPLICATE
    assert [event_id for event_id, _ in effects.rows()] == [counted_body["id"], traced_body["id"], ended_body["id"]]


def test_a_database_that_does_not_answer_is_left_out_of_a_scrape(settings: Settings, tmp_path: Any) -> None:
    missing = database_for(
        "finance", f"sqlite:///{tmp_path}/no-such-dir/finance.db", define_messaging_tables(MetaData())
    )
    found = samples(generate_latest(scrape_registry([missing])).decode())
    assert value(found, "parkhub_outbox_backlog", service="finance") is None
    assert any(name == "parkhub_http_requests_total" or name.startswith("python_") for name, _, _ in found)


# The gateway and the embedded platform --------------------------------------------------------------


def test_the_platform_serves_one_metrics_for_all_and_the_edge_hides_it(park: Park) -> None:
    created = park.as_user(
        "admin",
        "POST",
        "/api/v1/organisations",
        json={"name": "Metrics Bioworks", "name_zh": "指标生物", "kind": "tenant"},
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert park.as_user("desk", "GET", "/api/v1/booking/spaces").status_code == 200
    assert park.platform.bus.wait_until_idle(5)

    # Not on the public port: the edge answers a 404 problem, in the reader's language.
    for path in ("/metrics", "/metrics/"):
        hidden = park.client.get(path, headers={"Accept-Language": "zh"})
        assert hidden.status_code == 404
        assert hidden.headers["Content-Type"] == "application/problem+json"
        assert hidden.headers["Content-Language"].startswith("zh")
        assert "parkhub_" not in hidden.get_data(as_text=True)

    # The platform's one registry: every app's requests, every inbox's events, every outbox.
    found = samples(generate_latest(park.platform.metrics).decode())
    assert value(found, "parkhub_http_requests_total", service="gateway", method="POST", route="/api/v1/organisations")
    assert value(found, "parkhub_http_requests_total", service="booking", method="GET", route="/api/v1/booking/spaces")
    assert value(found, "parkhub_http_requests_total", service="gateway", route="/metrics", status="404")
    for service in ("booking", "consulting", "finance", "notify"):
        handled = value(found, "parkhub_events_handled_total", service=service, type=REGISTERED, outcome="handled")
        assert handled is not None and handled >= 1, service
    for database in ("gateway", "booking", "consulting", "finance", "notify"):
        assert value(found, "parkhub_outbox_backlog", service=database) == 0, database

    # The gateway's own app answers /metrics on its own port (a request not through the edge).
    direct = park.platform.gateway_app.test_client().get("/metrics")
    assert direct.status_code == 200
    gateway_found = samples(direct.get_data(as_text=True))
    assert value(gateway_found, "parkhub_outbox_backlog", service="gateway") == 0


# The cost of measuring ------------------------------------------------------------------------------


def test_measuring_and_tracing_a_request_costs_a_small_part_of_the_request() -> None:
    """What every request adds: a span, the two labelled children looked up in a dict, one
    increment, one observation. Compared with the bare cost of a request to a Flask app with one
    trivial view, timed in the same process (so a loaded machine slows both alike); the figures
    are in docs/OPERATIONS.md."""
    children: dict[tuple[str, str, int], Any] = {}

    def measured() -> None:
        with span("GET /api/v1/booking/spaces", traceparent=None, kind=SpanKind.SERVER):
            key = ("GET", "/api/v1/booking/spaces", 200)
            measures = children.get(key)
            if measures is None:
                measures = children.setdefault(
                    key,
                    (
                        HTTP_REQUESTS.labels("costtest", *key[:2], str(key[2])),
                        HTTP_DURATION.labels("costtest", *key[:2]),
                    ),
                )
            measures[0].inc()
            measures[1].observe(0.003)

    bare = Flask("bare")
    bare.add_url_rule("/ping", "ping", lambda: "pong")
    client = bare.test_client()

    def request() -> None:
        client.get("/ping")

    def per_call(call: Any, rounds: int) -> float:
        call()
        best = float("inf")
        for _ in range(3):  # the best of three: a busy machine's pauses are not the code's cost
            started = time.perf_counter()
            for _ in range(rounds):
                call()
            best = min(best, (time.perf_counter() - started) / rounds)
        return best

    cost, request_cost = per_call(measured, 2000), per_call(request, 300)
    assert cost < 0.25 * request_cost, f"{cost * 1e6:.1f} µs against a bare request's {request_cost * 1e6:.1f} µs"
