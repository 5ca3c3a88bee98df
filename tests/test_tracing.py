"""Traces across HTTP and the bus (docs/OPERATIONS.md, "Traces"): a request's ``traceparent`` is
honoured (else a trace is started), its events carry the trace in their envelope, a consumer
handles under a child span whose log lines and published events carry it on; a malformed
``traceparent`` in an envelope is dropped, never a dead letter."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from sqlalchemy import MetaData

from shared import tracing
from shared.bus.inbox import Inbox, Outcome
from shared.bus.tables import define_messaging_tables
from shared.db import Database, UnitOfWork, database_for
from shared.events import Event
from shared.logs import configure_logging
from shared.settings import Settings
from tests import service_rig
from tests.booking.conftest import Api, signing_key
from tests.bus.conftest import REGISTERED, organisation
from tests.consulting.conftest import api, app, db

__all__ = ["api", "app", "db", "signing_key"]  # consulting's rig, as fixtures of this module

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE}-{CALLER_SPAN}-01"
SUBMITTED = "consulting.case.submitted"


def ids(traceparent: str) -> tuple[str, str]:
    _version, trace_id, span_id, _flags = traceparent.split("-")
    return trace_id, span_id


@pytest.fixture
def log_lines(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """The JSON log lines written meanwhile (info and above)."""
    configure_logging("INFO")
    capsys.readouterr()

    def read() -> list[dict[str, Any]]:
        lines = capsys.readouterr().err.splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    try:
        yield read
    finally:
        configure_logging("WARNING")


@pytest.fixture
def notify_db(settings: Settings) -> Database:
    database = database_for("notify", settings.database_url("notify"), define_messaging_tables(MetaData()))
    return database


# HTTP -> outbox --------------------------------------------------------------------------------------


def test_a_requests_traceparent_reaches_its_events_and_its_log_lines(api: Api, db: Database, log_lines: Any) -> None:
    answer = api.client.post(
        "/api/v1/consulting/cases",
        json={
            "item_id": _contract_item(),
            "subject": "Review of a labour contract",
            "description": "Twelve pages.",
            "answers": {"contract_type": "labour", "pages": 12},
        },
        headers={**api.headers("bob"), "traceparent": TRACEPARENT, "tracestate": "vendor=abc"},
    )
    assert answer.status_code == 201, answer.json
    [event] = [e for e in service_rig.published(db, "consulting.") if e["type"] == SUBMITTED]
    trace_id, span_id = ids(event["traceparent"])
    assert trace_id == TRACE
    assert span_id != CALLER_SPAN  # the request's own span, a child of the caller's
    assert event["tracestate"] == "vendor=abc"
    request_line = next(line for line in log_lines() if line.get("event") == "request")
    assert (request_line["trace_id"], request_line["span_id"]) == (TRACE, span_id)
    assert request_line["request_id"] == answer.headers["X-Request-ID"]


def _contract_item() -> str:
    from tests.consulting.conftest import Catalogue

    return str(Catalogue.contract)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "not-a-traceparent",
        f"00-{'0' * 32}-{CALLER_SPAN}-01",  # an all-zero trace id is invalid
        f"ff-{TRACE}-{CALLER_SPAN}-01",  # version ff is invalid
        f"00-{TRACE.upper()}-{CALLER_SPAN}-01",  # upper case is not W3C's
    ],
)
def test_without_a_valid_traceparent_each_request_starts_a_trace(api: Api, db: Database, header: str | None) -> None:
    headers = {"traceparent": header} if header else {}
    for _ in range(2):
        answer = api.client.post(
            "/api/v1/consulting/cases",
            json={
                "item_id": _contract_item(),
                "subject": "Review",
                "description": "Twelve pages.",
                "answers": {"contract_type": "labour", "pages": 12},
            },
            headers={**api.headers("bob"), **headers},
        )
        assert answer.status_code == 201, answer.json
    traces = [ids(e["traceparent"])[0] for e in service_rig.published(db, "consulting.") if e["type"] == SUBMITTED]
    assert len(traces) == 2 and len(set(traces)) == 2 and TRACE not in traces


# outbox -> inbox -> outbox ---------------------------------------------------------------------------


def test_a_consumer_continues_the_trace_in_its_logs_and_its_events(
    api: Api, db: Database, notify_db: Database, log_lines: Any
) -> None:
    answer = api.client.post(
        "/api/v1/consulting/cases",
        json={
            "item_id": _contract_item(),
            "subject": "Review",
            "description": "Twelve pages.",
            "answers": {"contract_type": "labour", "pages": 12},
        },
        headers={**api.headers("bob"), "traceparent": TRACEPARENT},
    )
    assert answer.status_code == 201
    [envelope] = [e for e in service_rig.published(db, "consulting.") if e["type"] == SUBMITTED]
    _, request_span = ids(envelope["traceparent"])
    log_lines()  # the request's lines: not the consumer's

    consumer_log = structlog.get_logger("tests.consumer")

    def handler(event: Event, *, uow: UnitOfWork) -> None:
        consumer_log.info("handling a submitted case", case=event.data["case_id"])
        uow.publish(REGISTERED, organisation(), subject="follow-up")

    inbox = Inbox("notify", notify_db, {SUBMITTED: handler})
    assert inbox.deliver(envelope) is Outcome.HANDLED

    [line] = [line for line in log_lines() if line.get("event") == "handling a submitted case"]
    assert line["trace_id"] == TRACE
    assert line["span_id"] != request_span  # a child span of the event's
    [follow_up] = service_rig.published(notify_db, "identity.")
    assert ids(follow_up["traceparent"]) == (TRACE, line["span_id"])
    assert follow_up["causationid"] == envelope["id"]
    assert follow_up["correlationid"] == envelope["correlationid"]


@pytest.mark.parametrize(
    "traceparent",
    ["garbage", 42, {"a": 1}, f"00-{TRACE}-{'0' * 16}-01", f"00-{TRACE}-{CALLER_SPAN}-01-extra", ""],
)
def test_a_malformed_traceparent_in_an_envelope_is_ignored_not_dead_lettered(
    notify_db: Database, traceparent: Any, log_lines: Any
) -> None:
    seen: list[str | None] = []

    def handler(event: Event, *, uow: UnitOfWork) -> None:
        seen.append(event.traceparent)
        structlog.get_logger("tests.consumer").info("handled anyway")

    body = Event(type=REGISTERED, source="/parkhub/gateway", data=organisation()).to_dict()
    body["traceparent"] = traceparent
    body["tracestate"] = "vendor=abc"
    inbox = Inbox("notify", notify_db, {REGISTERED: handler})
    assert inbox.deliver(body) is Outcome.HANDLED
    assert seen == [None]  # dropped, with its tracestate
    [line] = [line for line in log_lines() if line.get("event") == "handled anyway"]
    assert len(line["trace_id"]) == 32 and line["trace_id"] != TRACE  # a trace of its own


# The envelope ----------------------------------------------------------------------------------------


def test_the_envelope_carries_traceparent_and_tracestate_both_ways() -> None:
    event = Event(
        type=REGISTERED, source="/parkhub/gateway", data=organisation(), traceparent=TRACEPARENT, tracestate="a=1"
    )
    body = event.to_dict()
    assert (body["traceparent"], body["tracestate"]) == (TRACEPARENT, "a=1")
    again = Event.from_dict(json.loads(json.dumps(body)))
    assert (again.traceparent, again.tracestate) == (TRACEPARENT, "a=1")
    plain = Event(type=REGISTERED, source="/parkhub/gateway", data=organisation()).to_dict()
    assert "traceparent" not in plain and "tracestate" not in plain
    # A later version's longer form is kept (W3C: parse what you know); a bad tracestate alone goes.
    later = Event.from_dict({**body, "traceparent": f"01-{TRACE}-{CALLER_SPAN}-01-more", "tracestate": "x" * 600})
    assert (later.traceparent, later.tracestate) == (f"01-{TRACE}-{CALLER_SPAN}-01-more", None)


def test_an_event_published_outside_any_span_carries_no_traceparent(notify_db: Database) -> None:
    with notify_db.unit_of_work() as uow:
        uow.publish(REGISTERED, organisation(), subject="job")
        uow.commit()
    [event] = service_rig.published(notify_db, "identity.")
    assert "traceparent" not in event


# Export ----------------------------------------------------------------------------------------------


def test_spans_are_exported_only_when_an_exporter_is_configured(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    tracing.reset()
    try:
        assert not tracing.exporting()
        with tracing.span("quiet", traceparent=TRACEPARENT):
            parent, _ = tracing.current_trace()
        assert parent is not None and ids(parent)[0] == TRACE
        assert "quiet" not in capfd.readouterr().out

        monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
        tracing.reset()
        assert tracing.exporting()
        name = f"exported-{uuid.uuid4().hex[:8]}"
        with tracing.span(name, traceparent=TRACEPARENT, attributes={"parkhub.service": "test"}):
            parent, _ = tracing.current_trace()
        assert parent is not None and ids(parent)[0] == TRACE
        out = capfd.readouterr().out
        assert name in out and TRACE in out
    finally:
        tracing.reset(exporting=False)
