"""The pipeline report over HTTP: per product and per partner, counts and amounts per state, the
approval rate, the median days to the first offer, the amounts paid out; JSON and CSV in the
reader's language; the park admin's only."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.finance.models import Application, Review
from shared.clock import PARK_TZ
from shared.db import Database
from tests.booking.conftest import BANK, ORG_B, Api
from tests.finance.conftest import BANK2, BUREAU, Products
from tests.finance.test_payouts import approve, record, sign
from tests.finance.test_payouts_rig import accepted_application

TODAY = datetime.now(PARK_TZ).date()
PERIOD = {"from": (TODAY - timedelta(days=30)).isoformat(), "to": TODAY.isoformat()}
ZH = {"Accept-Language": "zh"}


def routed_application(db: Database, amount: str) -> str:
    """A loan application of ORG_B routed to BANK (still reviewing) and BANK2 (declined)."""
    app_id = str(uuid.uuid4())
    submitted = datetime.now(UTC) - timedelta(days=5)
    with db.unit_of_work() as uow:
        uow.session.add(
            Application(
                id=app_id,
                number="F-2026-80001",
                org_id=ORG_B,
                applicant="user:carol",
                product_id=Products.loan,
                product_kind="guaranteed_loan",
                status="routed",
                amount=Decimal(amount),
                currency="CNY",
                term_months=12,
                submitted_at=submitted,
                created_at=submitted,
                updated_at=submitted,
            )
        )
        uow.session.flush()
        for partner, status in ((BANK, "under_review"), (BANK2, "declined")):
            uow.session.add(
                Review(
                    id=str(uuid.uuid4()),
                    application_id=app_id,
                    partner_org_id=partner,
                    status=status,
                    routed_by="user:desk",
                    routed_at=submitted,
                    updated_at=submitted,
                )
            )
        uow.commit()
    return app_id


def pipeline(api: Api, db: Database) -> None:
    """A paid-out tranche on an accepted loan, a routed loan, a subsidy, and an old loan outside
    the period."""
    loan = accepted_application(db, amount="500000.00", accepted="400000.00", offered_after=timedelta(days=3))
    sign(api, loan)
    tranche = record(api, loan, "150000.00").json
    assert approve(api, loan, tranche, "desk").status_code == 200
    routed_application(db, "200000.00")
    accepted_application(db, product=Products.subsidy, amount="80000.00", offered_after=timedelta(hours=36))
    accepted_application(db, submitted_at=datetime.now(UTC) - timedelta(days=60))


def groups(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.json
    return {g["key"]: g for g in response.json["groups"]}


def by_status(group: dict[str, Any]) -> dict[str, tuple[int, str]]:
    return {s["status"]: (s["count"], s["amount"]) for s in group["by_status"] if s["count"]}


def test_per_product(api: Api, db: Database) -> None:
    pipeline(api, db)
    report = groups(api.get("/reports/pipeline", user="admin", query_string=PERIOD))
    assert set(report) == {Products.loan, Products.subsidy}
    loan = report[Products.loan]
    assert loan["display_name"] == "SME guaranteed loan"
    assert (loan["applications"], loan["amount_requested"]) == (2, "700000.00")
    assert by_status(loan) == {"disbursing": (1, "500000.00"), "routed": (1, "200000.00")}
    # BANK's offer and BANK2's decline on the first; BANK2's decline on the second (BANK still reviewing).
    assert (loan["reviews_decided"], loan["offers_made"], loan["approval_rate"]) == (3, 1, "0.3333")
    assert loan["median_days_to_offer"] == "3.0"
    assert loan["disbursed"] == "150000.00"
    subsidy = report[Products.subsidy]
    assert (subsidy["applications"], subsidy["approval_rate"], subsidy["median_days_to_offer"]) == (1, "1.0000", "1.5")
    assert (subsidy["disbursed"], by_status(subsidy)) == ("0.00", {"accepted": (1, "80000.00")})


def test_per_partner(api: Api, db: Database) -> None:
    pipeline(api, db)
    query = {**PERIOD, "group_by": "partner"}
    report = groups(api.get("/reports/pipeline", user="admin", query_string=query))
    assert set(report) == {BANK, BANK2, BUREAU}
    bank, bank2 = report[BANK], report[BANK2]
    assert (bank["applications"], bank["reviews_decided"], bank["offers_made"]) == (2, 1, 1)
    assert (bank["approval_rate"], bank["median_days_to_offer"], bank["disbursed"]) == ("1.0000", "3.0", "150000.00")
    assert (bank2["applications"], bank2["reviews_decided"], bank2["offers_made"]) == (2, 2, 0)
    assert (bank2["approval_rate"], bank2["median_days_to_offer"], bank2["disbursed"]) == ("0.0000", None, "0.00")
    zh = groups(api.get("/reports/pipeline", user="admin", query_string=query, headers=ZH))
    assert zh[BANK]["display_name"] == "蜀都商业银行"


def test_an_empty_period(api: Api, db: Database) -> None:
    pipeline(api, db)
    old = {"from": "2020-01-01", "to": "2020-12-31"}
    response = api.get("/reports/pipeline", user="admin", query_string=old)
    assert response.status_code == 200 and response.json["groups"] == []
    assert response.json["from"] == "2020-01-01" and response.json["group_by"] == "product"


def test_the_csv_in_the_readers_language(api: Api, db: Database) -> None:
    pipeline(api, db)
    response = api.get("/reports/pipeline.csv", user="admin", query_string=PERIOD)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    loan = next(r for r in rows if r["Group"] == Products.loan)
    assert loan["Name"] == "SME guaranteed loan" and loan["Applications submitted"] == "2"
    assert loan["Approval rate"] == "0.3333" and loan["Disbursed (yuan)"] == "150000.00"
    keys = api.get("/reports/pipeline.csv", user="admin", query_string={**PERIOD, "header": "keys"})
    head = next(csv.reader(io.StringIO(keys.data.decode("utf-8-sig"))))
    assert head[:4] == ["group", "group_name", "applications", "amount_requested"]
    assert "count_disbursing" in head and "amount_disbursing" in head and "count_draft" not in head


def test_the_csv_in_chinese(api: Api, db: Database) -> None:
    pipeline(api, db)
    response = api.get("/reports/pipeline.csv", user="admin", query_string=PERIOD, headers=ZH)
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    loan = next(r for r in rows if r["分组"] == Products.loan)
    assert loan["名称"] == "中小企业担保贷款" and loan["已提交申请数"] == "2"


def test_only_the_park_admin_reads_it(api: Api, db: Database) -> None:
    for user in ("alice", "carol", "bank", "bureau", "desk"):
        response = api.get("/reports/pipeline", user=user, query_string=PERIOD)
        assert response.status_code == 403 and response.json["type"].endswith("/forbidden"), user
    assert api.get("/reports/pipeline.csv", user="desk", query_string=PERIOD).status_code == 403
    assert api.get("/reports/pipeline", user=None, query_string=PERIOD).status_code == 401


def test_bad_parameters_are_refused(api: Api, db: Database) -> None:
    def refused(query: dict[str, str], status: int, code: str) -> dict[str, Any]:
        response = api.get("/reports/pipeline", user="admin", query_string=query)
        assert response.status_code == status and response.json["type"].endswith(f"/{code}"), response.json
        return dict(response.json)

    refused({**PERIOD, "colour": "red"}, 400, "unknown-parameter")
    refused({"to": TODAY.isoformat()}, 422, "validation-failed")
    refused({**PERIOD, "group_by": "bank"}, 422, "validation-failed")
    refused({"from": TODAY.isoformat(), "to": (TODAY - timedelta(days=1)).isoformat()}, 422, "rule/end-after-start")
    refused({"from": "2024-01-01", "to": "2025-06-01"}, 422, "rule/report-period")
    zh = api.get("/reports/pipeline", user="admin", query_string={"from": "2024-01-01", "to": "2025-06-01"}, headers=ZH)
    assert zh.json["detail"] == "一份报表最多涵盖一年。"
