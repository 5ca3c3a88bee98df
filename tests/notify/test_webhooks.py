"""Partner webhooks over real HTTPS: endpoints through the API, deliveries queued from events,
sent by the worker's job to a real TLS receiver (tests/notify/receiver.py) that verifies every
request with the Standard Webhooks library; retries, 410, rotation, replay, the log's owner, and
the URL checked again at delivery time."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from prometheus_client import REGISTRY
from sqlalchemy import select

from services.notify.app import create_app
from services.notify.handlers import sending
from services.notify.handlers.webhooks import deliver_due, enqueue
from services.notify.models import Notification, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from services.notify.rules.payloads import PARTNER_EVENT_TYPES
from services.notify.rules.recipients import partner_may_receive
from shared.bus.inbox import Outcome
from shared.clock import as_utc
from shared.db import Database
from shared.events import Event
from shared.settings import Settings
from tests.booking.conftest import BANK, Api
from tests.notify.conftest import BANK2, LAW, USERS, deliver, event
from tests.notify.receiver import Receiver, running_receiver
from tests.notify.samples import sample, sample_types

PARTNERS = {"bank": BANK, "bank2": BANK2, "lawyer": LAW}


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    directory = tmp_path / "receiver"
    directory.mkdir()
    yield from running_receiver(directory)


@pytest.fixture
def settings(settings: Settings, receiver: Receiver) -> Settings:
    """The rig's settings, trusting the receiver's CA and letting webhooks go to loopback."""
    return dataclasses.replace(
        settings,
        webhook_allow_private=True,
        webhook_ca_bundle=str(receiver.ca_file),
        webhook_timeout_seconds=2.0,
    )


def register(api: Api, user: str, url: str, event_types: list[str] | None = None) -> dict[str, Any]:
    response = api.post("/webhooks", {"url": url, "event_types": event_types or ["*"]}, user=user)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def queue(db: Database, evt: Event) -> None:
    with db.unit_of_work() as uow:
        enqueue(evt, uow=uow)
        uow.commit()


def run_job(db: Database, settings: Settings, now: datetime | None = None) -> int:
    return deliver_due.run(db, settings, now=now)


def deliveries_of(db: Database, endpoint_id: str | None = None) -> list[WebhookDelivery]:
    with db.session() as session:
        query = select(WebhookDelivery).order_by(WebhookDelivery.created_at, WebhookDelivery.id)
        if endpoint_id:
            query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
        return list(session.scalars(query))


def change(db: Database, model: type, id: str, **values: Any) -> None:
    with db.unit_of_work() as uow:
        row = uow.session.get(model, id)
        for name, value in values.items():
            setattr(row, name, value)
        uow.commit()


def routed(*partners: str) -> Event:
    data = sample("finance.application.routed", partner_org_ids=list(partners), added_partner_org_ids=list(partners))
    return event("finance.application.routed", data)


# Endpoints ---------------------------------------------------------------------------------------


def test_an_endpoint_is_its_organisations_and_its_secret_is_shown_once(api: Api, receiver: Receiver) -> None:
    created = register(api, "bank", receiver.url, ["finance.application.*"])
    assert created["secret"].startswith("whsec_")
    assert created["status"] == "active" and created["event_types"] == ["finance.application.*"]
    listed = api.get("/webhooks", user="bank").get_json()["items"]
    assert [e["id"] for e in listed] == [created["id"]] and "secret" not in listed[0]
    one = api.get(f"/webhooks/{created['id']}", user="bank")
    assert (
        one.status_code == 200 and one.headers["ETag"] == f'"{created["version"]}"' and "secret" not in one.get_json()
    )
    assert api.get("/webhooks", user="bank2").get_json()["items"] == []
    assert api.get(f"/webhooks/{created['id']}", user="bank2").status_code == 404
    assert api.post("/webhooks", {"url": receiver.url, "event_types": ["*"]}, user="alice").status_code == 403


def test_registering_twice_with_one_key_makes_one_endpoint(api: Api, receiver: Receiver) -> None:
    body = {"url": receiver.url, "event_types": ["consulting.case.*"]}
    first = api.post("/webhooks", body, user="lawyer", **{"Idempotency-Key": "register-1"})
    again = api.post("/webhooks", body, user="lawyer", **{"Idempotency-Key": "register-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json()["id"] == first.get_json()["id"]
    assert len(api.get("/webhooks", user="lawyer").get_json()["items"]) == 1


def test_subscriptions_are_checked_against_what_a_partner_can_receive(api: Api, receiver: Receiver) -> None:
    for patterns in (["finance.aplication.*"], ["booking.reservation.confirmed"], []):
        response = api.post("/webhooks", {"url": receiver.url, "event_types": patterns}, user="bank")
        assert response.status_code == 422, patterns
    body = api.post("/webhooks", {"url": receiver.url, "event_types": ["nope.*"]}, user="bank").get_json()
    assert body["type"].endswith("rule/webhook-event-unknown")
    assert api.get("/webhooks", user="bank").get_json()["items"] == []


@pytest.fixture
def strict_api(settings: Settings, signing_key: rsa.RSAPrivateKey, app: Flask, monkeypatch: pytest.MonkeyPatch) -> Api:
    """The API with ``webhook_allow_private`` off (the default) and a stub DNS."""
    names = {"hooks.bank.example": ["93.184.216.34"], "internal.bank.example": ["93.184.216.34", "192.168.1.10"]}
    monkeypatch.setattr(sending, "resolve", lambda host: names.get(host, []))
    strict = create_app(dataclasses.replace(settings, webhook_allow_private=False))
    client = Api(strict.test_client(), settings, signing_key, prefix="/api/v1/notify")
    client.users = USERS
    return client


def test_http_and_private_hosts_are_refused_at_registration(strict_api: Api) -> None:
    refused = {
        "http://hooks.bank.example/in": "rule/webhook-url-scheme",
        "https://10.0.0.5/in": "rule/webhook-url-private",
        "https://127.0.0.1:8443/in": "rule/webhook-url-private",
        "https://169.254.169.254/latest": "rule/webhook-url-private",
        "https://internal.bank.example/in": "rule/webhook-url-private",
        "https://nowhere.bank.example/in": "rule/webhook-url-unresolvable",
        "https://user:pw@hooks.bank.example/in": "rule/webhook-url-invalid",
    }
    for url, code in refused.items():
        response = strict_api.post("/webhooks", {"url": url, "event_types": ["*"]}, user="bank")
        assert response.status_code == 422, url
        assert response.get_json()["type"].endswith(code), (url, response.get_json())
    assert strict_api.get("/webhooks", user="bank").get_json()["items"] == []
    ok = strict_api.post("/webhooks", {"url": "https://hooks.bank.example/in", "event_types": ["*"]}, user="bank")
    assert ok.status_code == 201


def test_changes_need_if_match_and_delete_takes_the_log(api: Api, db: Database, receiver: Receiver) -> None:
    created = register(api, "bank", receiver.url)
    path = f"/webhooks/{created['id']}"
    assert api.patch(path, {"description": "core banking"}, user="bank").status_code == 428
    assert api.patch(path, {"description": "x"}, user="bank", **{"If-Match": '"99"'}).status_code == 412
    assert api.patch(path, {"description": "x"}, user="bank2", **{"If-Match": '"1"'}).status_code == 404
    changed = api.patch(path, {"description": "core banking"}, user="bank", **{"If-Match": f'"{created["version"]}"'})
    assert changed.status_code == 200 and changed.get_json()["description"] == "core banking"
    refused = api.patch(path, {"url": "ftp://x"}, user="bank", **{"If-Match": changed.headers["ETag"]})
    assert refused.status_code == 422
    queue(db, routed(BANK))
    assert len(deliveries_of(db)) == 1
    assert api.delete(path, user="bank", **{"If-Match": changed.headers["ETag"]}).status_code == 204
    assert api.get(path, user="bank").status_code == 404
    assert deliveries_of(db) == []


# What goes to whom -------------------------------------------------------------------------------


def test_a_routed_application_names_only_the_receiving_bank(
    api: Api, db: Database, settings: Settings, receiver: Receiver
) -> None:
    bank = register(api, "bank", f"{receiver.url}/bank")
    bank2 = register(api, "bank2", f"{receiver.url}/bank2")
    receiver.secrets = [bank["secret"], bank2["secret"]]
    queue(db, routed(BANK, BANK2))
    assert run_job(db, settings) == 2
    received = {r.path: r for r in receiver.wait_for(2)}
    for path, org, other, endpoint in (("/hooks/bank", BANK, BANK2, bank), ("/hooks/bank2", BANK2, BANK, bank2)):
        got = received[path]
        assert got.verified_by == [endpoint["secret"]]
        body = got.json
        assert set(body) == {"specversion", "id", "type", "source", "time", "data"}
        assert body["data"]["partner_org_ids"] == [org] and body["data"]["added_partner_org_ids"] == [org]
        assert other not in got.body.decode() and "applicant" not in body["data"]
        assert got.headers["content-type"] == "application/json"
        assert got.headers["webhook-id"].startswith("msg_")
    log = api.get(f"/webhooks/{bank['id']}/deliveries", user="bank").get_json()
    assert log["total"] == 1
    item = log["items"][0]
    assert item["status"] == "delivered" and item["attempts"] == 1 and item["last_status_code"] == 204
    assert item["id"] == received["/hooks/bank"].headers["webhook-id"]


def test_who_receives_which_event(api: Api, db: Database, receiver: Receiver) -> None:
    endpoints = {user: register(api, user, f"{receiver.url}/{user}")["id"] for user in PARTNERS}

    def receivers(type: str, **data: Any) -> set[str]:
        evt = event(type, sample(type, **data))
        queue(db, evt)
        with db.session() as session:
            ids = set(session.scalars(select(WebhookDelivery.endpoint_id).where(WebhookDelivery.event_id == evt.id)))
        return {user for user, id in endpoints.items() if id in ids}

    assert receivers("finance.application.offer_made", partner_org_id=BANK) == set()
    assert receivers("finance.application.info_provided", partner_org_id=BANK) == {"bank"}
    assert receivers("finance.application.info_provided", partner_org_id=BANK2) == {"bank2"}
    assert receivers("consulting.case.assigned", firm_org_id=LAW) == {"lawyer"}
    assert receivers("finance.application.withdrawn", partner_org_ids=[BANK, BANK2]) == {"bank", "bank2"}


def test_a_partner_never_receives_another_partners_event(api: Api, db: Database, receiver: Receiver) -> None:
    """Over every event type of booking, consulting and finance, with the partners varied: each
    delivery is to an organisation the event may go to, and names no other partner."""
    endpoints = {register(api, user, f"{receiver.url}/{user}")["id"]: org for user, org in PARTNERS.items()}
    delivered_types = set()
    for type in sample_types():
        variants = [sample(type)]
        if type.startswith("finance.application."):
            variants += [
                sample(type, partner_org_id=BANK2, partner_org_ids=[BANK, BANK2]),
                sample(type, partner_org_ids=[BANK, BANK2], added_partner_org_ids=[BANK2]),
            ]
        if type.startswith("consulting.case."):
            variants += [sample(type, firm_org_id=LAW, previous_firm_org_id=BANK2)]
        for data in variants:
            evt = event(type, data)
            queue(db, evt)
            queue(db, evt)  # the same event twice: one delivery per endpoint
            with db.session() as session:
                rows = list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.event_id == evt.id)))
            assert len({row.endpoint_id for row in rows}) == len(rows)
            for row in rows:
                org = endpoints[row.endpoint_id]
                assert partner_may_receive(type, data, org), (type, org)
                text = json.dumps(row.payload)
                for other in set(PARTNERS.values()) - {org}:
                    assert other not in text, (type, org, other)
                delivered_types.add(type)
            if type not in PARTNER_EVENT_TYPES:
                assert rows == [], type
    assert len(delivered_types) >= 10  # the test saw deliveries, not only refusals


def test_an_event_through_the_inbox_is_queued_once(
    api: Api, db: Database, settings: Settings, receiver: Receiver
) -> None:
    register(api, "bank", receiver.url)
    evt = routed(BANK)
    deliver(settings, evt)
    deliver(settings, evt)
    assert [d.event_id for d in deliveries_of(db)] == [evt.id]


# Sending -----------------------------------------------------------------------------------------


def test_a_500_is_retried_on_the_schedule_and_retry_after_lengthens_it(
    api: Api, db: Database, settings: Settings, receiver: Receiver
) -> None:
    endpoint = register(api, "bank", receiver.url)
    receiver.secrets = [endpoint["secret"]]
    queue(db, routed(BANK))
    now = datetime.now(UTC)
    retries = REGISTRY.get_sample_value("parkhub_webhook_deliveries_total", {"outcome": "retry"}) or 0
    receiver.answer(500)
    assert run_job(db, settings, now) == 1
    assert REGISTRY.get_sample_value("parkhub_webhook_deliveries_total", {"outcome": "retry"}) == retries + 1
    [delivery] = deliveries_of(db)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert as_utc(delivery.next_attempt_at) == now + timedelta(seconds=30)
    assert run_job(db, settings, now + timedelta(seconds=29)) == 0
    receiver.answer(503, retry_after="600")
    assert run_job(db, settings, now + timedelta(seconds=30)) == 1
    [delivery] = deliveries_of(db)
    assert as_utc(delivery.next_attempt_at) == now + timedelta(seconds=630)  # not the schedule's 2 min
    assert run_job(db, settings, now + timedelta(seconds=630)) == 1
    [delivery] = deliveries_of(db)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("delivered", 3, None)
    received = receiver.wait_for(3)
    assert len({r.headers["webhook-id"] for r in received}) == 1
    assert all(r.verified_by == [endpoint["secret"]] for r in received)
    detail = api.get(f"/webhooks/{endpoint['id']}/deliveries/{delivery.id}", user="bank").get_json()
    assert [a["status_code"] for a in detail["attempt_log"]] == [500, 503, 204]
    assert detail["payload"]["type"] == "finance.application.routed"


def test_after_the_last_attempt_a_delivery_fails_and_a_dead_endpoint_is_disabled(
    api: Api, db: Database, settings: Settings, receiver: Receiver
) -> None:
    endpoint = register(api, "bank", receiver.url)
    queue(db, routed(BANK))
    [delivery] = deliveries_of(db)
    now = datetime.now(UTC)
    change(db, WebhookDelivery, delivery.id, attempts=8)
    change(db, WebhookEndpoint, endpoint["id"], failed_in_a_row=4, failing_since=now - timedelta(hours=73))
    receiver.answer(500)
    run_job(db, settings, now)
    [delivery] = deliveries_of(db)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 9, None)
    body = api.get(f"/webhooks/{endpoint['id']}", user="bank").get_json()
    assert (body["status"], body["disabled_reason"], body["failed_in_a_row"]) == ("disabled", "failing", 5)
    log = f"/webhooks/{endpoint['id']}/deliveries"
    assert api.get(f"{log}?status=failed", user="bank").get_json()["total"] == 1
    assert api.get(f"{log}?status=pending", user="bank").get_json()["total"] == 0
    assert api.get(f"{log}?status=lost", user="bank").status_code == 422
    with db.session() as session:
        [notice] = session.scalars(select(Notification).where(Notification.subject_id == endpoint["id"]))
    assert (notice.recipient_org_id, notice.kind) == (BANK, "webhook") and receiver.url in notice.body_en


def test_a_410_disables_the_endpoint_and_tells_its_owner(
    api: Api, db: Database, settings: Settings, receiver: Receiver
) -> None:
    endpoint = register(api, "bank", receiver.url)
    queue(db, routed(BANK))
    receiver.answer(410)
    run_job(db, settings)
    [delivery] = deliveries_of(db)
    assert delivery.status == "gone"
    body = api.get(f"/webhooks/{endpoint['id']}", user="bank").get_json()
    assert (body["status"], body["disabled_reason"]) == ("disabled", "gone")
    with db.session() as session:
        notices = list(session.scalars(select(Notification).where(Notification.recipient_org_id == BANK)))
    assert [(n.kind, n.recipient_role) for n in notices] == [("webhook", None)]
    assert "410" in notices[0].body_en and notices[0].title_en == "Webhook endpoint disabled"
    queue(
        db, event("finance.application.info_provided", sample("finance.application.info_provided", partner_org_id=BANK))
    )
    assert len(deliveries_of(db)) == 1  # a disabled endpoint is queued nothing
    replay = api.post(f"/webhooks/{endpoint['id']}/deliveries/{delivery.id}/replay", user="bank")
    assert replay.status_code == 409 and replay.get_json()["type"].endswith("rule/webhook-endpoint-disabled")
    enabled = api.post(f"/webhooks/{endpoint['id']}/enable", user="bank", **{"If-Match": f'"{body["version"]}"'})
    assert enabled.status_code == 200 and enabled.get_json()["status"] == "active"
    assert api.post(f"/webhooks/{endpoint['id']}/deliveries/{delivery.id}/replay", user="bank").status_code == 200
    assert [d.status for d in deliveries_of(db)] == ["delivered"]


def test_the_old_secret_signs_for_a_day_after_a_rotation(
    api: Api, db: Database, settings: Settings, receiver: Receiver
) -> None:
    endpoint = register(api, "bank", receiver.url)
    old = endpoint["secret"]
    rotated = api.post(
        f"/webhooks/{endpoint['id']}/rotate-secret", user="bank", **{"If-Match": f'"{endpoint["version"]}"'}
    )
    assert rotated.status_code == 200
    new = rotated.get_json()["secret"]
    assert new != old and new.startswith("whsec_")
    receiver.secrets = [old, new]
    queue(db, routed(BANK))
    run_job(db, settings)
    [first] = receiver.wait_for(1)
    assert sorted(first.verified_by) == sorted([old, new])
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    change(db, WebhookEndpoint, endpoint["id"], secret_rotated_at=datetime.now(UTC) - timedelta(hours=24, seconds=1))
    queue(
        db, event("finance.application.info_provided", sample("finance.application.info_provided", partner_org_id=BANK))
    )
    run_job(db, settings)
    second = receiver.wait_for(2)[1]
    assert second.verified_by == [new]


def test_a_replay_keeps_the_webhook_id_and_is_the_partners_alone(
    api: Api, db: Database, settings: Settings, receiver: Receiver
) -> None:
    endpoint = register(api, "bank", receiver.url)
    mine = register(api, "bank2", f"{receiver.url}/bank2")
    receiver.secrets = [endpoint["secret"]]
    queue(db, routed(BANK))
    run_job(db, settings)
    [delivery] = deliveries_of(db)
    path = f"/webhooks/{endpoint['id']}/deliveries/{delivery.id}"
    for user, url in (("bank2", path), ("bank2", f"/webhooks/{mine['id']}/deliveries/{delivery.id}")):
        assert api.get(url, user=user).status_code == 404
        assert api.post(f"{url}/replay", user=user).status_code == 404
    assert api.get(f"/webhooks/{endpoint['id']}/deliveries", user="bank2").status_code == 404
    replayed = api.post(f"{path}/replay", user="bank")
    assert replayed.status_code == 200, replayed.get_json()
    answer = replayed.get_json()
    assert answer["attempt"]["replay"] is True and answer["attempt"]["requested_by"] == "user:bank"
    assert answer["attempt"]["status_code"] == 204 and answer["delivery"]["attempts"] == 1
    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.id
    assert second.verified_by == [endpoint["secret"]] and first.body == second.body
    assert [a["replay"] for a in answer["delivery"]["attempt_log"]] == [False, True]


def test_a_host_whose_dns_turns_private_is_refused_at_delivery(
    strict_api: Api, db: Database, settings: Settings, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = strict_api.post("/webhooks", {"url": "https://hooks.bank.example/in", "event_types": ["*"]}, user="bank")
    assert created.status_code == 201
    queue(db, routed(BANK))
    monkeypatch.setattr(sending, "resolve", lambda host: ["10.1.2.3"])
    now = datetime.now(UTC)
    assert run_job(db, dataclasses.replace(settings, webhook_allow_private=False), now) == 1
    [delivery] = deliveries_of(db)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert "rule/webhook-url-private" in (delivery.last_error or "")
    assert as_utc(delivery.next_attempt_at) == now + timedelta(seconds=30)
    with db.session() as session:
        [attempt] = session.scalars(select(WebhookAttempt))
    assert attempt.status_code is None and "whsec_" not in (attempt.error or "")
    assert receiver.received == []


def test_a_slow_partner_does_not_hold_up_the_others(
    api: Api, db: Database, settings: Settings, receiver: Receiver
) -> None:
    register(api, "bank", f"{receiver.url}/bank")
    register(api, "bank2", f"{receiver.url}/bank2")
    queue(db, routed(BANK, BANK2))
    receiver.answer(204, delay=1.0, times=2)
    assert run_job(db, settings) == 2
    first, second = receiver.wait_for(2)
    assert abs(second.at - first.at) < 0.9  # the second was sent while the first waited for its answer
    assert [d.status for d in deliveries_of(db)] == ["delivered", "delivered"]


def test_while_a_slow_partner_is_waited_on_notify_handles_events(
    api: Api, db: Database, settings: Settings, receiver: Receiver
) -> None:
    """The job sends with no transaction open: on SQLite, notify's write lock is free, so the inbox
    handles an event (and queues its deliveries) while a partner takes its time to answer."""
    register(api, "bank", receiver.url)
    queue(db, routed(BANK))
    receiver.answer(204, delay=1.5)
    counts: list[int] = []
    job = threading.Thread(target=lambda: counts.append(run_job(db, settings)))
    job.start()
    try:
        receiver.wait_for(1)  # the request is out; the partner has not answered yet
        started = time.monotonic()
        assert deliver(settings, routed(BANK)) is Outcome.HANDLED
        assert time.monotonic() - started < 1.0
        assert job.is_alive()
    finally:
        job.join(10.0)
    assert counts == [1]
    assert sorted(d.status for d in deliveries_of(db)) == ["delivered", "pending"]  # the new one: at the next run


def test_a_missing_ca_bundle_is_a_failed_attempt_not_a_failed_run(
    api: Api, db: Database, settings: Settings, receiver: Receiver
) -> None:
    register(api, "bank", receiver.url)
    queue(db, routed(BANK))
    assert run_job(db, dataclasses.replace(settings, webhook_ca_bundle="/nonexistent/ca.pem")) == 1
    [delivery] = deliveries_of(db)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error


def test_a_timeout_is_an_attempt_without_an_answer(
    api: Api, db: Database, settings: Settings, receiver: Receiver
) -> None:
    register(api, "bank", receiver.url)
    queue(db, routed(BANK))
    receiver.answer(204, delay=0.8)
    run_job(db, dataclasses.replace(settings, webhook_timeout_seconds=0.3))
    [delivery] = deliveries_of(db)
    assert (delivery.status, delivery.last_status_code) == ("pending", None)
    assert "timeout" in (delivery.last_error or "")


def test_a_partner_trickling_its_answer_never_holds_the_run(
    api: Api, db: Database, settings: Settings, receiver: Receiver
) -> None:
    """requests' timeout bounds each read, not the exchange: a partner sending a header line every
    half second is given up after the timeout, wall clock, and the honest partner's delivery of the
    same run is recorded."""
    import socket
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(receiver.ca_file.parent / "server.pem", receiver.ca_file.parent / "server.key")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    stop = threading.Event()

    def trickle() -> None:
        connection, _ = listener.accept()
        with context.wrap_socket(connection, server_side=True) as tls:
            tls.recv(65536)
            tls.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(0.5):
                try:
                    tls.sendall(b"X-Slow: yes\r\n")
                except OSError:
                    return

    threading.Thread(target=trickle, daemon=True).start()
    try:
        slow = register(api, "bank", f"https://127.0.0.1:{port}/slow")
        honest = register(api, "bank2", receiver.url)
        queue(db, routed(BANK, BANK2))
        started = time.monotonic()
        assert run_job(db, settings) == 2
        assert time.monotonic() - started < settings.webhook_timeout_seconds + 3
        (given_up,) = deliveries_of(db, slow["id"])
        assert given_up.status == "pending" and given_up.attempts == 1
        assert given_up.last_error is not None and given_up.last_error.startswith("timeout")
        (delivered,) = deliveries_of(db, honest["id"])
        assert delivered.status == "delivered"
    finally:
        stop.set()
        listener.close()


def test_an_attempt_sent_while_its_owner_disables_the_endpoint_is_recorded(
    api: Api, db: Database, settings: Settings, receiver: Receiver
) -> None:
    """The request went out: its answer is recorded (delivered), never lost and sent again on enabling."""
    endpoint = register(api, "bank", receiver.url)
    queue(db, routed(BANK))
    receiver.answer(200, delay=1.5)
    run = threading.Thread(target=lambda: run_job(db, settings), daemon=True)
    run.start()
    time.sleep(0.5)
    disabled = api.post(
        f"/webhooks/{endpoint['id']}/disable", {}, user="bank", **{"If-Match": f'"{endpoint["version"]}"'}
    )
    assert disabled.status_code == 200, disabled.get_json()
    run.join(10)
    (delivery,) = deliveries_of(db, endpoint["id"])
    with db.reading() as session:
        codes = list(
            session.scalars(select(WebhookAttempt.status_code).where(WebhookAttempt.delivery_id == delivery.id))
        )
    assert delivery.status == "delivered" and delivery.attempts == 1
    assert codes == [200]
