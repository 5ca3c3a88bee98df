"""Access tokens revoked before they expire: refused at every door of the platform, and logged.

Real tokens from ``/api/v1/auth/token``, real changes through the admin's API, the gateway's event
``identity.access.revoked`` carried by the embedded bus to every service's kernel consumer, and
each service's own verification (shared/http/auth.py, shared/revocation.py) refusing the token:
401 problem+json in the reader's language, and a ``security.token_refused`` event with reason
``revoked`` — never the token's text. The snapshot is re-read on every request here
(``PARKHUB_REVOCATION_REFRESH_SECONDS=0``), so what is measured is the event's delivery.

A service's door (its directory) is for staff: to a tenant's valid token it answers 403 (the
token verified, the role refused), to a revoked one 401 (the token refused).
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select

from shared.bus.inbox import Outcome
from shared.http.token_refusals import EVENT
from shared.revocation import define_revocation_table
from shared.settings import SERVICES
from tests.park import Park, running_park

TOKEN = "/api/v1/auth/token"
DOORS = {**{service: f"/api/v1/{service}/directory/organisations" for service in SERVICES}, "gateway": "/api/v1/me"}
ROWS = define_revocation_table(MetaData())


@pytest.fixture
def park(seeded_platform: Path, tmp_path: Path) -> Iterator[Park]:
    yield from running_park(seeded_platform, tmp_path, PARKHUB_REVOCATION_REFRESH_SECONDS="0")


def sign_in(park: Park, username: str) -> dict[str, Any]:
    response = park.client.post(
        TOKEN, data={"grant_type": "password", "username": username, "password": "parkhub-demo"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.json)


def refresh(park: Park, refresh_token: str) -> dict[str, Any]:
    response = park.client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh_token})
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.json)


def door_answers(park: Park, token: str, *, language: str = "en") -> dict[str, Any]:
    """Each door's answer to ``token``: its status, and the problem's detail when refused."""
    answers = {}
    for door, path in DOORS.items():
        response = park.client.get(path, headers={"Authorization": f"Bearer {token}", "Accept-Language": language})
        answers[door] = response
    return answers


def assert_accepted(park: Park, token: str) -> None:
    statuses = {door: response.status_code for door, response in door_answers(park, token).items()}
    assert statuses == {**dict.fromkeys(SERVICES, 403), "gateway": 200}, statuses


def assert_revoked(park: Park, token: str, *, language: str = "en") -> None:
    for door, response in door_answers(park, token, language=language).items():
        assert response.status_code == 401, (door, response.get_data(as_text=True))
        assert response.content_type == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        expected = "The token has been revoked." if language == "en" else "令牌已被撤销"
        assert expected in response.json["detail"], (door, response.json)


def settle(park: Park) -> None:
    """The events committed so far are published and handled (bounded)."""
    assert park.platform.bus.wait_until_idle(30)


def next_second() -> None:
    """Tokens carry ``iat`` in whole seconds: one issued in the cut-off's own second is refused
    too (the conservative side), so a sign-in meant to be after a cut-off waits for the next."""
    time.sleep(1.05 - (time.time() % 1))


def user(park: Park, username: str) -> tuple[str, str]:
    """The id and the ETag of ``username``, as the admin reads them."""
    found = park.as_user("admin", "GET", "/api/v1/users", query_string={"q": username})
    assert found.status_code == 200, found.get_data(as_text=True)
    (item,) = [u for u in found.json["items"] if u["username"] == username]
    read = park.as_user("admin", "GET", f"/api/v1/users/{item['id']}")
    return item["id"], read.headers["ETag"]


def change_user(park: Park, username: str, change: dict[str, Any]) -> str:
    user_id, version = user(park, username)
    response = park.as_user("admin", "PATCH", f"/api/v1/users/{user_id}", json=change, headers={"If-Match": version})
    assert response.status_code == 200, response.get_data(as_text=True)
    return user_id


def security_events(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        record.msg
        for record in caplog.records
        if record.name == "parkhub.security" and isinstance(record.msg, dict) and record.msg.get("event") == EVENT
    ]


def revocation_rows(park: Park, service: str) -> list[tuple[Any, ...]]:
    database = importlib.import_module(f"services.{service}.worker").participant(park.platform.settings).database
    with database.reading() as session:
        return [tuple(row) for row in session.execute(select(ROWS).order_by(ROWS.c.kind, ROWS.c.key))]


def test_a_deactivated_users_token_is_refused_everywhere_and_logged_until_they_are_back(
    park: Park, caplog: pytest.LogCaptureFixture
) -> None:
    signed_in = sign_in(park, "bob")
    token = signed_in["access_token"]
    assert_accepted(park, token)

    caplog.set_level(logging.WARNING, logger="parkhub.security")
    bob_id = change_user(park, "bob", {"active": False})
    settle(park)
    assert_revoked(park, token)
    assert_revoked(park, token, language="zh-CN")

    events = [e for e in security_events(caplog) if e.get("reason") == "revoked"]
    assert len(events) == 2 * len(DOORS)
    assert {e["token_sub"] for e in events} == {f"user:{bob_id}"}
    assert {e["path"] for e in events} == set(DOORS.values())
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert token not in logged and token.split(".")[2] not in logged

    change_user(park, "bob", {"active": True})
    settle(park)
    assert_revoked(park, token)  # reactivation revokes nothing, and restores nothing
    next_second()
    assert_accepted(park, sign_in(park, "bob")["access_token"])


def test_a_token_with_roles_cut_is_refused_and_a_refreshed_one_carries_the_new_roles(park: Park) -> None:
    signed_in = sign_in(park, "alice")
    assert_accepted(park, signed_in["access_token"])
    change_user(park, "alice", {"roles": ["tenant_member"]})
    settle(park)
    assert_revoked(park, signed_in["access_token"])

    next_second()
    renewed = refresh(park, signed_in["refresh_token"])
    assert_accepted(park, renewed["access_token"])
    me = park.client.get("/api/v1/me", headers={"Authorization": f"Bearer {renewed['access_token']}"})
    assert me.json["roles"] == ["tenant_member"]


def test_logging_out_revokes_that_sessions_tokens_only(park: Park) -> None:
    laptop, phone = sign_in(park, "bob"), sign_in(park, "bob")
    renewed = refresh(park, laptop["refresh_token"])  # a token of the same sign-in, rotated
    response = park.client.post("/api/v1/auth/revoke", data={"token": renewed["refresh_token"]})
    assert response.status_code == 200
    settle(park)
    assert_revoked(park, laptop["access_token"])
    assert_revoked(park, renewed["access_token"])
    assert_accepted(park, phone["access_token"])


def test_a_replayed_refresh_token_revokes_its_sessions_access_tokens(park: Park) -> None:
    signed_in = sign_in(park, "bob")
    renewed = refresh(park, signed_in["refresh_token"])
    replayed = park.client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": signed_in["refresh_token"]}
    )
    assert replayed.status_code == 400
    settle(park)
    assert_revoked(park, renewed["access_token"])
    (row,) = [r for r in revocation_rows(park, "finance") if r[0] == "session"]
    assert row[4] == "reuse_detected"


def test_a_deactivated_api_clients_token_is_refused(park: Park) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": "shudu-bank-demo",
        "client_secret": "parkhub-demo-bank-secret",
    }
    issued = park.client.post(TOKEN, data=form)
    assert issued.status_code == 200, issued.get_data(as_text=True)
    token = issued.json["access_token"]
    before = park.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert before.status_code == 200, before.get_data(as_text=True)

    read = park.as_user("admin", "GET", "/api/v1/api-clients/shudu-bank-demo")
    response = park.as_user(
        "admin",
        "PATCH",
        "/api/v1/api-clients/shudu-bank-demo",
        json={"active": False},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    settle(park)
    assert_revoked(park, token)
    for service in SERVICES:
        ((kind, key, _not_before, _expires_at, reason),) = revocation_rows(park, service)
        assert (kind, key, reason) == ("subject", "client:shudu-bank-demo", "client_deactivated")


def test_the_event_delivered_twice_or_published_again_changes_nothing(park: Park) -> None:
    signed_in = sign_in(park, "bob")
    change_user(park, "bob", {"active": False})
    settle(park)
    rows = {service: revocation_rows(park, service) for service in SERVICES}
    assert all(len(found) == 1 for found in rows.values()), rows

    gateway = park.platform.gateway_database
    with gateway.reading() as session:
        (envelope,) = session.execute(
            select(gateway.messaging.outbox.c.envelope).where(
                gateway.messaging.outbox.c.type == "identity.access.revoked"
            )
        ).scalars()
    event = json.loads(envelope)
    for service in SERVICES:
        inbox = importlib.import_module(f"services.{service}.worker").participant(park.platform.settings).inbox
        assert inbox.deliver(event) is Outcome.DUPLICATE
        # The same revocation under a new id (published again), and an older one arriving late.
        assert inbox.deliver({**event, "id": f"{event['id'][:-4]}beef"}) is Outcome.HANDLED
        older = {**event["data"], "not_before": "2026-01-01T00:00:00+00:00", "expires_at": "2026-01-01T00:15:00+00:00"}
        assert inbox.deliver({**event, "id": f"{event['id'][:-4]}cafe", "data": older}) is Outcome.HANDLED
    assert {service: revocation_rows(park, service) for service in SERVICES} == rows
    assert_revoked(park, signed_in["access_token"])


def test_a_database_that_cannot_be_read_keeps_the_last_snapshot(park: Park, caplog: pytest.LogCaptureFixture) -> None:
    signed_in = sign_in(park, "bob")
    change_user(park, "bob", {"active": False})
    settle(park)
    assert_revoked(park, signed_in["access_token"])  # every service's snapshot now holds bob's cut-off

    booking = importlib.import_module("services.booking.worker").participant(park.platform.settings).database
    with booking.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE access_revocations RENAME TO access_revocations_away")
    caplog.set_level(logging.WARNING, logger="parkhub.auth")
    assert_revoked(park, signed_in["access_token"])
    unreadable = [
        r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == "revocations.unreadable"
    ]
    assert unreadable and {m["service"] for m in unreadable} == {"booking"}


def test_the_snapshot_is_read_once_a_period_not_once_a_request(seeded_platform: Path, tmp_path: Path) -> None:
    """With a 1 s period: many requests cost at most one read each period, and a revocation is
    refused once the period has passed (event delivery + period, the documented bound)."""
    from sqlalchemy import event as sql_event

    for park in running_park(seeded_platform, tmp_path, PARKHUB_REVOCATION_REFRESH_SECONDS="1"):
        token = sign_in(park, "bob")["access_token"]
        booking = importlib.import_module("services.booking.worker").participant(park.platform.settings).database
        reads: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if "access_revocations" in statement:
                reads.append(statement)

        sql_event.listen(booking.engine, "before_cursor_execute", count)
        path = DOORS["booking"]
        started = time.monotonic()
        for _ in range(30):
            assert park.client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 403
        elapsed = time.monotonic() - started
        assert len(reads) <= 1 + int(elapsed), (len(reads), elapsed)

        change_user(park, "bob", {"active": False})
        settle(park)
        delivered = time.monotonic()
        status = 403
        while status != 401 and time.monotonic() - delivered < 5:
            status = park.client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code
            time.sleep(0.05)
        assert status == 401
        assert time.monotonic() - delivered <= 1.5  # within the period (and a request's time)
        sql_event.remove(booking.engine, "before_cursor_execute", count)


CLIENT_GRANT = {
    "grant_type": "client_credentials",
    "client_id": "shudu-bank-demo",
    "client_secret": "parkhub-demo-bank-secret",
}


def client_token(park: Park) -> str:
    issued = park.client.post(TOKEN, data=CLIENT_GRANT)
    assert issued.status_code == 200, issued.get_data(as_text=True)
    return str(issued.json["access_token"])


def refresh_refused(park: Park, refresh_token: str) -> bool:
    response = park.client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh_token})
    return response.status_code == 400 and response.json["error"] == "invalid_grant"


def set_status(park: Park, organisation_id: str, status: str) -> None:
    read = park.as_user("admin", "GET", f"/api/v1/organisations/{organisation_id}")
    response = park.as_user(
        "admin",
        "PATCH",
        f"/api/v1/organisations/{organisation_id}",
        json={"status": status},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def me(park: Park, token: str) -> dict[str, Any]:
    response = park.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.json)


def assert_logged_without_the_tokens(caplog: pytest.LogCaptureFixture, tokens: list[str], subjects: set[str]) -> None:
    """Each refused token is one ``revoked`` security event per door and language, naming its
    subject, and no log record holds a token's text or signature."""
    events = [e for e in security_events(caplog) if e.get("reason") == "revoked"]
    assert len(events) == 2 * len(DOORS) * len(tokens)
    assert {e["token_sub"] for e in events} == subjects
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for token in tokens:
        assert token not in logged and token.split(".")[2] not in logged


def assert_redelivery_changes_nothing(park: Park, token: str) -> None:
    """Every ``identity.access.revoked`` the gateway published, delivered again to every service
    (dropped by the inbox), published again under a new id, and arriving late with an older
    cut-off, leaves every service's rows as they were, and ``token`` refused."""
    settle(park)
    rows = {service: revocation_rows(park, service) for service in SERVICES}
    gateway = park.platform.gateway_database
    outbox = gateway.messaging.outbox
    with gateway.reading() as session:
        envelopes = session.execute(
            select(outbox.c.envelope).where(outbox.c.type == "identity.access.revoked")
        ).scalars()
        events = [json.loads(envelope) for envelope in envelopes]
    assert events
    for service in SERVICES:
        inbox = importlib.import_module(f"services.{service}.worker").participant(park.platform.settings).inbox
        for event in events:
            assert inbox.deliver(event) is Outcome.DUPLICATE
            assert inbox.deliver({**event, "id": f"{event['id'][:-4]}beef"}) is Outcome.HANDLED
            older = {
                **event["data"],
                "not_before": "2026-01-01T00:00:00+00:00",
                "expires_at": "2026-01-01T00:15:00+00:00",
            }
            assert inbox.deliver({**event, "id": f"{event['id'][:-4]}cafe", "data": older}) is Outcome.HANDLED
    assert {service: revocation_rows(park, service) for service in SERVICES} == rows
    assert_revoked(park, token)


def test_suspending_an_organisation_revokes_its_peoples_and_clients_tokens_until_they_sign_in_again(
    park: Park, caplog: pytest.LogCaptureFixture
) -> None:
    bank = sign_in(park, "bank")  # Shudu Bank's person; its API client is shudu-bank-demo
    untouched = sign_in(park, "bank")  # a sign-in whose refresh token nobody tries while suspended
    machine = client_token(park)
    others = {name: sign_in(park, name)["access_token"] for name in ("banker", "carol")}  # other organisations
    bank_me = me(park, bank["access_token"])
    bank_org, bank_sub = bank_me["organisation"]["id"], bank_me["subject"]
    assert_accepted(park, bank["access_token"])
    assert me(park, machine)["subject"] == "client:shudu-bank-demo"

    caplog.set_level(logging.WARNING, logger="parkhub.security")
    set_status(park, bank_org, "suspended")
    settle(park)
    for token in (bank["access_token"], machine):
        assert_revoked(park, token)
        assert_revoked(park, token, language="zh-CN")
    assert_logged_without_the_tokens(caplog, [bank["access_token"], machine], {bank_sub, "client:shudu-bank-demo"})
    for token in others.values():
        assert_accepted(park, token)
    assert refresh_refused(park, bank["refresh_token"])
    for service in SERVICES:
        found = {(kind, key, reason) for kind, key, _nb, _exp, reason in revocation_rows(park, service)}
        assert found == {
            ("subject", bank_sub, "organisation_suspended"),
            ("subject", "client:shudu-bank-demo", "organisation_suspended"),
        }
    assert_redelivery_changes_nothing(park, machine)

    set_status(park, bank_org, "active")
    settle(park)
    for token in (bank["access_token"], machine):
        assert_revoked(park, token)  # reinstating restores nothing...
    # ...not even the sign-ins the suspension ended, though nobody tried them while it lasted
    assert refresh_refused(park, untouched["refresh_token"])
    assert refresh_refused(park, bank["refresh_token"])
    next_second()
    assert_accepted(park, sign_in(park, "bank")["access_token"])  # people sign in again
    assert me(park, client_token(park))["subject"] == "client:shudu-bank-demo"


def change_password(park: Park, actor: str, username: str, password: str) -> None:
    user_id, version = user(park, username)
    response = park.as_user(
        actor, "PATCH", f"/api/v1/users/{user_id}", json={"password": password}, headers={"If-Match": version}
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def password_refused(park: Park, username: str, password: str) -> bool:
    form = {"grant_type": "password", "username": username, "password": password}
    response = park.client.post(TOKEN, data=form)
    return response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_a_new_password_revokes_every_token_and_sign_in_of_that_person_only(
    park: Park, caplog: pytest.LogCaptureFixture
) -> None:
    laptop, phone, colleague = sign_in(park, "bob"), sign_in(park, "bob"), sign_in(park, "alice")
    renewed = refresh(park, laptop["refresh_token"])
    bob_sub = me(park, phone["access_token"])["subject"]

    caplog.set_level(logging.WARNING, logger="parkhub.security")
    change_password(park, "admin", "bob", "a-brand-new-password")
    settle(park)
    for token in (renewed["access_token"], phone["access_token"]):
        assert_revoked(park, token)
        assert_revoked(park, token, language="zh-CN")
    assert_logged_without_the_tokens(caplog, [renewed["access_token"], phone["access_token"]], {bob_sub})
    assert refresh_refused(park, renewed["refresh_token"]) and refresh_refused(park, phone["refresh_token"])
    assert_accepted(park, colleague["access_token"])  # the same organisation's other people go on
    assert refresh(park, colleague["refresh_token"])["access_token"]
    for service in SERVICES:
        ((kind, key, _nb, _exp, reason),) = revocation_rows(park, service)
        assert (kind, key, reason) == ("subject", bob_sub, "password_changed")
    assert_redelivery_changes_nothing(park, phone["access_token"])

    assert password_refused(park, "bob", "parkhub-demo")
    next_second()
    response = park.client.post(
        TOKEN, data={"grant_type": "password", "username": "bob", "password": "a-brand-new-password"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_accepted(park, response.json["access_token"])
    assert_accepted(park, refresh(park, response.json["refresh_token"])["access_token"])


def test_a_person_setting_their_own_password_ends_their_own_session_too(park: Park) -> None:
    """Documented choice (docs/identity.md, "Revocation"): the gateway has no self-service route
    that knows the current session, so a tenant admin changing their own password through
    ``/users`` signs in again with it like everyone else."""
    own = sign_in(park, "alice")
    user_id, version = user(park, "alice")
    response = park.client.patch(
        f"/api/v1/users/{user_id}",
        json={"password": "alices-new-password"},
        headers={"Authorization": f"Bearer {own['access_token']}", "If-Match": version},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    settle(park)
    assert_revoked(park, own["access_token"])
    assert refresh_refused(park, own["refresh_token"])
    next_second()
    signed_in = park.client.post(
        TOKEN, data={"grant_type": "password", "username": "alice", "password": "alices-new-password"}
    )
    assert signed_in.status_code == 200, signed_in.get_data(as_text=True)
    assert_accepted(park, signed_in.json["access_token"])
