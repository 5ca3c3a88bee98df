"""Finance's permission matrix over every endpoint the app serves, tried by every kind of user.

:data:`MATRIX` has one row per route and method of ``app.url_map`` under /api/v1/finance: who may
(and the status they get), who is refused with a 403 (a role the row can never admit, or a
partner or tenant that sees the application but is not the one the row names) and, for everybody
else, a 404 (the thing exists but they may not know it). The test walks the url_map: a route the
matrix lacks, or a row whose route is gone, fails it.

Each row names the stage its path's objects are built in (``on``), fresh for the row: ORG_A's
loan applied for by alice over HTTP, routed to BANK and BANK2 (never to the guarantee company),
both banks reviewing and offering; a subsidy routed to the bureau; an accepted loan (the payouts'
rig) with its contract and a tranche; an IP-pledge loan with a patent. Every refused call must
answer problem+json with its code and leave every finance table and the outbox as it was; then
each one who may calls it (on a fresh stage for a write) and gets the row's status.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from services.finance.models import Base
from shared.clock import PARK_TZ
from shared.db import Database
from tests.booking.conftest import BANK, ORG_A, Api
from tests.endpoint_matrix import refused, served_routes
from tests.endpoint_matrix import snapshot as every_row
from tests.finance.conftest import BANK2, BUREAU, USERS, Products
from tests.finance.test_documents import PDF
from tests.finance.test_documents import upload as upload_document
from tests.finance.test_offers import made, terms
from tests.finance.test_patents import patent, submitted_with_patent
from tests.finance.test_payouts_rig import accepted_application
from tests.finance.test_reviews import started, step

PREFIX = "/api/v1/finance"
EVERYONE = tuple(USERS)
TENANTS = ("alice", "bob", "carol", "dave")
PARTNERS = ("bank", "bank2", "banker", "guarantor", "bureau", "bureau2", "lawyer")
STAFF = ("desk", "desk2", "admin")
APPLICANT = ("alice", "bob")
BANKS = ("bank", "bank2")
"""BANK's two agents: the partner whose review, offer and tranche the rows name."""
SEE_LOAN = (*APPLICANT, *BANKS, "banker", *STAFF)
"""Who reads ORG_A's loan routed to BANK and BANK2: never ORG_B, the guarantee company (a
provider it was not routed to), the bureau, the law firm."""
SEE_BANKS_ONLY = (*APPLICANT, *BANKS, *STAFF)
"""Who reads BANK's review or offer of that loan: BANK2 (routed too) does not."""
TODAY = datetime.now(PARK_TZ).date()


@dataclass(frozen=True)
class Row:
    """Who may (``may``, answered ``status``), who gets a 403 (``forbidden``), the rest of
    :data:`EVERYONE` a 404. ``on``: the stage of :func:`stage` the path's objects are in;
    ``body``: what every caller sends (``"multipart"``: a document); ``if_match``:
    ``"application"``, ``"review"``, ``"offer"``, ``"tranche"`` or a literal; ``others``: a
    user's own status where the rights let them but a rule refuses (problem+json, nothing written)."""

    may: tuple[str, ...]
    status: int = 200
    forbidden: tuple[str, ...] = ()
    on: str = "offered"
    body: Callable[[], Any] | str | None = None
    if_match: str | None = None
    query: str = ""
    public: bool = False
    others: dict[str, int] = field(default_factory=dict)


def new_loan() -> dict[str, Any]:
    return {"product_id": Products.loan, "amount": "500000.00", "term_months": 12, "purpose": "Lab equipment"}


def new_product() -> dict[str, Any]:
    from tests.finance.test_products_api import new_loan as product

    return dict(product())


def company() -> dict[str, Any]:
    from tests.finance.test_profiles import profile

    return dict(profile())


THIS_MONTH = f"?from={TODAY - timedelta(days=30)}&to={TODAY}"
NOT_TENANTS = (*PARTNERS, *STAFF)
NOT_PARTNERS = (*TENANTS, *STAFF)

MATRIX: dict[tuple[str, str], Row] = {
    ("/health", "GET"): Row(EVERYONE, public=True, on="none"),
    ("/openapi.json", "GET"): Row(EVERYONE, public=True, on="none"),
    ("/dead-letters", "GET"): Row(STAFF, forbidden=(*TENANTS, *PARTNERS), on="none"),
    # No letter has died: park admin passes every check of who may and is told there is none.
    ("/dead-letters/<int(max=9223372036854775807):letter_id>/replay", "POST"): Row(
        ("admin",), 404, forbidden=(*TENANTS, *PARTNERS, "desk", "desk2"), on="none"
    ),
    ("/directory/organisations", "GET"): Row(STAFF, forbidden=(*TENANTS, *PARTNERS), on="none"),
    ("/directory/organisations/<uuid:org_id>", "GET"): Row(STAFF, forbidden=(*TENANTS, *PARTNERS), on="none"),
    # Products and profiles.
    ("/products", "GET"): Row(EVERYONE, on="none"),
    ("/products", "POST"): Row(
        ("admin",), 201, forbidden=(*TENANTS, *PARTNERS, "desk", "desk2"), on="none", body=new_product
    ),
    ("/products/<uuid:product_id>", "GET"): Row(EVERYONE, on="none"),
    ("/products/<uuid:product_id>", "PATCH"): Row(
        ("admin",),
        forbidden=(*TENANTS, *PARTNERS, "desk", "desk2"),
        on="none",
        body=lambda: {"name": "SME loan"},
        if_match='"1"',
    ),
    ("/profile", "GET"): Row(TENANTS, forbidden=NOT_TENANTS, on="none"),
    ("/profile", "PUT"): Row(
        ("alice",),
        forbidden=(*NOT_TENANTS, "bob", "dave"),
        on="none",
        body=company,
        if_match='"1"',
        others={"carol": 412},
    ),
    ("/profiles/<string(maxlength=64):org_id>", "GET"): Row(STAFF, forbidden=(*TENANTS, *PARTNERS), on="none"),
    ("/reports/pipeline", "GET"): Row(
        ("admin",), forbidden=(*TENANTS, *PARTNERS, "desk", "desk2"), on="none", query=THIS_MONTH
    ),
    ("/reports/pipeline.csv", "GET"): Row(
        ("admin",), forbidden=(*TENANTS, *PARTNERS, "desk", "desk2"), on="none", query=THIS_MONTH
    ),
    # Applications.
    ("/applications", "GET"): Row(EVERYONE, on="none"),
    ("/applications", "POST"): Row(TENANTS, 201, forbidden=NOT_TENANTS, on="none", body=new_loan),
    ("/applications/<uuid:application_id>", "GET"): Row(SEE_LOAN),
    ("/applications/<uuid:application_id>", "PATCH"): Row(
        APPLICANT, forbidden=NOT_TENANTS, on="draft", body=lambda: {"purpose": "Two freezers"}, if_match="application"
    ),
    ("/applications/<uuid:application_id>/history", "GET"): Row(SEE_LOAN),
    ("/applications/<uuid:application_id>/submit", "POST"): Row(
        APPLICANT, forbidden=NOT_TENANTS, on="draft", if_match="application"
    ),
    ("/applications/<uuid:application_id>/start-pre-review", "POST"): Row(
        STAFF, forbidden=(*TENANTS, *PARTNERS), on="submitted", if_match="application"
    ),
    ("/applications/<uuid:application_id>/route", "POST"): Row(
        STAFF,
        forbidden=(*TENANTS, *PARTNERS),
        on="pre_review",
        body=lambda: {"partner_org_ids": [BANK]},
        if_match="application",
    ),
    ("/applications/<uuid:application_id>/turn-down", "POST"): Row(
        STAFF,
        forbidden=(*TENANTS, *PARTNERS),
        on="pre_review",
        body=lambda: {"reason": "Out of scope."},
        if_match="application",
    ),
    ("/applications/<uuid:application_id>/withdraw", "POST"): Row(
        APPLICANT, forbidden=NOT_TENANTS, on="routed", if_match="application"
    ),
    # Documents and patents.
    ("/applications/<uuid:application_id>/documents", "GET"): Row(SEE_LOAN),
    ("/applications/<uuid:application_id>/documents", "POST"): Row(
        APPLICANT, 201, forbidden=NOT_TENANTS, on="draft", body="multipart"
    ),
    ("/applications/<uuid:application_id>/documents/<uuid:document_id>", "GET"): Row(SEE_LOAN),
    ("/applications/<uuid:application_id>/documents/<uuid:document_id>", "DELETE"): Row(
        APPLICANT, 204, forbidden=NOT_TENANTS, on="draft"
    ),
    ("/applications/<uuid:application_id>/patents", "GET"): Row(SEE_LOAN),
    ("/applications/<uuid:application_id>/patents", "POST"): Row(
        APPLICANT, 201, forbidden=NOT_TENANTS, on="ip_draft", body=lambda: patent(number="ZL202110000001.6")
    ),
    ("/applications/<uuid:application_id>/patents/<uuid:patent_id>", "DELETE"): Row(
        APPLICANT, 204, forbidden=NOT_TENANTS, on="ip_draft"
    ),
    ("/applications/<uuid:application_id>/valuation-request", "POST"): Row(
        STAFF, forbidden=(*TENANTS, *PARTNERS), on="ip_routed", if_match="application"
    ),
    ("/applications/<uuid:application_id>/valuation", "GET"): Row(SEE_BANKS_ONLY, on="ip_routed"),
    ("/applications/<uuid:application_id>/valuation", "PUT"): Row(
        (*BANKS, *STAFF), forbidden=TENANTS, on="ip_accepted", body=lambda: {"amount": "2000000.00"}, if_match="*"
    ),
    ("/applications/<uuid:application_id>/pledge", "PUT"): Row(
        (*BANKS, *STAFF),
        forbidden=TENANTS,
        on="ip_accepted",
        body=lambda: {"number": "Y2026510000123", "registered_on": TODAY.isoformat()},
        if_match="*",
    ),
    # Reviews.
    ("/applications/<uuid:application_id>/reviews", "GET"): Row(SEE_LOAN),
    ("/applications/<uuid:application_id>/reviews/<string:partner_org_id>", "GET"): Row(SEE_BANKS_ONLY),
    ("/applications/<uuid:application_id>/reviews/<string:partner_org_id>/start", "POST"): Row(
        BANKS, forbidden=NOT_PARTNERS, on="routed", if_match="review", others={"banker": 404}
    ),
    ("/applications/<uuid:application_id>/reviews/<string:partner_org_id>/request-info", "POST"): Row(
        BANKS,
        forbidden=NOT_PARTNERS,
        on="in_review",
        body=lambda: {"document_types": ["tax_returns"], "questions": ["Your largest customers?"]},
        if_match="review",
    ),
    ("/applications/<uuid:application_id>/reviews/<string:partner_org_id>/provide-info", "POST"): Row(
        APPLICANT,
        forbidden=NOT_TENANTS,
        on="info_requested",
        body=lambda: {"answers": ["Three hospitals"]},
        if_match="review",
    ),
    # The short paths: the partner's own review; the one review asking the tenant.
    ("/applications/<uuid:application_id>/request-info", "POST"): Row(
        (*BANKS, "banker"),
        forbidden=NOT_PARTNERS,
        on="in_review",
        body=lambda: {"questions": ["Your largest customers?"]},
        if_match="*",
    ),
    ("/applications/<uuid:application_id>/provide-info", "POST"): Row(
        APPLICANT,
        forbidden=NOT_TENANTS,
        on="info_requested",
        body=lambda: {"answers": ["Three hospitals"]},
        if_match="review",
    ),
    ("/applications/<uuid:application_id>/reviews/<string:partner_org_id>/decline", "POST"): Row(
        BANKS, forbidden=NOT_PARTNERS, on="in_review", body=lambda: {"reason_code": "credit_history"}, if_match="review"
    ),
    # Offers and a subsidy's approval.
    ("/applications/<uuid:application_id>/offers", "GET"): Row(SEE_LOAN),
    ("/applications/<uuid:application_id>/offers", "POST"): Row(
        (*BANKS, "banker"), 201, forbidden=NOT_PARTNERS, on="in_review", body=terms
    ),
    ("/applications/<uuid:application_id>/approval", "POST"): Row(
        ("bureau", "bureau2"),
        201,
        forbidden=NOT_PARTNERS,
        on="subsidy",
        body=lambda: {"amount": "200000.00"},
        if_match="review",
    ),
    ("/offers/<uuid:offer_id>", "GET"): Row(SEE_BANKS_ONLY),
    ("/offers/<uuid:offer_id>/accept", "POST"): Row(
        ("alice",), forbidden=(*NOT_TENANTS, "bob", "dave"), if_match="offer"
    ),
    ("/offers/<uuid:offer_id>/decline", "POST"): Row(
        ("alice",), forbidden=(*NOT_TENANTS, "bob", "dave"), body=lambda: {"reason": "Too dear"}, if_match="offer"
    ),
    ("/offers/<uuid:offer_id>/withdraw", "POST"): Row(BANKS, forbidden=(*TENANTS, *STAFF), if_match="offer"),
    # After acceptance.
    ("/applications/<uuid:application_id>/contract", "POST"): Row(
        (*BANKS, *STAFF),
        forbidden=(*TENANTS, "banker"),
        on="accepted",
        body=lambda: {"contract_number": "SD-2026-001", "signed_on": TODAY.isoformat()},
        if_match="application",
    ),
    # BANK2 declined: it still reads the application, never the accepted offer's amount.
    ("/applications/<uuid:application_id>/disbursements", "GET"): Row(SEE_BANKS_ONLY, on="signed"),
    ("/applications/<uuid:application_id>/disbursements", "POST"): Row(
        (*BANKS, *STAFF),
        201,
        forbidden=(*TENANTS, "banker"),
        on="signed",
        body=lambda: {"amount": "1000.00", "disbursed_on": TODAY.isoformat(), "reference": "TRX-2"},
    ),
    ("/applications/<uuid:application_id>/disbursements/<uuid:disbursement_id>/approve", "POST"): Row(
        ("bank2", *STAFF), forbidden=(*TENANTS, "banker"), on="signed", if_match="tranche", others={"bank": 409}
    ),
    ("/applications/<uuid:application_id>/close", "POST"): Row(
        STAFF, forbidden=(*TENANTS, *PARTNERS), on="paid_out", if_match="application"
    ),
}
"""Every (route, method) of finance and who gets what; routes relative to /api/v1/finance."""

STAGES = (
    "none",
    "draft",
    "ip_draft",
    "submitted",
    "pre_review",
    "routed",
    "in_review",
    "info_requested",
    "offered",
    "subsidy",
    "ip_routed",
    "ip_accepted",
    "accepted",
    "signed",
    "paid_out",
)


@dataclass
class Target:
    """One stage's path values and the versions If-Match may name."""

    values: dict[str, str]
    application_id: str = ""
    review_of: str = BANK
    offer: dict[str, Any] | None = None
    tranche: dict[str, Any] | None = None


def _act(api: Api, application_id: str, action: str, user: str, body: Any = None) -> dict[str, Any]:
    version = api.get(f"/applications/{application_id}", user="desk").json["version"]
    answer = api.post(f"/applications/{application_id}/{action}", body, user=user, **{"If-Match": f'"{version}"'})
    assert answer.status_code == 200, (action, answer.json)
    return dict(answer.json)


def _drafted(api: Api, db: Database, product: str = Products.loan) -> str:
    body = {**new_loan(), "product_id": product}
    if product == Products.subsidy:
        body["amount"] = "300000.00"
    created = api.post("/applications", body, user="alice", **{"Idempotency-Key": str(uuid.uuid4())})
    assert created.status_code == 201, created.json
    application_id = str(created.json["id"])
    for doc_type in ("business_licence", "financial_statements")[: 2 if product == Products.loan else 1]:
        uploaded = upload_document(api, application_id, doc_type)
        assert uploaded.status_code == 201, uploaded.get_json()
    return application_id


def _routed(api: Api, db: Database, product: str = Products.loan, partners: tuple[str, ...] = (BANK, BANK2)) -> str:
    """ORG_A's application drafted by alice with the checklist's documents, submitted, pre-reviewed
    and routed to ``partners`` by the desk, all over HTTP."""
    application_id = _drafted(api, db, product)
    _act(api, application_id, "submit", "alice")
    _act(api, application_id, "start-pre-review", "desk")
    _act(api, application_id, "route", "desk", {"partner_org_ids": list(partners)})
    return application_id


def _first(api: Api, path: str) -> str:
    listed = api.get(path, user="desk")
    assert listed.status_code == 200 and listed.json["items"], (path, listed.json)
    return str(listed.json["items"][0]["id"])


def stage(api: Api, db: Database, on: str) -> Target:
    """Fresh objects of ORG_A in the stage ``on`` names (see :data:`STAGES`)."""
    values = {"product_id": Products.loan, "org_id": ORG_A, "partner_org_id": BANK, "letter_id": "1"}
    if on == "none":
        return Target(values)
    if on in ("draft", "submitted", "pre_review"):
        application_id = _drafted(api, db)
        if on != "draft":
            _act(api, application_id, "submit", "alice")
        if on == "pre_review":
            _act(api, application_id, "start-pre-review", "desk")
        values["document_id"] = _first(api, f"{PREFIX}/applications/{application_id}/documents")
        return Target({**values, "application_id": application_id}, application_id)
    if on == "ip_draft":
        application_id = _drafted(api, db, Products.ip_loan)
        added = api.post(f"/applications/{application_id}/patents", patent(), user="alice")
        assert added.status_code == 201, added.json
        values["patent_id"] = str(added.json["id"])
        return Target({**values, "application_id": application_id}, application_id)
    if on in ("routed", "in_review", "info_requested", "offered"):
        application_id = _routed(api, db)
        target = Target({**values, "application_id": application_id}, application_id)
        target.values["document_id"] = _first(api, f"{PREFIX}/applications/{application_id}/documents")
        if on == "routed":
            return target
        started(api, application_id, BANK, "bank")
        started(api, application_id, BANK2, "banker")
        if on == "info_requested":
            asked = step(api, application_id, BANK, "request-info", {"questions": ["Who buys?"]}, "bank")
            assert asked.status_code == 200, asked.json
        if on == "offered":
            made(api, application_id, "banker", annual_rate="3.9", fees=[])
            target.offer = made(api, application_id, "bank", annual_rate="5.8")
            target.values["offer_id"] = target.offer["id"]
        return target
    if on == "subsidy":
        application_id = _routed(api, db, Products.subsidy, (BUREAU,))
        started(api, application_id, BUREAU, "bureau")
        return Target({**values, "application_id": application_id}, application_id, review_of=BUREAU)
    if on in ("ip_routed", "ip_accepted"):
        if on == "ip_routed":
            application_id = submitted_with_patent(db, status="routed", reviews=((BANK, "under_review", None),))
        else:
            application_id = submitted_with_patent(
                db, status="contract_signed", reviews=((BANK, "offer_made", None),), accepted_partner=BANK
            )
        return Target({**values, "application_id": application_id}, application_id)
    application_id = accepted_application(db, amount="100000.00" if on == "paid_out" else "500000.00")
    target = Target({**values, "application_id": application_id}, application_id)
    if on == "accepted":
        return target
    _act(api, application_id, "contract", "bank", {"contract_number": "SD-1", "signed_on": TODAY.isoformat()})
    tranche = api.post(
        f"/applications/{application_id}/disbursements",
        {"amount": "100000.00", "disbursed_on": TODAY.isoformat(), "reference": "TRX-1"},
        user="bank",
    )
    assert tranche.status_code == 201, tranche.json
    target.tranche = dict(tranche.json)
    target.values["disbursement_id"] = target.tranche["id"]
    if on == "paid_out":
        approved = api.post(
            f"/applications/{application_id}/disbursements/{target.tranche['id']}/approve",
            None,
            user="desk",
            **{"If-Match": f'"{target.tranche["version"]}"'},
        )
        assert approved.status_code == 200, approved.json
    return target


def url_of(rule: str, target: Target) -> str:
    url = rule
    while "<" in url:
        start, end = url.index("<"), url.index(">")
        name = url[start + 1 : end].split(":")[-1]
        url = url[:start] + target.values[name] + url[end + 1 :]
    return url


def if_match(api: Api, row: Row, target: Target) -> dict[str, str]:
    """The If-Match every caller sends: the version a reader sees just before the call."""
    if row.if_match is None:
        return {}
    if row.if_match == "application":
        tag = api.get(f"/applications/{target.application_id}", user="desk").headers["ETag"]
    elif row.if_match == "review":
        tag = api.get(f"/applications/{target.application_id}/reviews/{target.review_of}", user="desk").headers["ETag"]
    elif row.if_match == "offer":
        assert target.offer is not None
        tag = api.get(f"/offers/{target.offer['id']}", user="desk").headers["ETag"]
    elif row.if_match == "tranche":
        assert target.tranche is not None
        tag = f'"{target.tranche["version"]}"'
    else:
        tag = row.if_match
    return {"If-Match": str(tag)}


def call(api: Api, method: str, rule: str, target: Target, row: Row, user: str | None) -> Any:
    headers = if_match(api, row, target)
    url = PREFIX + url_of(rule, target) + row.query
    if method == "GET":
        return api.get(url, user=user, headers=headers)
    if method == "DELETE":
        return api.delete(url, user=user, **headers)
    if row.body == "multipart":
        items = MultiDict([("doc_type", "business_plan"), ("file", FileStorage(io.BytesIO(PDF), filename="plan.pdf"))])
        boundary, data = encode_multipart(items)
        auth = api.headers(user) if user else {}
        return api.client.post(
            url, data=data, headers={**auth, **headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
    body = row.body() if callable(row.body) else None
    if method == "POST" and row.status == 201:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    senders: dict[str, Callable[..., Any]] = {"POST": api.post, "PUT": api.put, "PATCH": api.patch}
    return senders[method](url, body, user=user, **headers)


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every finance table, the outbox and the directory included."""
    return every_row(db, Base.metadata)


def expected(row: Row, user: str) -> int:
    if user in row.may:
        return row.status
    if user in row.others:
        return row.others[user]
    return 403 if user in row.forbidden else 404


ROUTES = sorted(MATRIX)


def test_the_matrix_lists_every_route_and_method_the_app_serves(app: Flask) -> None:
    served = served_routes(app, PREFIX)
    assert sorted(served - set(MATRIX)) == [], "routes without a row: say who may call them"
    assert sorted(set(MATRIX) - served) == [], "rows of routes the app no longer serves"


def test_every_row_names_everybody_once() -> None:
    for route, row in MATRIX.items():
        assert set(row.may).isdisjoint(row.forbidden), route
        assert set(row.others).isdisjoint({*row.may, *row.forbidden}), route
        assert set(row.may) | set(row.forbidden) | set(row.others) <= set(EVERYONE), route
        assert row.on in STAGES, route


@pytest.mark.parametrize(("rule", "method"), ROUTES, ids=[f"{m} {r}" for r, m in ROUTES])
def test_every_caller_of_every_endpoint(api: Api, db: Database, rule: str, method: str) -> None:
    row = MATRIX[(rule, method)]
    target = stage(api, db, row.on)
    before = snapshot(db)
    if row.public:
        assert call(api, method, rule, target, row, None).status_code == row.status
    else:
        refused(call(api, method, rule, target, row, None), 401, f"{method} {rule} without a token")
        assert snapshot(db) == before, "a call without a token changed something"
    for user in EVERYONE:
        if user not in row.may:
            refused(call(api, method, rule, target, row, user), expected(row, user), f"{method} {rule} by {user}")
            assert snapshot(db) == before, f"{method} {rule} refused to {user} changed something"
    for user in row.may:
        if method != "GET" and row.on != "none":
            target = stage(api, db, row.on)
        response = call(api, method, rule, target, row, user)
        assert response.status_code == row.status, (user, response.status_code, response.get_json())
    if method != "GET" and row.status < 300:
        assert snapshot(db) != before, f"{method} {rule} by who may changed nothing"


# What each answer holds -------------------------------------------------------------------------


@dataclass
class World:
    """ORG_A's loan routed to BANK and BANK2, each with an offer of its own; ORG_A's subsidy routed
    to the bureau; ORG_B's loan submitted (carol writes its company profile first), all over HTTP."""

    applications: dict[str, str]
    offers: dict[str, str]
    """The loan's offers by the partner that made them."""


@pytest.fixture
def world(api: Api, db: Database) -> World:
    loan = stage(api, db, "offered")
    assert loan.offer is not None
    offers = {BANK: str(loan.offer["id"])}
    listed = api.get(f"/applications/{loan.application_id}/offers", user="desk").json["items"]
    offers[BANK2] = next(str(o["id"]) for o in listed if o["partner"]["id"] == BANK2)
    subsidy = _routed(api, db, Products.subsidy, (BUREAU,))
    profiled = api.put("/profile", company(), user="carol", **{"If-Match": '"0"'})
    assert profiled.status_code == 200, profiled.json
    created = api.post("/applications", new_loan(), user="dave", **{"Idempotency-Key": str(uuid.uuid4())})
    assert created.status_code == 201, created.json
    org_b = str(created.json["id"])
    for doc_type in ("business_licence", "financial_statements"):
        assert upload_document(api, org_b, doc_type, user="dave").status_code == 201
    _act(api, org_b, "submit", "carol")
    return World({"loan": loan.application_id, "subsidy": subsidy, "org_b": org_b}, offers)


LISTS: dict[str, set[str]] = {
    "alice": {"loan", "subsidy"},
    "bob": {"loan", "subsidy"},
    "carol": {"org_b"},
    "dave": {"org_b"},
    "bank": {"loan"},
    "bank2": {"loan"},
    "banker": {"loan"},
    "guarantor": set(),
    "bureau": {"subsidy"},
    "bureau2": {"subsidy"},
    "lawyer": set(),
    "desk": {"loan", "subsidy", "org_b"},
    "desk2": {"loan", "subsidy", "org_b"},
    "admin": {"loan", "subsidy", "org_b"},
}
"""Whose applications each user's GET /applications holds: a tenant their organisation's, a
partner those routed to it (the guarantee company provides the loan but was not routed to),
staff all."""


def test_each_list_holds_exactly_the_applications_its_reader_may_read(api: Api, world: World) -> None:
    for user in EVERYONE:
        listed = api.get("/applications", user=user)
        assert listed.status_code == 200, (user, listed.json)
        assert {a["id"] for a in listed.json["items"]} == {world.applications[n] for n in LISTS[user]}, user
        for name, application_id in world.applications.items():
            for path in ("", "/history", "/documents", "/reviews", "/offers"):
                read = api.get(f"/applications/{application_id}{path}", user=user)
                if name in LISTS[user]:
                    assert read.status_code == 200, (user, name, path, read.json)
                else:
                    refused(read, 404, f"{user} reading {name}{path}")


OFFERS: dict[str, set[str]] = {
    "alice": {BANK, BANK2},
    "bob": {BANK, BANK2},
    "bank": {BANK},
    "bank2": {BANK},
    "banker": {BANK2},
    "desk": {BANK, BANK2},
    "desk2": {BANK, BANK2},
    "admin": {BANK, BANK2},
}
"""Whose offers and reviews of the loan each reader gets: a partner its own only."""


def test_a_partner_never_sees_another_partners_offer_or_review(api: Api, world: World) -> None:
    loan = world.applications["loan"]
    for user in EVERYONE:
        mine = OFFERS.get(user, set())
        offers = api.get(f"/applications/{loan}/offers", user=user)
        reviews = api.get(f"/applications/{loan}/reviews", user=user)
        if not mine:
            refused(offers, 404, f"{user}'s offers")
            refused(reviews, 404, f"{user}'s reviews")
        else:
            assert {o["partner"]["id"] for o in offers.json["items"]} == mine, (user, offers.json)
            assert {r["partner"]["id"] for r in reviews.json["items"]} == mine, (user, reviews.json)
        for partner, offer_id in world.offers.items():
            offer = api.get(f"/offers/{offer_id}", user=user)
            review = api.get(f"/applications/{loan}/reviews/{partner}", user=user)
            if partner in mine:
                assert offer.status_code == 200 and offer.json["partner"]["id"] == partner, (user, offer.json)
                assert review.status_code == 200 and review.json["partner"]["id"] == partner, (user, review.json)
            else:
                refused(offer, 404, f"{user} reading {partner}'s offer")
                refused(review, 404, f"{user} reading {partner}'s review")
        if mine:
            answers = [api.get(f"/applications/{loan}{path}", user=user).json for path in ("", "/history")]
            text = str(answers) + str(offers.json) + str(reviews.json)
            for partner, offer_id in world.offers.items():
                assert (offer_id in text) == (partner in mine), (user, partner)
                if user in PARTNERS:  # not even its name: which partner was also asked is not its to know
                    assert (partner in text) == (partner in mine), (user, partner)


def test_only_the_tenant_admin_is_offered_accept_and_decline(api: Api, world: World) -> None:
    """alice (admin of ORG_A) may accept or decline an offer; bob (member) reads it but may not:
    the answers an offer shows and the 403 he gets agree."""
    offer_id = world.offers[BANK]
    alice = api.get(f"/offers/{offer_id}", user="alice").json
    bob = api.get(f"/offers/{offer_id}", user="bob").json
    assert {"accept", "decline"} <= set(alice["actions"]), alice
    assert not {"accept", "decline"} & set(bob["actions"]), bob
    for action in ("accept", "decline"):
        answer = api.post(f"/offers/{offer_id}/{action}", None, user="bob", **{"If-Match": f'"{bob["version"]}"'})
        refused(answer, 403, f"bob {action}ing")


def test_a_partner_whose_offer_lost_never_reads_which_offer_won(api: Api, db: Database) -> None:
    """alice accepts BANK's offer: BANK2 (whose offer lapsed) reads that the application was
    accepted, never which offer: not in the application, not in its offers' comparison."""
    loan = stage(api, db, "offered")
    assert loan.offer is not None
    accepted = api.post(
        f"/offers/{loan.offer['id']}/accept",
        None,
        user="alice",
        **if_match(api, MATRIX[("/offers/<uuid:offer_id>/accept", "POST")], loan),
    )
    assert accepted.status_code == 200, accepted.json
    for user, shown in (("alice", True), ("bank", True), ("desk", True), ("banker", False)):
        application = api.get(f"/applications/{loan.application_id}", user=user).json
        offers = api.get(f"/applications/{loan.application_id}/offers", user=user).json
        winner = loan.offer["id"] if shown else None
        assert application["accepted_offer_id"] == winner, (user, application)
        assert offers["accepted_offer_id"] == winner, (user, offers)
        if not shown:
            assert loan.offer["id"] not in str(application) + str(offers), user


def test_every_line_of_the_history_is_named(api: Api, db: Database) -> None:
    """Every line of a paid-out loan's history (contract, tranche recorded and approved) reads with
    a name in the reader's language, never the action's code."""
    paid = stage(api, db, "paid_out")
    for language in ("en", "zh"):
        history = api.get(
            f"/applications/{paid.application_id}/history", user="desk", headers={"Accept-Language": language}
        )
        assert history.status_code == 200, history.json
        unnamed = [line["action"] for line in history.json["items"] if line["action_label"] == line["action"]]
        assert unnamed == [], (language, unnamed)
