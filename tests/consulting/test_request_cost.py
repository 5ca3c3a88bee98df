"""What submitting a case costs, counted through real HTTP: the access token verified once, the
directory read once, one transaction on one pooled connection, and an answer built from what the
submission wrote (the item, the category and the clocks it started), not read back: the answer is
the case exactly as reading it shows it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.booking.test_request_cost import Cost, cost
from tests.consulting.conftest import Catalogue

__all__ = ["cost"]

MAX_STATEMENTS = {None: 14, "submit-once": 17}
"""On SQLite, with the year's counter in place, a submission took 23 statements (26 with an
``Idempotency-Key``) while its answer was read back like any case's: the item and category
again, the clocks, ratings, pauses, reasons, SLA states, meetings, and every category for the
event's names. Since: the item and category, the year's counter (read, then moved), the case, its
audit line, its two clocks, the outbox row, the business calendar (3) and the directory: 14; the
key's claim and stored answer add 3."""


def _case() -> dict[str, Any]:
    return {
        "item_id": Catalogue.contract,
        "subject": "Review our supply contract",
        "description": "Twelve pages, due next week.",
        "answers": {"contract_type": "supply", "pages": 12},
    }


@pytest.mark.parametrize("idempotency_key", [None, "submit-once"])
def test_a_submission_does_each_thing_once(api: Any, db: Any, cost: Cost, idempotency_key: str | None) -> None:
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    assert api.post("/cases", _case(), user="bob").status_code == 201  # the year's counter exists
    cost.counts.clear()
    cost.statements.clear()

    response = api.post("/cases", _case(), user="bob", **headers)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert cost["jwt"] == 1
    assert cost["directory reads"] == 1
    assert cost["transactions"] == 1
    assert cost["checkouts"] == 1
    assert cost["statements"] <= MAX_STATEMENTS[idempotency_key], "\n".join(cost.statements)
    assert not [s for s in cost.statements if s.lstrip().upper().startswith("SELECT") and "FROM categories" in s][1:]


def _settled(case: dict[str, Any]) -> dict[str, Any]:
    """The case without what the clock moves between the answer and the read (a business minute
    may pass in between)."""
    moving = ("used_minutes", "remaining_minutes", "share")
    return {**case, "sla": [{k: v for k, v in c.items() if k not in moving} for c in case["sla"]]}


@pytest.mark.parametrize("user", ["bob", "alice"])
def test_the_answer_is_the_case_as_read(api: Any, db: Any, user: str) -> None:
    """Built from what the submission wrote, the answer equals the case read back: its clocks
    (with their due moments in the business calendar), SLA state, names, actions and ETag."""
    created = api.post("/cases", {**_case(), "priority": "high"}, user=user)
    assert created.status_code == 201, created.get_json()

    read = api.get(f"/cases/{created.json['id']}", user=user)

    assert read.status_code == 200
    assert _settled(created.json) == _settled(read.json)
    assert [c["used_minutes"] for c in created.json["sla"]] == [0, 0]
    assert created.headers["ETag"] == read.headers["ETag"]
    assert created.json["sla_state"] == "running"
    assert [(c["clock"], c["target"]) for c in created.json["sla"]] == [
        ("tenant", "first_response"),
        ("tenant", "resolution"),
    ]
    assert created.json["organisation"]["name"] and created.json["meetings"] == []
