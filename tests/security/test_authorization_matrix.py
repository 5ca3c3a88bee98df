"""The authorization matrix of the whole platform (OWASP API1 BOLA, API5 BFLA), over real HTTP.

The route table is read from the Flask url_maps of the embedded platform's apps (the gateway and
every service), every (method, route) under /api/v1; each must have a row in
:data:`tests.security.matrix.MATRIX` or be listed in :data:`~tests.security.matrix.PUBLIC`, or the
test fails naming it: an endpoint cannot be added without saying who may call it.

The world is the demo (``parkhub seed``) plus what this module adds over HTTP, once: ORG_A's
(alice and bob's) and ORG_B's (carol's) reservations, hall bookings with booths and series; a
case of each, one with the law firm and one with the IP agency, each quoted, messaged with a file
and with a meeting asked for; a loan of ORG_B routed to the other bank and offered by it, an
IP-pledge draft of ORG_B with a patent; a webhook endpoint of the bank and of the law firm. Then
the bus is stopped, so nothing but the calls under test changes a database.

Every cell (route × caller × ORG_A's object / the other's) is called through the platform's WSGI
stack (the edge, the gateway's dispatch, the service): a refused cell must answer the documented
401/403/404 as problem+json and, for a write, leave every row of every database as it was (the
refused cells of a route are snapshotted together); an allowed cell must never be a 401/403/404
(nor a 5xx). Refused writes send what would succeed (``If-Match: *``, a valid body); allowed
writes send a stale ``If-Match``, so an action is judged (412, 409 or done) without changing the
objects the next cells need, and a DELETE without If-Match gets an object of its own.
"""

from __future__ import annotations

import io
import re
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData

from embedded import EmbeddedPlatform
from shared.clock import PARK_TZ
from shared.db import Database
from tests.conftest import make_settings
from tests.endpoint_matrix import refused, snapshot
from tests.park import Park
from tests.security.matrix import ALLOWED, CALLERS, MATRIX, PUBLIC, SIGNED_IN, STAFF, TENANTS, Rule

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
STALE = '"987654"'
"""The If-Match of an allowed write: a version no object of the world has reached."""
B, F, M, TA = "bank_agent", "firm_agent", "tenant_member", "tenant_admin"


# -- the route table ------------------------------------------------------------------------------


def route_table(platform: EmbeddedPlatform) -> set[tuple[str, str]]:
    """Every (method, route) the platform's apps serve under /api/v1 (HEAD, OPTIONS left out)."""
    apps = [platform.gateway_app, *platform.service_apps.values()]
    return {
        (method, rule.rule)
        for app in apps
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


# -- the world ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One object a row's path parameters point at: whose it is (``label``), the values of the
    parameters, and the callers who see it."""

    label: str
    params: dict[str, str]
    seen_by: frozenset[str]


class World:
    """The platform, signed-in callers, the objects of both organisations and the bodies rows send."""

    def __init__(self, park: Park) -> None:
        self.park = park
        self.today = datetime.now(PARK_TZ).date().isoformat()
        self.targets: dict[str, list[Target]] = {}
        self.fresh_counter = 0

    # HTTP ------------------------------------------------------------------------------------

    def call(self, user: str | None, method: str, path: str, **kwargs: Any) -> Any:
        """One request as ``user`` (None: without a token), read whole and closed, as a WSGI
        server does: a streamed answer (a CSV export) keeps its request's context until closed."""
        headers = {"Accept-Language": "en", **kwargs.pop("headers", {})}
        if user is None:
            response = self.park.client.open(path, method=method, headers=headers, **kwargs)
        else:
            response = self.park.as_user(user, method, path, headers=headers, **kwargs)
        response.get_data()
        response.close()
        return response

    def ok(self, user: str, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.call(user, method, path, **kwargs)
        assert response.status_code == status, (user, method, path, response.status_code, response.get_json())
        return response.get_json()

    def act(self, user: str, path: str, action: str, body: Any = None) -> Any:
        """POST ``path/action`` under If-Match naming the current version (read by the desk)."""
        version = self.ok("desk", "GET", path)["version"]
        return self.ok(user, "POST", f"{path}/{action}", json=body, headers={"If-Match": f'"{version}"'})

    def add(self, family: str, label: str, seen_by: tuple[str, ...], **params: str) -> None:
        self.targets.setdefault(family, []).append(Target(label, params, frozenset(seen_by)))

    # bodies ----------------------------------------------------------------------------------

    def day(self, ahead: int) -> datetime:
        return datetime.now(PARK_TZ).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=ahead)

    def slot(self, ahead: int, hour: int, hours: int = 1) -> dict[str, str]:
        start = self.day(ahead) + timedelta(hours=hour)
        return {"start": start.isoformat(), "end": (start + timedelta(hours=hours)).isoformat()}

    def reservation_body(self) -> dict[str, Any]:
        return {"space_id": self.room, **self.slot(40, 9), "title": "Journal club", "attendees": 4}

    def reschedule_body(self) -> dict[str, Any]:
        return self.slot(41, 15)

    def series_body(self) -> dict[str, Any]:
        return {
            "space_id": self.room,
            **self.slot(50, 8),
            "rrule": "FREQ=WEEKLY;COUNT=2",
            "title": "Weekly seminar",
            "attendees": 4,
        }

    def series_move_body(self) -> dict[str, Any]:
        return {"shift_minutes": 60}

    def valuation_report(self) -> dict[str, Any]:
        return {"amount": "2600000.00", "currency": "CNY", "report_attachment_id": str(uuid.uuid4())}

    def closure_body(self) -> dict[str, Any]:
        return {**self.slot(60, 8, 4), "reason": "Maintenance"}

    def availability_query(self) -> str:
        window = self.slot(3, 9, 9)
        return f"?start={window['start'].replace('+', '%2B')}&end={window['end'].replace('+', '%2B')}"

    def period(self) -> str:
        since = (datetime.now(PARK_TZ).date() - timedelta(days=30)).isoformat()
        return f"?from={since}&to={self.today}"

    def quota_body(self) -> dict[str, Any]:
        return {"org_id": self.org_a, "space_kind": "conference_room", "free_hours_per_month": 9}

    def park_year_body(self) -> dict[str, Any]:
        return {"days": [{"day": "2031-01-01", "kind": "holiday", "name": "new_years_day"}]}

    def new_space(self) -> dict[str, Any]:
        space = dict(self.ok("admin", "GET", f"/api/v1/booking/spaces/{self.room}"))
        keep = ("kind", "building", "floor", "capacity", "hourly_rate", "approval_mode", "min_duration_minutes")
        return {**{k: space[k] for k in keep if k in space}, "code": "AUTHZ-1", "name": "Authz room"}

    def new_item(self) -> dict[str, Any]:
        return {
            "category": "legal",
            "code": "authz_review",
            "name": "Authorization review",
            "name_zh": "授权审查",
            "intake_fields": [],
            "fee_guidance": "From 1,500 yuan",
            "fee_guidance_zh": "1500元起",
            "quote_required": True,
        }

    def consulting_hours(self) -> dict[str, Any]:
        return {"hours": {str(day): [["09:00", "12:00"], ["13:30", "18:00"]] for day in range(5)}}

    def case_body(self) -> dict[str, Any]:
        return {
            "item_id": self.legal_item,
            "subject": "A supply contract",
            "description": "Eight pages.",
            "answers": {},
        }

    def meeting_body(self) -> dict[str, Any]:
        start = self.day(20) + timedelta(hours=10)
        return {
            "title": "Kick-off with the firm",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "attendees": 4,
        }

    def new_product(self) -> dict[str, Any]:
        from tests.finance.test_every_endpoint import new_product

        return new_product()

    def company_profile(self) -> dict[str, Any]:
        from tests.finance.test_every_endpoint import company

        return company()

    def loan_body(self) -> dict[str, Any]:
        return {"product_id": self.loan_product, "amount": "500000.00", "term_months": 12, "purpose": "Lab equipment"}

    def offer_terms(self) -> dict[str, Any]:
        from tests.finance.test_offers import terms

        return terms()

    def patent_body(self) -> dict[str, Any]:
        from tests.finance.test_patents import patent

        return patent(number="ZL202110000001.6")

    def new_organisation(self) -> dict[str, Any]:
        return {"name": "Authz Biotech Co., Ltd.", "kind": "tenant"}

    def new_user(self) -> dict[str, Any]:
        name = f"authz{uuid.uuid4().hex[:8]}"
        return {"username": name, "display_name": "Lab Member", "password": "a long passphrase 2026", "roles": [M]}

    def new_api_client(self) -> dict[str, Any]:
        return {"client_id": f"authz-{uuid.uuid4().hex[:6]}", "name": "Authz", "organisation_id": self.bank}


def answers_for(item: dict[str, Any]) -> dict[str, Any]:
    """Answers an item's intake form takes: the first choice, the lower bound, a short text."""
    answers: dict[str, Any] = {}
    for spec in item.get("intake_fields") or ():
        kind = spec["type"]
        if kind == "choice":
            answers[spec["code"]] = spec["choices"][0]["code"]
        elif kind == "multi_choice":
            answers[spec["code"]] = [spec["choices"][0]["code"]]
        elif kind in ("integer", "number"):
            answers[spec["code"]] = int(float(spec.get("min", 1)))
        elif kind == "date":
            answers[spec["code"]] = spec.get("min") or datetime.now(PARK_TZ).date().isoformat()
        elif kind == "boolean":
            answers[spec["code"]] = True
        elif kind == "email":
            answers[spec["code"]] = "legal@example.cn"
        elif kind == "phone":
            answers[spec["code"]] = "13800138000"
        else:
            answers[spec["code"]] = "A short answer"
    return answers


def build_world(w: World) -> None:  # noqa: PLR0915 - one story, told in order
    """Find the demo's objects and add what the demo lacks, over HTTP (see the module docstring)."""
    me = {
        user: w.ok(user, "GET", "/api/v1/me")
        for user in ("alice", "bob", "carol", "lawyer", "ipagent", "bank", "banker")
    }
    org = {user: me[user]["organisation"]["id"] for user in me}
    w.org_a, w.org_b, w.law_firm, w.bank, w.other_bank = (
        org["alice"],
        org["carol"],
        org["lawyer"],
        org["bank"],
        org["banker"],
    )
    # Webhook endpoints first: the events of the story below are delivered to them (and fail:
    # nothing listens on 127.0.0.1:9), which makes the deliveries the notify rows point at.
    hooks = {}
    for user in ("bank", "lawyer"):
        hooks[user] = w.ok(
            user, "POST", "/api/v1/notify/webhooks", 201, json={"url": "https://127.0.0.1:9/hook", "event_types": ["*"]}
        )["id"]
    w.add("webhook", "the bank's", (B,), endpoint_id=hooks["bank"])
    w.add("webhook", "the law firm's", (F,), endpoint_id=hooks["lawyer"])
    w.hooks = hooks
    everyone = SIGNED_IN
    w.add("letter", "no letter", everyone, letter_id="1")
    # The gateway.
    w.add("organisation", "ORG_A", (*TENANTS, *STAFF), organisation_id=w.org_a, org_id=w.org_a)
    w.add("organisation", "ORG_B", STAFF, organisation_id=w.org_b, org_id=w.org_b)
    w.add("user", "bob (ORG_A)", (M, TA, *STAFF), user_id=me["bob"]["subject"].removeprefix("user:"))
    w.add("user", "carol (ORG_B)", STAFF, user_id=me["carol"]["subject"].removeprefix("user:"))
    clients = w.ok("admin", "GET", "/api/v1/api-clients")["items"]
    w.add("api_client", "a partner's client", everyone, client_id=clients[0]["client_id"])
    # Booking.
    spaces = w.ok("admin", "GET", "/api/v1/booking/spaces?page_size=100")["items"]
    rooms = [s for s in spaces if s["kind"] == "conference_room"]
    w.room = rooms[0]["id"]
    hall = next(s for s in spaces if s["kind"] == "exhibition_hall")["id"]
    w.add("space", rooms[0]["name"], everyone, space_id=w.room)
    w.add("year", "2031", everyone, year="2031")
    reservations = {}
    for user, ahead in (("bob", 30), ("carol", 31)):
        body = {"space_id": w.room, **w.slot(ahead, 10), "title": "Team meeting", "attendees": 4}
        reservations[user] = w.ok(user, "POST", "/api/v1/booking/reservations", 201, json=body)["id"]
    w.add("reservation", "bob's (ORG_A)", (M, TA, *STAFF), reservation_id=reservations["bob"])
    w.add("reservation", "carol's (ORG_B)", STAFF, reservation_id=reservations["carol"])
    halls = {}
    for user, ahead in (("bob", 70), ("carol", 74)):
        body = {"space_id": hall, **w.slot(ahead, 0, 48), "title": "Expo", "attendees": 100, "layout": "booths"}
        halls[user] = w.ok(user, "POST", "/api/v1/booking/reservations", 201, json=body)["id"]
        w.ok(
            user, "POST", f"/api/v1/booking/reservations/{halls[user]}/booths", 201, json={"booth": 3, "exhibitor": "X"}
        )
    w.hall_of_bob = halls["bob"]
    w.add("hall", "bob's hall (ORG_A)", (M, TA, *STAFF), reservation_id=halls["bob"])
    w.add("hall", "carol's hall (ORG_B)", STAFF, reservation_id=halls["carol"])
    w.add("booth", "bob's booth (ORG_A)", (M, TA, *STAFF), reservation_id=halls["bob"], booth="3")
    w.add("booth", "carol's booth (ORG_B)", STAFF, reservation_id=halls["carol"], booth="3")
    series = {}
    for user, ahead in (("bob", 80), ("carol", 81)):
        body = {**w.series_body(), **w.slot(ahead, 8)}
        series[user] = w.ok(user, "POST", "/api/v1/booking/series", 201, json=body)["series_id"]
    w.add("series", "bob's (ORG_A)", (M, TA, *STAFF), series_id=series["bob"])
    w.add("series", "carol's (ORG_B)", STAFF, series_id=series["carol"])
    closure = w.ok("admin", "POST", f"/api/v1/booking/spaces/{w.room}/closures", 201, json=w.closure_body())
    w.add("closure", "a closure", everyone, space_id=w.room, closure_id=closure["id"])
    w.add("organisation_feed", "ORG_A's feed", (*TENANTS, *STAFF), collection="organisations", owner_id=w.org_a)
    w.add("organisation_feed", "ORG_B's feed", STAFF, collection="organisations", owner_id=w.org_b)
    # Consulting.
    items = w.ok("admin", "GET", "/api/v1/consulting/items")["items"]
    legal = next(i for i in items if i["category"]["code"] == "legal")
    patent = next(i for i in items if i["category"]["code"] == "intellectual_property")
    w.legal_item, patent_item = legal["id"], patent["id"]
    w.answers = {legal["id"]: answers_for(legal), patent["id"]: answers_for(patent)}
    w.add("category", "legal", everyone, code="legal")
    w.add("item", "an item", everyone, item_id=w.legal_item)
    cases = {}
    for user, item, firm, agent in (
        ("bob", w.legal_item, w.law_firm, "lawyer"),
        ("carol", patent_item, me["ipagent"]["organisation"]["id"], "ipagent"),
    ):
        body = {**w.case_body(), "item_id": item, "answers": w.answers[item]}
        case = w.ok(user, "POST", "/api/v1/consulting/cases", 201, json=body)
        path = f"/api/v1/consulting/cases/{case['id']}"
        case = w.act("desk", path, "triage", {})
        if case["status"] == "triaged":
            case = w.act("desk", path, "assign", {"firm_org_id": firm})
        assert case["firm"]["id"] == firm, case
        w.act(agent, path, "accept")
        quote = w.ok(agent, "POST", f"{path}/quotes", 201, json={"fee": "9000.00", "description": "Review"})
        message = w.ok(
            user, "POST", f"{path}/messages", 201, data={"body": "The file.", "file": (io.BytesIO(PDF), "a.pdf")}
        )
        meeting = w.ok(user, "POST", f"{path}/meetings", 201, json=w.meeting_body())
        cases[user] = (case["id"], quote["id"], message["id"], message["attachments"][0]["id"], meeting["id"])
    for user, label, seen_by in (
        ("bob", "bob's (ORG_A, the law firm's)", (M, TA, F, *STAFF)),
        ("carol", "carol's (ORG_B, the IP agency's)", STAFF),
    ):
        case_id, quote_id, message_id, attachment_id, meeting_id = cases[user]
        w.add("case", label, seen_by, case_id=case_id)
        w.add("quote", label, seen_by, case_id=case_id, quote_id=quote_id)
        w.add("message", label, seen_by, case_id=case_id, message_id=message_id)
        w.add("attachment", label, seen_by, case_id=case_id, attachment_id=attachment_id)
        w.add("meeting", label, seen_by, case_id=case_id, meeting_id=meeting_id)
    w.add("firm", "the law firm (the firm agent's own)", (F, *STAFF), org_id=w.law_firm)
    w.add("firm", "the IP agency", STAFF, org_id=me["ipagent"]["organisation"]["id"])
    # Finance.
    products = w.ok("admin", "GET", "/api/v1/finance/products")["items"]
    w.add("product", "a product", everyone, product_id=products[0]["id"])
    w.loan_product = next(p for p in products if p["kind"] == "guaranteed_loan")["id"]
    pledge_product = next(p for p in products if p["kind"] == "ip_pledge_loan")["id"]
    apps = [
        w.ok("desk", "GET", f"/api/v1/finance/applications/{a['id']}")
        for a in w.ok("desk", "GET", "/api/v1/finance/applications")["items"]
    ]

    def reviews_of(app: dict[str, Any]) -> set[str]:
        return {
            r["partner_org_id"]
            for r in w.ok("desk", "GET", f"/api/v1/finance/applications/{app['id']}/reviews")["items"]
        }

    def offers_of(app: dict[str, Any]) -> list[dict[str, Any]]:
        return list(w.ok("desk", "GET", f"/api/v1/finance/applications/{app['id']}/offers")["items"])

    loan_a = next(
        a
        for a in apps
        if a["organisation"]["id"] == w.org_a
        and a["status"] == "routed"
        and a["product_kind"] != "ip_pledge_loan"
        and any(o["partner_org_id"] == w.bank for o in offers_of(a))
    )
    # ORG_B's loan (the demo's, in pre-review), routed to the other bank alone, which reviews it and offers.
    loan_b = next(a for a in apps if a["organisation"]["id"] == w.org_b and a["status"] == "pre_review")
    path_b = f"/api/v1/finance/applications/{loan_b['id']}"
    w.act("desk", path_b, "route", {"partner_org_ids": [w.other_bank]})
    review_path = f"{path_b}/reviews/{w.other_bank}"
    version = w.ok("desk", "GET", review_path)["version"]
    w.ok("banker", "POST", f"{review_path}/start", headers={"If-Match": f'"{version}"'})
    offer_b = w.ok("banker", "POST", f"{path_b}/offers", 201, json=w.offer_terms())
    for label, app, seen_by, partner, offer in (
        (
            "ORG_A's loan (routed to the bank)",
            loan_a,
            (*TENANTS, B, *STAFF),
            w.bank,
            next(o for o in offers_of(loan_a) if o["partner_org_id"] == w.bank),
        ),
        ("ORG_B's loan (routed to another bank)", loan_b, STAFF, w.other_bank, offer_b),
    ):
        documents = w.ok("desk", "GET", f"/api/v1/finance/applications/{app['id']}/documents")["items"]
        w.add("application", label, seen_by, application_id=app["id"])
        w.add("review", label, seen_by, application_id=app["id"], partner_org_id=partner)
        w.add("offer", label, seen_by, offer_id=offer["id"])
        w.add("document", label, seen_by, application_id=app["id"], document_id=documents[0]["id"])
    # IP pledges: ORG_A's routed to the bank (the demo's); ORG_B's a draft of carol's with a patent.
    pledge_a = next(a for a in apps if a["organisation"]["id"] == w.org_a and a["product_kind"] == "ip_pledge_loan")
    assert w.bank in reviews_of(pledge_a)
    patent_a = w.ok("desk", "GET", f"/api/v1/finance/applications/{pledge_a['id']}/patents")["items"][0]
    pledge_b = w.ok(
        "carol", "POST", "/api/v1/finance/applications", 201, json={**w.loan_body(), "product_id": pledge_product}
    )
    patent_b = w.ok(
        "carol", "POST", f"/api/v1/finance/applications/{pledge_b['id']}/patents", 201, json=w.patent_body()
    )
    w.add("pledge", "ORG_A's IP pledge (routed to the bank)", (*TENANTS, B, *STAFF), application_id=pledge_a["id"])
    w.add("pledge", "ORG_B's IP pledge draft", STAFF, application_id=pledge_b["id"])
    w.add(
        "patent",
        "ORG_A's IP pledge (routed to the bank)",
        (*TENANTS, B, *STAFF),
        application_id=pledge_a["id"],
        patent_id=patent_a["id"],
    )
    w.add("patent", "ORG_B's IP pledge draft", STAFF, application_id=pledge_b["id"], patent_id=patent_b["id"])
    # Lent: a loan of each organisation the bank lent (its offer accepted), paid out in part.
    lent = [
        a
        for a in apps
        if any(o["id"] == a["accepted_offer_id"] and o["partner_org_id"] == w.bank for o in offers_of(a))
    ]
    for owner, label, seen_by in (
        (w.org_a, "ORG_A's loan lent by the bank", (*TENANTS, B, *STAFF)),
        (w.org_b, "ORG_B's loan lent by the bank", (B, *STAFF)),
    ):
        app = next(
            a
            for a in lent
            if a["organisation"]["id"] == owner
            and w.bank in reviews_of(a)
            and w.ok("desk", "GET", f"/api/v1/finance/applications/{a['id']}/disbursements")["items"]
        )
        tranche = w.ok("desk", "GET", f"/api/v1/finance/applications/{app['id']}/disbursements")["items"][0]
        w.add("lent", label, seen_by, application_id=app["id"])
        w.add("tranche", label, seen_by, application_id=app["id"], disbursement_id=tranche["id"])
    # Notify: bob's and carol's notifications; the bank's and the law firm's webhook endpoints.
    for user, label, seen_by in (("bob", "bob's", (M,)), ("carol", "carol's (ORG_B)", ())):
        mine = w.ok(user, "GET", "/api/v1/notify/notifications")["items"]
        w.add("notification", label, seen_by, notification_id=mine[0]["id"])


def add_deliveries(w: World) -> None:
    """A delivery of each partner's endpoint, once the bus has tried to deliver the story's events."""
    found = []
    for user, caller in (("bank", B), ("lawyer", F)):
        deliveries = w.ok(user, "GET", f"/api/v1/notify/webhooks/{w.hooks[user]}/deliveries")["items"]
        if deliveries:
            found.append((user, caller, deliveries[0]["id"]))
    assert found, "no webhook delivery was made"
    for user, caller, delivery_id in found:
        w.add("delivery", f"the {user}'s", (caller,), endpoint_id=w.hooks[user], delivery_id=str(delivery_id))


# -- the platform, once per module ----------------------------------------------------------------


@dataclass
class Rig:
    world: World
    databases: list[tuple[Database, MetaData]]
    cells: dict[str, int] = field(default_factory=lambda: {"refused": 0, "allowed": 0})
    allowed_answers: Counter[int] = field(default_factory=Counter)
    """The statuses of the allowed cells: how many were done (2xx), judged stale (412)..."""


@pytest.fixture(scope="module")
def rig(demo_platform: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    var = tmp_path_factory.mktemp("authz") / "var"
    shutil.copytree(demo_platform, var)
    settings = make_settings(var, PARKHUB_RATE_LIMIT="100000/minute", PARKHUB_WEBHOOK_ALLOW_PRIVATE="1")
    platform = EmbeddedPlatform(settings)
    platform.start()
    try:
        platform.bus.wait_until_idle(30)
        world = World(Park(platform))
        build_world(world)
        platform.bus.wait_until_idle(30)
        add_deliveries(world)
    finally:
        platform.stop()  # from here on, only the calls under test change a database
    databases = [platform.gateway_database] + [
        __import__(f"services.{name}.models", fromlist=["database"]).database(settings)
        for name in platform.service_apps
    ]
    reflected = []
    for db in databases:
        metadata = MetaData()
        metadata.reflect(bind=db.engine)
        reflected.append((db, metadata))
    yield Rig(world, reflected)


def every_row(rig: Rig) -> list[dict[str, Any]]:
    return [snapshot(db, metadata) for db, metadata in rig.databases]


# -- the test -------------------------------------------------------------------------------------


def test_every_route_has_a_row_and_every_row_a_route(rig: Rig) -> None:
    served = route_table(rig.world.park.platform)
    missing = sorted(served - MATRIX.keys() - PUBLIC.keys())
    assert not missing, f"routes without a row in tests/security/matrix.py (say who may call them): {missing}"
    gone = sorted((MATRIX.keys() | PUBLIC.keys()) - served)
    assert not gone, f"rows of tests/security/matrix.py whose route the platform no longer serves: {gone}"
    assert not MATRIX.keys() & PUBLIC.keys()


def test_public_routes_answer_without_a_token(rig: Rig) -> None:
    """What PUBLIC lists is public indeed: no 401 without a token (a 4xx about the form at most)."""
    w = rig.world
    for method, route in PUBLIC:
        path = route.replace(
            "<string:collection>/<string:owner_id>/<string:secret>", f"organisations/{w.org_a}/nosecret"
        )
        response = w.call(None, method, path)
        # health is 503 here: the bus is stopped on purpose (see the module docstring).
        assert response.status_code not in (401, 403, 500), (method, route, response.status_code)


def test_the_table_is_whole_and_never_shows_a_tenant_another_organisations_object(rig: Rig) -> None:
    """Every row names objects the world has; a row without objects classes every caller; no object
    of ORG_B is seen by a tenant caller of ORG_A (the matrix itself cannot grant a BOLA)."""
    for (method, route), rule in MATRIX.items():
        if rule.on is None:
            unclassed = set(SIGNED_IN) - set(rule.may) - set(rule.forbidden)
            assert not unclassed, (method, route, unclassed)
        else:
            assert rule.on in rig.world.targets, (method, route, rule.on)
    for family, targets in rig.world.targets.items():
        for target in targets:
            if "ORG_B" in target.label:
                assert not set(TENANTS) & target.seen_by, (family, target)


def path_of(route: str, params: dict[str, str]) -> str:
    """``route`` with its ``<converter:name>`` parts replaced by ``params``."""

    def value(match: re.Match[str]) -> str:
        return params[match.group(1)]

    return re.sub(r"<(?:[^:<>]+:)?([a-z_]+)>", value, route)


def send(w: World, rule: Rule, caller: str, method: str, path: str, *, if_match: str) -> Any:
    query = rule.query(w) if callable(rule.query) else rule.query
    kwargs: dict[str, Any] = {}
    if method != "GET":
        kwargs["headers"] = {"If-Match": if_match}
        if rule.body == "multipart":
            kwargs["data"] = {"doc_type": "tax_returns", "file": (io.BytesIO(PDF), "tax.pdf")}
        elif rule.body is not None:
            kwargs["json"] = rule.body(w) if callable(rule.body) else dict(rule.body)  # type: ignore[call-overload]
    return w.call(CALLERS[caller], method, path + query, **kwargs)


def fresh_target(w: World, route: str, target: Target) -> Target:
    """A new object for an allowed DELETE that consumes it: a closure or a booth of the same owner."""
    w.fresh_counter += 1
    if "closures" in route:
        body = {**w.slot(90 + w.fresh_counter, 8, 2), "reason": "Maintenance"}
        closure = w.ok("admin", "POST", f"/api/v1/booking/spaces/{w.room}/closures", 201, json=body)
        return Target(target.label, {**target.params, "closure_id": closure["id"]}, target.seen_by)
    if "booths" in route:
        booth = str(10 + w.fresh_counter)
        hall = target.params["reservation_id"]
        w.ok(
            "desk",
            "POST",
            f"/api/v1/booking/reservations/{hall}/booths",
            201,
            json={"booth": int(booth), "exhibitor": "Y"},
        )
        return Target(target.label, {**target.params, "booth": booth}, target.seen_by)
    raise AssertionError(f"no fresh object for {route}")


def cells_of(rule: Rule, rig: Rig) -> list[Target]:
    return rig.world.targets[rule.on] if rule.on else [Target("none of an organisation's", {}, frozenset(SIGNED_IN))]


ORDER = {"GET": 0, "PUT": 1, "PATCH": 1, "POST": 1, "DELETE": 2}


@pytest.mark.duration(seconds=80)
def test_authorization_matrix(rig: Rig) -> None:
    """Every cell answers as the matrix says; refusals are problem+json and change nothing."""
    w = rig.world
    started = time.monotonic()
    wrong: list[str] = []
    routes = sorted(MATRIX.items(), key=lambda item: (ORDER[item[0][0]], item[0][1]))
    for (method, route), rule in routes:
        for target in cells_of(rule, rig):
            path = path_of(route, target.params)
            expected = {caller: rule.expected(caller, target.seen_by) for caller in CALLERS}
            refusals = [c for c, status in expected.items() if status in (401, 403, 404)]
            before = every_row(rig) if method != "GET" else None
            for caller in refusals:
                response = send(w, rule, caller, method, path, if_match="*")
                rig.cells["refused"] += 1
                try:
                    refused(response, int(expected[caller]), f"{method} {route} {caller} on {target.label}")
                except AssertionError:
                    wrong.append(
                        f"{method} {route} as {caller} on {target.label}: expected {expected[caller]}, "
                        f"got {response.status_code} {response.get_data(as_text=True)[:160]}"
                    )
            if before is not None and every_row(rig) != before:
                wrong.append(f"{method} {route} on {target.label}: a refused call changed the databases")
            for caller, status in expected.items():
                if caller in refusals:
                    continue
                cell = fresh_target(w, route, target) if rule.fresh else target
                response = send(w, rule, caller, method, path_of(route, cell.params), if_match=STALE)
                rig.cells["allowed"] += 1
                rig.allowed_answers[response.status_code] += 1
                ok = (
                    response.status_code == status
                    if status != ALLOWED
                    else response.status_code not in (401, 403, 404) and response.status_code < 500
                )
                if not ok:
                    wrong.append(
                        f"{method} {route} as {caller} on {target.label}: expected {status}, "
                        f"got {response.status_code} {response.get_data(as_text=True)[:160]}"
                    )
    elapsed = time.monotonic() - started
    answers = dict(sorted(rig.allowed_answers.items()))
    print(f"\nauthz matrix: {len(MATRIX)} routes, {rig.cells} cells in {elapsed:.1f}s; allowed answered {answers}")
    assert not wrong, f"{len(wrong)} cells answered otherwise than the matrix says:\n" + "\n".join(wrong)


def test_bola_a_tenant_never_gets_a_2xx_on_another_organisations_object(rig: Rig) -> None:
    """The BOLA property stated on its own: every row with objects, every tenant caller, ORG_B's
    object, the request that would succeed: never a 2xx. (The matrix test checks the exact status.)"""
    w = rig.world
    seen = 0
    for (method, route), rule in MATRIX.items():
        if rule.on is None or rule.fresh:
            continue
        for target in rig.world.targets[rule.on]:
            if "ORG_B" not in target.label:
                continue
            for caller in TENANTS:
                response = send(w, rule, caller, method, path_of(route, target.params), if_match="*")
                seen += 1
                assert not 200 <= response.status_code < 300, (method, route, caller, response.get_json())
    assert seen > 100, seen


def test_a_streamed_answer_left_open_lends_its_caller_to_no_later_request(rig: Rig) -> None:
    """Found by this matrix: a streamed CSV export keeps its request's context (and Flask its app
    context) until its iterator is closed, and the next request on the thread reused it, caller
    and all: an anonymous request read alice's reservations. The cached caller now names its
    request (shared/http/auth.py ``caller``)."""
    w = rig.world
    export = w.park.as_user("alice", "GET", "/api/v1/booking/reports/reservations.csv" + w.period())
    try:
        assert export.status_code == 200 and export.is_streamed
        anonymous = w.park.client.get("/api/v1/booking/reservations")
        refused(anonymous, 401, "an anonymous request after alice's open export")
        as_bob = w.park.as_user("bob", "GET", "/api/v1/booking/reports/utilisation" + w.period())
        refused(as_bob, 403, "bob after alice's open export")  # bob, not alice, and not admin
    finally:
        export.close()
