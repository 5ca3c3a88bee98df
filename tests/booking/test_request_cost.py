"""What one reservation create costs, counted through real HTTP: the access token is verified
once, the organisation directory read once, and everything happens in one transaction on one
pooled connection, with and without ``Idempotency-Key``; the statement count stays small."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from shared.audit import SEAL_OPTION
from shared.http.auth import KeySet
from shared.principal import Principal
from tests.booking.conftest import outbox
from tests.booking.factories import QuotaRuleFactory, SpaceFactory

MAX_STATEMENTS = 17
"""On SQLite a create took 16 statements before the single request transaction (21 with a key), then
12 (15); since the quota counter is written last, 14 (17): the savepoint around the event, the
audit line and the counter (rolled back to re-price exactly when a concurrent booking spent the
same free hours) costs two statements, the counter's unlocked read replaced its upsert."""


class Cost:
    """Counts what a request does to the database and the token verifier."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.statements: list[str] = []

    def __getitem__(self, name: str) -> int:
        return self.counts[name]


@pytest.fixture
def cost(db: Any, app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cost]:
    hold_revocations(app, monkeypatch)
    counted = Cost()
    key = KeySet.key
    has_any = Principal.has_any

    def counting_key(self: KeySet, kid: str | None) -> Any:
        counted.counts["jwt"] += 1  # flask-jwt-extended asks for the key once per decode
        return key(self, kid)

    def counting_has_any(self: Principal, roles: Any) -> bool:
        counted.counts["role checks"] += 1
        return has_any(self, roles)

    def statement(conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if conn.get_execution_options().get(SEAL_OPTION):
            counted.counts["seal statements"] += 1  # the audit trail's seal, after the commit
            return
        counted.statements.append(sql)
        counted.counts["statements"] += 1
        if "directory_organisations" in sql:
            counted.counts["directory reads"] += 1

    def begin(conn: Any) -> None:
        counted.counts["seals" if conn.get_execution_options().get(SEAL_OPTION) else "transactions"] += 1

    def checkout(*_args: Any) -> None:
        counted.counts["checkouts"] += 1

    monkeypatch.setattr(KeySet, "key", counting_key)
    monkeypatch.setattr(Principal, "has_any", counting_has_any)
    engine = db.engine
    listeners = (
        (engine, "before_cursor_execute", statement),
        (engine, "begin", begin),
        (engine.pool, "checkout", checkout),
    )
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    yield counted
    for target, name, fn in listeners:
        event.remove(target, name, fn)


def hold_revocations(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Load the app's snapshot of revoked tokens now and keep it for the test: it is reloaded once
    a period (``PARKHUB_REVOCATION_REFRESH_SECONDS``), not once a request
    (tests/security/test_revocation.py counts that), so a reload falling into a measured request
    would be the clock's doing, not the request's cost."""
    revocations = app.extensions["parkhub.revocations"]
    monkeypatch.setattr(revocations, "refresh_seconds", 3600.0)
    monkeypatch.setattr(revocations, "_loaded_at", None)
    revocations.refuses({})


def _body(space_id: str, slot: Any) -> dict[str, Any]:
    start, end = slot(3, "10:00", "11:00")
    return {"space_id": space_id, "start": start.isoformat(), "end": end.isoformat(), "title": "Board", "attendees": 4}


@pytest.mark.parametrize("idempotency_key", [None, "create-once"])
def test_a_create_does_each_thing_once(api, db, slot, cost, idempotency_key):
    space = SpaceFactory()
    QuotaRuleFactory(org_id="*", space_kind=space.kind, free_hours_per_month=10)
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    cost.counts.clear()
    cost.statements.clear()

    response = api.post("/reservations", _body(space.id, slot), **headers)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["quota_minutes"] == 60
    assert cost["jwt"] == 1
    # The view's guard looks at the caller's roles once; the answer's can_manage (the reschedule
    # row, whose organiser is someone in a role that books) once more. No handler asks again.
    assert cost["role checks"] == 2
    assert cost["directory reads"] == 1
    assert cost["transactions"] == 1
    assert cost["checkouts"] == 1
    assert cost["statements"] <= MAX_STATEMENTS, "\n".join(cost.statements)
    # Then the audit line's seal: a short transaction on the same connection (shared/audit.py):
    # BEGIN IMMEDIATE, the chain's head, the unsealed rows, their seal, the head moved.
    assert (cost["seals"], cost["seal statements"]) == (1, 5)


def test_a_replay_costs_one_transaction_and_no_handler(api, db, slot, cost):
    space = SpaceFactory()
    first = api.post("/reservations", _body(space.id, slot), **{"Idempotency-Key": "again"})
    cost.counts.clear()
    again = api.post("/reservations", _body(space.id, slot), **{"Idempotency-Key": "again"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert cost["jwt"] == 1
    assert cost["transactions"] == 1
    assert cost["directory reads"] == 0


class _Broken:
    def __iter__(self):
        raise RuntimeError("storing the answer failed")


def test_the_answer_and_the_changes_commit_together(api, db, slot, monkeypatch):
    """If the idempotent answer cannot be stored, the reservation is not kept either: the key
    never points at nothing, and a retry with the same key books once."""
    import shared.http.idempotency as idempotency

    space = SpaceFactory()
    body = _body(space.id, slot)
    monkeypatch.setattr(idempotency, "REPLAYED_HEADERS", _Broken())
    failed = api.post("/reservations", body, **{"Idempotency-Key": "atomic"})
    assert failed.status_code == 500
    assert outbox(db) == []
    monkeypatch.undo()
    retried = api.post("/reservations", body, **{"Idempotency-Key": "atomic"})
    assert retried.status_code == 201, retried.json
    assert "Idempotent-Replayed" not in retried.headers
    assert len(outbox(db)) == 1


def test_a_refused_request_leaves_its_key_free(api, db, slot):
    space = SpaceFactory()
    taken = api.post("/reservations", _body(space.id, slot), user="carol")
    assert taken.status_code == 201
    refused = api.post("/reservations", _body(space.id, slot), **{"Idempotency-Key": "fix-and-retry"})
    assert refused.status_code == 409
    start, end = slot(4, "10:00", "11:00")
    fixed = {**_body(space.id, slot), "start": start.isoformat(), "end": end.isoformat()}
    created = api.post("/reservations", fixed, **{"Idempotency-Key": "fix-and-retry"})
    assert created.status_code == 201  # not 422: the refused request kept no claim on the key
    again = api.post("/reservations", fixed, **{"Idempotency-Key": "fix-and-retry"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == created.json["id"]


def test_a_series_create_is_one_transaction_answered_from_what_it_wrote(api, db, slot, cost):
    """The series' version in the answer is the one its transaction wrote: no second transaction
    reads the series (and all its occurrences) back."""
    space = SpaceFactory()
    cost.counts.clear()
    response = api.post("/series", {**_body(space.id, slot), "rrule": "FREQ=WEEKLY;COUNT=3"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert cost["transactions"] == 1
    assert cost["checkouts"] == 1
    series = api.get(f"/series/{response.json['series_id']}")
    assert response.json["version"] == series.json["version"]
    assert response.headers["ETag"] == series.headers["ETag"]
    assert [o["outcome"] for o in response.json["occurrences"]] == ["booked"] * 3


def test_space_and_closure_writes_answer_from_what_they_wrote(api, db, slot, cost):
    """Creating or changing a space and adding a closure are one transaction each: the answer is
    built from what the handler wrote, not read back in a second one (before: two, and the
    closure's read-back listed every closure of the space to find the new one)."""
    from tests.booking.test_spaces import NEW_SPACE

    for key in (None, "space-once"):
        cost.counts.clear()
        headers = {"Idempotency-Key": key} if key else {}
        body = {**NEW_SPACE, "code": f"c2-{key or 'plain'}"}
        created = api.post("/spaces", body, user="admin", **headers)
        assert created.status_code == 201, created.get_json()
        assert (cost["transactions"], cost["checkouts"]) == (1, 1), key
        assert created.json["code"] == body["code"] and created.json["version"] == 1
        assert created.headers["ETag"] == '"1"'
        assert created.headers["Location"].endswith(created.json["id"])

    space = created.json
    cost.counts.clear()
    changed = api.patch(f"/spaces/{space['id']}", {"capacity": 18}, **{"If-Match": '"1"'})
    assert changed.status_code == 200, changed.get_json()
    assert (cost["transactions"], cost["checkouts"]) == (1, 1)
    assert (changed.json["capacity"], changed.json["version"], changed.headers["ETag"]) == (18, 2, '"2"')

    start, end = slot(5, "08:00", "12:00")
    cost.counts.clear()
    closed = api.post(
        f"/spaces/{space['id']}/closures",
        {"start": start.isoformat(), "end": end.isoformat(), "reason": "Projector replaced"},
        user="admin",
    )
    assert closed.status_code == 201, closed.get_json()
    assert (cost["transactions"], cost["checkouts"]) == (1, 1)
    assert closed.json["reason"] == "Projector replaced"
    assert closed.json["start"] == start.isoformat() and closed.json["end"] == end.isoformat()
    assert [c["id"] for c in api.get(f"/spaces/{space['id']}/closures").json["items"]] == [closed.json["id"]]
