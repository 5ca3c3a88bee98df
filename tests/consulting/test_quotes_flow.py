"""A paid case end to end over HTTP, with the cases' own API: litigation needs an accepted quote
before work starts; the firm quotes, the tenant rejects, the firm quotes again, the tenant
accepts, work starts; messages and files along the way; the events in order."""

from __future__ import annotations

from typing import Any

from tests.consulting.conftest import Catalogue, outbox
from tests.consulting.test_attachments import PDF, upload
from tests.consulting.test_cases_support import act, case_in, done


def quote(api: Any, case_id: str, fee: Any, user: str = "lawyer") -> dict[str, Any]:
    answer = api.post(f"/cases/{case_id}/quotes", {"fee": fee, "description": "First instance"}, user=user)
    assert answer.status_code == 201, answer.get_json()
    return dict(answer.get_json())


def answer(api: Any, case_id: str, quote_body: dict[str, Any], action: str, user: str = "bob", **body: Any) -> Any:
    return api.post(
        f"/cases/{case_id}/quotes/{quote_body['id']}/{action}",
        body or None,
        user=user,
        **{"If-Match": f'"{quote_body["version"]}"'},
    )


def test_work_on_a_paid_case_starts_once_the_tenant_accepts_a_quote(api, db):
    case = case_in(api, "accepted", item_id=Catalogue.litigation, answers={})
    refused = act(api, case, "start", "lawyer")
    assert refused.status_code == 409
    assert refused.get_json()["type"].endswith("/rule/quote-not-accepted")

    first = quote(api, case["id"], "80000.00")
    assert answer(api, case["id"], first, "reject", reason="Over our budget.").status_code == 200
    assert act(api, case, "start", "lawyer").status_code == 409  # a rejected quote is no yes

    second = quote(api, case["id"], 65000)
    written = upload(api, case["id"], "lawyer", [(PDF, "engagement letter.pdf")], body="Our engagement letter.")
    assert written.status_code == 201
    thread = api.get(f"/cases/{case['id']}/messages", user="bob").get_json()["items"]
    assert thread[-1]["attachments"][0]["filename"] == "engagement letter.pdf"
    download = api.get(thread[-1]["attachments"][0]["url"], user="bob")
    assert download.data == PDF

    accepted = answer(api, case["id"], second, "accept")
    assert accepted.status_code == 200, accepted.get_json()
    started = done(api, case, "start", "lawyer")
    assert started["status"] == "in_progress"

    quotes = api.get(f"/cases/{case['id']}/quotes", user="desk").get_json()["items"]
    assert [(q["fee"], q["status"]) for q in quotes] == [("65000.00", "accepted"), ("80000.00", "rejected")]
    types = [e["type"] for e in outbox(db) if "quote" in e["type"]]
    assert types == ["consulting.case.quoted", "consulting.case.quoted", "consulting.case.quote_accepted"]


def test_a_quote_on_a_case_the_firm_has_not_accepted_is_refused(api, db):
    case = case_in(api, "assigned", item_id=Catalogue.litigation, answers={})
    refused = api.post(f"/cases/{case['id']}/quotes", {"fee": "1000.00"}, user="lawyer")
    assert refused.status_code == 409
    assert refused.get_json()["type"].endswith("/rule/state-transition")
