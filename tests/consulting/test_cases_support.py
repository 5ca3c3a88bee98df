"""Helpers of the cases' tests (no tests here): submitting a case over HTTP and driving it
through the lifecycle as the people whose turn it is."""

from __future__ import annotations

from typing import Any

from tests.booking.conftest import Api
from tests.consulting.conftest import LAW, Catalogue

CONTRACT_ANSWERS = {"contract_type": "labour", "pages": 12}


def submit(api: Api, user: str = "bob", **fields: Any) -> Any:
    """POST /cases for the contract review item (answers valid unless given)."""
    body = {
        "item_id": fields.pop("item_id", Catalogue.contract),
        "subject": fields.pop("subject", "Review of a labour contract"),
        "description": fields.pop("description", "Twelve pages, Chinese and English."),
        "answers": fields.pop("answers", CONTRACT_ANSWERS),
        **fields,
    }
    return api.post("/cases", body, user=user)


def submitted(api: Api, user: str = "bob", **fields: Any) -> dict[str, Any]:
    response = submit(api, user, **fields)
    assert response.status_code == 201, response.json
    return dict(response.json)


def act(api: Api, case: dict[str, Any], action: str, user: str, body: Any = None, **headers: str) -> Any:
    """POST /cases/{id}/<action> with If-Match of ``case``'s version (unless headers say)."""
    headers = {"If-Match": f'"{case["version"]}"', **headers}
    return api.post(f"/cases/{case['id']}/{action.replace('_', '-')}", body, user=user, **headers)


def done(api: Api, case: dict[str, Any], action: str, user: str, body: Any = None) -> dict[str, Any]:
    response = act(api, case, action, user, body)
    assert response.status_code == 200, (action, response.json)
    return dict(response.json)


STEPS: dict[str, tuple[str, str, Any]] = {
    "triaged": ("triage", "desk", None),
    "assigned": ("assign", "desk", {"firm_org_id": LAW}),
    "accepted": ("accept", "lawyer", None),
    "in_progress": ("start", "lawyer", None),
    "solution_proposed": ("propose_solution", "lawyer", {"solution": "Clause 7 needs a cap on damages."}),
    "closed": ("accept_solution", "bob", None),
}
PATH = ("triaged", "assigned", "accepted", "in_progress", "solution_proposed", "closed")


def case_in(api: Api, status: str, user: str = "bob", **fields: Any) -> dict[str, Any]:
    """A contract review case (manual routing, no quote needed) of ``user`` brought to
    ``status`` by the desk, the law firm LAW and the submitter; also ``waiting_on_tenant`` and
    ``cancelled``."""
    case = submitted(api, user, **fields)
    if status == "cancelled":
        return done(api, case, "cancel", user)
    target = "in_progress" if status == "waiting_on_tenant" else status
    for step in PATH[: PATH.index(target) + 1] if target != "submitted" else ():
        action, actor, body = STEPS[step]
        case = done(api, case, action, user if actor == "bob" else actor, body)
    if status == "waiting_on_tenant":
        case = done(api, case, "wait", "lawyer", {"reason": "Send the signed annex."})
    assert case["status"] == status
    return case
