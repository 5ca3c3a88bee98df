"""Who may call is settled before what was sent: an anonymous request is a 401 and a forbidden
one a 403 before its body is validated (a 422 would list the fields of an endpoint the caller
may not use) and before an ``Idempotency-Key`` is claimed (no transaction, no claim row)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.booking.factories import SpaceFactory

WRITES = [
    ("post", "/reservations"),
    ("post", "/series"),
    ("post", "/spaces"),
    ("patch", "/spaces/{space}"),
    ("post", "/spaces/{space}/closures"),
    ("put", "/quotas"),
    ("post", "/reservations/00000000-0000-4000-8000-000000000001/reschedule"),
    ("post", "/reservations/00000000-0000-4000-8000-000000000001/reject"),
    ("put", "/reservations/00000000-0000-4000-8000-000000000001/visitors"),
    ("post", "/series/00000000-0000-4000-8000-000000000001/move"),
]
ADMIN_ONLY = [
    ("post", "/spaces"),
    ("patch", "/spaces/{space}"),
    ("post", "/spaces/{space}/closures"),
    ("put", "/quotas"),
]


def _claims(db) -> int:
    table = db.messaging.idempotency_keys
    with db.reading() as session:
        return session.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.mark.parametrize("key", [None, "k-anon"])
@pytest.mark.parametrize(("method", "path"), WRITES)
def test_an_anonymous_write_with_a_bad_body_is_a_401(api, db, method, path, key):
    space = SpaceFactory()
    headers = {"Idempotency-Key": key} if key else {}
    response = getattr(api, method)(path.format(space=space.id), {}, user=None, **headers)
    assert response.status_code == 401, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert "errors" not in response.json
    assert _claims(db) == 0


@pytest.mark.parametrize(("method", "path"), ADMIN_ONLY)
def test_a_tenant_writing_what_only_park_admin_may_is_a_403_before_the_body(api, db, method, path):
    space = SpaceFactory()
    response = getattr(api, method)(path.format(space=space.id), {}, user="alice", **{"Idempotency-Key": "k-alice"})
    assert response.status_code == 403, response.get_json()
    assert "errors" not in response.json
    assert _claims(db) == 0


def test_a_partner_booking_is_a_403_before_the_body_and_claims_no_key(api, db):
    response = api.post("/reservations", {"title": ""}, user="bank", **{"Idempotency-Key": "k-bank"})
    assert response.status_code == 403, response.get_json()
    assert _claims(db) == 0


def test_staff_history_is_refused_to_a_tenant(api):
    space = SpaceFactory()
    assert api.get(f"/spaces/{space.id}/history", user="alice").status_code == 403
    assert api.get("/quotas/history", user="bob").status_code == 403
    assert api.get("/quotas/history", user="desk").status_code == 200
