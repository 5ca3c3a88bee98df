"""What drafting and submitting an application cost, counted through real HTTP: the access token
verified once, one transaction on one pooled connection, the product and the company profile read
once each, and an answer built from what the handler holds (a new draft has no review and no
document), equal to the application as reading it shows it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.booking.test_request_cost import Cost, cost
from tests.finance.test_applications import LOAN, act, add_documents, draft

__all__ = ["cost"]

MAX_DRAFT_STATEMENTS = {None: 7, "draft-once": 10}
"""On SQLite, with the year's counter in place, a draft took 10 statements (13 with an
``Idempotency-Key``): its answer read the product again, counted its documents and loaded its
reviews. Since: the product, the year's counter (read, then moved), the application, its audit
line and the directory: 7; the key's claim and stored answer add 3."""

MAX_SUBMIT_STATEMENTS = 11
"""A submission took 13 statements: the product and the company profile were read twice (the
identity map keeps only what someone holds). Since: the application (locked) and its reviews, the
product, the profile, the document types, the change, its audit line, the outbox row, the
documents' count and the directory: 11 at most (SQLite: the outbox has no NOTIFY)."""


def _reads(cost: Cost, table: str) -> int:
    return sum(1 for s in cost.statements if s.lstrip().upper().startswith("SELECT") and f"FROM {table}" in s)


@pytest.mark.parametrize("idempotency_key", [None, "draft-once"])
def test_a_draft_does_each_thing_once(api: Any, db: Any, cost: Cost, idempotency_key: str | None) -> None:
    assert draft(api).status_code == 201  # the year's counter exists
    cost.counts.clear()
    cost.statements.clear()

    response = api.post(
        "/applications", dict(LOAN), **({"Idempotency-Key": idempotency_key} if idempotency_key else {})
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    assert (cost["jwt"], cost["transactions"], cost["checkouts"]) == (1, 1, 1)
    assert cost["statements"] <= MAX_DRAFT_STATEMENTS[idempotency_key], "\n".join(cost.statements)
    assert _reads(cost, "products") == 1
    read = api.get(f"/applications/{response.json['id']}")
    assert (response.json, response.headers["ETag"]) == (read.json, read.headers["ETag"])


def test_a_submission_does_each_thing_once(api: Any, db: Any, cost: Cost) -> None:
    created = draft(api).json
    add_documents(db, created["id"], "business_licence", "financial_statements")
    cost.counts.clear()
    cost.statements.clear()

    response = act(api, created, "submit", "alice")

    assert response.status_code == 200, response.get_data(as_text=True)
    assert (cost["jwt"], cost["transactions"], cost["checkouts"]) == (1, 1, 1)
    assert cost["statements"] <= MAX_SUBMIT_STATEMENTS, "\n".join(cost.statements)
    assert (_reads(cost, "products"), _reads(cost, "company_profiles")) == (1, 1)
    read = api.get(f"/applications/{created['id']}")
    assert (response.json, response.headers["ETag"]) == (read.json, read.headers["ETag"])
    assert response.json["status"] == "submitted" and response.json["documents_count"] == 2
