"""Journey 2, a valuation for an IP-pledge loan, over HTTP as the demo users (docs/JOURNEYS.md).

Alice's company drafts an IP-pledge application, lists a patent and submits it; the desk starts
the pre-review and asks for a valuation; consulting opens a valuation case routed to the IP
appraisal firm (Rongzhi, demo user ``ipagent``), which accepts it, records the amount with a report
attached to a message, and proposes the solution; Alice accepts it, the case closes, and finance
records the valuation and routes the application to its bank. :func:`run_failure`: the desk
cancels the case instead; the application shows the failure and the desk asks again.
"""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from services.consulting.seed import demo_pdf
from shared.clock import PARK_TZ, utcnow
from tests.journeys.driver import Driver

FINANCE = "/api/v1/finance"
CONSULTING = "/api/v1/consulting"
PATENT = "ZL202010566088.9"
VALUATION = "2600000.00"


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def _multipart(fields: dict[str, str], name: str, content: bytes) -> tuple[bytes, dict[str, str]]:
    items: list[tuple[str, Any]] = [*fields.items(), ("file", FileStorage(io.BytesIO(content), filename=name))]
    boundary, body = encode_multipart(MultiDict(items))
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def _etag(driver: Driver, user: str, path: str) -> str:
    answer = driver.call(user, "GET", path)
    answer.expect(200)
    return answer.headers["ETag"]


def _act(driver: Driver, user: str, path: str, action: str, body: dict[str, Any] | None = None) -> Any:
    """POST ``path/action`` under ``If-Match`` with the ETag just read."""
    headers = {"If-Match": _etag(driver, user, path)}
    return driver.call(user, "POST", f"{path}/{action}", json=body or {}, headers=headers).expect(200)


def application_in_pre_review(driver: Driver, purpose: str) -> str:
    """Alice's IP-pledge application, submitted with its documents and one patent, in pre-review."""
    products = driver.call("alice", "GET", f"{FINANCE}/products").expect(200)
    items = products["items"] if isinstance(products, dict) else products
    product = next(p for p in items if p["kind"] == "ip_pledge_loan")
    draft = driver.call(
        "alice",
        "POST",
        f"{FINANCE}/applications",
        json={"product_id": product["id"], "amount": "2000000.00", "term_months": 24, "purpose": purpose},
        headers=_key(),
    ).expect(201)
    application_id = str(draft["id"])
    path = f"{FINANCE}/applications/{application_id}"
    documents = driver.call("alice", "GET", f"{path}/documents").expect(200)
    for doc_type in documents["missing"]:
        body, headers = _multipart({"doc_type": doc_type}, f"{doc_type}.pdf", demo_pdf(doc_type))
        driver.call("alice", "POST", f"{path}/documents", data=body, headers={**headers, **_key()}).expect(201)
    organisation = draft["organisation"]
    today = utcnow().astimezone(PARK_TZ).date()
    patent = {
        "number": PATENT,
        "title": "A method of expanding CAR-T cells",
        "holder": organisation.get("name_zh") or organisation["name"],
        "granted_on": (today - timedelta(days=700)).isoformat(),
        "expires_on": (today + timedelta(days=3650)).isoformat(),
        "fees_paid_until": (today + timedelta(days=200)).isoformat(),
        "existing_pledges": 0,
    }
    driver.call("alice", "POST", f"{path}/patents", json=patent, headers=_key()).expect(201)
    _act(driver, "alice", path, "submit")
    assert _act(driver, "desk", path, "start-pre-review")["status"] == "pre_review"
    return application_id


def request_valuation(driver: Driver, application_id: str) -> dict[str, Any]:
    """The desk asks for a valuation; consulting's case, once finance heard it was opened."""
    path = f"{FINANCE}/applications/{application_id}"
    shown = driver.call("desk", "GET", path).expect(200)
    assert "request_valuation" in shown["valuation"]["actions"], shown["valuation"]
    etag = _etag(driver, "desk", f"{path}/valuation")
    driver.call("desk", "POST", f"{path}/valuation-request", json={}, headers={"If-Match": etag}).expect(200)

    def opened() -> dict[str, Any] | None:
        valuation = driver.call("desk", "GET", path).expect(200)["valuation"]
        return valuation if valuation["status"] == "opened" and valuation["case_id"] else None

    return driver.wait_for(opened, "finance to hear consulting opened the valuation case")


def run(driver: Driver) -> None:
    application_id = application_in_pre_review(driver, "Pledging the CAR-T expansion patent (valuation journey)")
    valuation = request_valuation(driver, application_id)
    case = f"{CONSULTING}/cases/{valuation['case_id']}"
    shown = driver.call("ipagent", "GET", case).expect(200)
    assert shown["status"] == "assigned" and shown["number"] == valuation["case_number"], shown
    _act(driver, "ipagent", case, "accept")
    _act(driver, "ipagent", case, "start")
    body, headers = _multipart({"body": "The appraisal report."}, "appraisal-report.pdf", demo_pdf("Appraisal"))
    message = driver.call("ipagent", "POST", f"{case}/messages", data=body, headers={**headers, **_key()})
    report = message.expect(201)["attachments"][0]
    early = driver.call(
        "ipagent", "POST", f"{case}/propose-solution", json={"solution": "Valued."}, headers={"If-Match": "*"}
    )
    assert early.status == 409 and early.json["type"].endswith("/rule/valuation-missing"), early.text
    recorded = driver.call(
        "ipagent",
        "POST",
        f"{case}/valuation",
        json={"amount": VALUATION, "currency": "CNY", "report_attachment_id": report["id"]},
        headers={"If-Match": _etag(driver, "ipagent", case)},
    ).expect(200)
    assert recorded["amount"] == VALUATION and recorded["report_name"] == "appraisal-report.pdf"
    _act(driver, "ipagent", case, "propose-solution", {"solution": "The patent is valued at 2.6 million yuan."})
    assert _act(driver, "alice", case, "accept-solution")["status"] == "closed"

    path = f"{FINANCE}/applications/{application_id}"

    def valued() -> dict[str, Any] | None:
        application = driver.call("desk", "GET", path).expect(200)
        return application if application["valuation"]["status"] == "valued" else None

    application = driver.wait_for(valued, "finance to record the valuation")
    assert application["valuation"]["amount"] == VALUATION
    assert application["valuation"]["report_name"] == "appraisal-report.pdf"
    assert application["status"] == "routed" and application["partner_org_ids"], application
    pledge = driver.call("alice", "GET", f"{path}/valuation").expect(200)
    assert pledge["valuation_amount"] == VALUATION and pledge["loan_to_value"] is not None


def run_failure(driver: Driver) -> None:
    application_id = application_in_pre_review(driver, "Pledging a second patent (valuation failure)")
    valuation = request_valuation(driver, application_id)
    case = f"{CONSULTING}/cases/{valuation['case_id']}"
    _act(driver, "desk", case, "cancel", {"reason": "The appraisal firm cannot take it this month."})
    path = f"{FINANCE}/applications/{application_id}"

    def failed() -> dict[str, Any] | None:
        shown = driver.call("desk", "GET", path).expect(200)["valuation"]
        return shown if shown["status"] == "failed" else None

    shown = driver.wait_for(failed, "finance to hear the valuation failed")
    assert shown["failure"] == "cancelled" and "this month" in (shown["reason"] or "")
    assert "request_valuation" in shown["actions"] and "record_valuation" in shown["actions"]
    again = request_valuation(driver, application_id)
    assert again["case_id"] != valuation["case_id"]
