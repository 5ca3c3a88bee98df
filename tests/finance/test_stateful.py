"""Financing applications under every action by every role, in any order (issue 11): a Hypothesis
``RuleBasedStateMachine`` over real HTTP through finance's app (one database built by the
migrations per run, emptied for each example), with tokens of both tenant organisations' admins
and members, two banks' agents, the guarantee company's, the bureau's two, a law firm's (a
partner finance never routes to), the desk and the park admin.

Rules: a draft (a guaranteed loan, a subsidy or an IP-pledge loan, with its checklist's
documents; an ``Idempotency-Key`` replayed), every application action (submit, pre-review, route,
turn down, withdraw, sign the contract, close) with a fresh, stale or no ``If-Match``, each
partner's review (start, request and provide information, decline), offers made (keyed, replayed),
accepted, declined and withdrawn, a bureau's approval, tranches recorded (keyed, replayed) and
approved by a second person, and the park's clock moved with the offer-expiry and
unanswered-valuation jobs run. For IP-pledge loans: patents listed (keyed, replayed) and removed,
the desk's valuation request and a valuation recorded by hand (fresh, stale, ``*`` or no
``If-Match``), consulting's answers (opened, completed, failed) delivered to finance's inbox as
the bus would, to the latest request or an older one, and the same envelope again; the pledge
registered. Each is tried mostly by who may and often by anyone.

After every step: no 5xx ever; a refused request changed no row; every audit line's from → to
is in its machine's table (the application's, a subsidy's, a review's, an offer's; recorded lines
move nothing) and each application's and review's lines chain to its status; the audit is
complete, counted: the outbox holds each line's event exactly as many times as the lines call
for (and nothing else), the decisions one per line that makes one; at most one accepted offer per
application; amounts are never negative and the approved tranches never pay more than the
accepted amount. For IP-pledge loans: patents change only in a draft; a valuation request moves
only along its documented moves, one open per application, and a late answer to an older request
never overrides a newer one; a pledge is registered only after acceptance, by the accepted
partner or staff, and released once, at closing.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from services.finance.app import create_app
from services.finance.consumers import HANDLERS
from services.finance.handlers.offers import expire_offers
from services.finance.handlers.valuations import unanswered_valuations
from services.finance.models import (
    Application,
    ApplicationTransition,
    Base,
    Decision,
    Disbursement,
    Offer,
    Patent,
    Review,
    ValuationRequest,
    directory,
)
from services.finance.models import database as finance_database
from services.finance.rules.lifecycle import (
    EVENT_OF_ACTION,
    OFFER_TRANSITIONS,
    RECORDED_ACTIONS,
    REVIEW_EVENT_OF_ACTION,
    REVIEW_TRANSITIONS,
    SUBSIDY_TRANSITIONS,
    TRANSITIONS,
)
from shared.bus.inbox import Inbox, Outcome
from shared.clock import PARK_TZ
from tests.booking.conftest import BANK
from tests.consulting.stateful_support import Caller, ParkClock, Rig, machine_settings
from tests.finance import stateful_support as ip
from tests.finance.conftest import BANK2, BUREAU, GUARANTEE, LAW, USERS, Products, load_products, register_organisations
from tests.finance.test_documents import code_of
from tests.finance.test_documents import upload as upload_document
from tests.service_rig import published
from tests.service_rig import register_organisations as register_more

EVERYONE = tuple(USERS)
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
"""The hour the run started: every example's clock starts there (the subsidy's window is open)."""
STAFF = ("desk", "desk2", "admin")
APPLICANTS = ("alice", "bob", "carol")
AGENTS = {BANK: ("bank", "bank2"), BANK2: ("banker",), GUARANTEE: ("guarantor",), BUREAU: ("bureau", "bureau2")}
PARTNERS = {Products.loan: (BANK, BANK2, GUARANTEE), Products.subsidy: (BUREAU,), Products.ip_loan: (BANK,)}

DRAFTS = {
    Products.loan: {"product_id": Products.loan, "amount": "500000.00", "term_months": 12, "purpose": "Lab equipment"},
    Products.subsidy: {"product_id": Products.subsidy, "amount": "300000.00", "term_months": 12, "purpose": "R&D"},
    Products.ip_loan: {"product_id": Products.ip_loan, "amount": "500000.00", "term_months": 12, "purpose": "CAR-T"},
}
CHECKLISTS = {
    Products.loan: ("business_licence", "financial_statements"),
    Products.subsidy: ("business_licence",),
    Products.ip_loan: ("business_licence",),
}

APPLICATION_ACTIONS: dict[str, tuple[str, list[Any]]] = {
    "submit": ("tenant", [None]),
    "start-pre-review": ("staff", [None]),
    "route": ("staff", [{"partner_org_ids": "partners"}, {"partner_org_ids": [LAW]}, {"partner_org_ids": []}]),
    "turn-down": ("staff", [{"reason": "Outside the park's priorities."}, {"reason": " "}]),
    "withdraw": ("tenant", [None]),
    "contract": ("partner", [{"contract_number": "SD-2026-001", "signed_on": "today"}]),
    "close": ("staff", [None]),
}
"""Action → whose turn it is and the bodies tried (the first a good one)."""
REVIEW_ACTIONS: dict[str, tuple[str, list[Any]]] = {
    "start": ("partner", [None]),
    "request-info": ("partner", [{"questions": ["Who are your largest customers?"]}, {"questions": []}]),
    "provide-info": ("tenant", [{"answers": ["Three hospitals."]}]),
    "decline": ("partner", [{"reason_code": "credit_history"}, {"reason_code": "other"}]),
}
OFFER_ANSWERS = ("accept", "decline", "withdraw")
FORWARD = (
    "submit",
    "start-pre-review",
    "valuation",
    "route",
    "start",
    "offer",
    "accept",
    "contract",
    "pledge",
    "tranche",
    "approve",
    "close",
)
"""The way of a loan to its close, one step of this machine each (:meth:`FinanceMachine.forward`);
``valuation`` and ``pledge`` only for an IP-pledge loan (the valuation asked in the pre-review
and answered: the application is routed by it, as in the journey)."""

OFFER_CREATED = {"make": "made", "approve": "accepted"}
"""The line of an offer's creation (from nothing): a partner's offer is made, a bureau's approval
is accepted as it is given."""
EVENT_OF_REVIEW_LINE = {**REVIEW_EVENT_OF_ACTION, "make_offer": "finance.application.offer_made"}
REACHED: Counter[str] = Counter()
"""Application states reached over a run (the audit lines' ``to``, read after each step)."""
IP_REACHED: Counter[str] = Counter()
"""What a run did to IP-pledge loans: valuations recorded from consulting's answers, pledges
registered and released, late answers to an older request (counted as the steps do them)."""


def actor(likely: Sequence[str]) -> st.SearchStrategy[str]:
    """Mostly who may (so applications move on), often anyone at all (so refusals are tried)."""
    return st.one_of(st.sampled_from(tuple(likely)), st.sampled_from(EVERYONE))


def offer_terms(now: datetime, amount: str = "400000.00") -> dict[str, Any]:
    return {
        "amount": amount,
        "annual_rate": "4.35",
        "term_months": 12,
        "repayment_method": "equal_instalments",
        "fees": [],
        "conditions": "A guarantee by the Hi-Tech guarantee company",
        "expires_at": (now + timedelta(days=14)).isoformat(),
    }


class FinanceMachine(RuleBasedStateMachine):
    """One example: finance emptied and loaded with the test products; applications driven by
    the rules below."""

    rig: Rig

    def __init__(self) -> None:
        super().__init__()
        self.clock = ParkClock(START)
        self.clock_patch = pytest.MonkeyPatch()
        self.clock.install(self.clock_patch)
        self.rig.emptied()
        self.db = self.rig.db
        register_organisations(self.db)
        register_more(self.db, directory, [ip.IP_AGENCY_ROW])
        load_products(self.db)
        self.api = self.rig.api("/api/v1/finance", USERS)
        self.http = Caller(ip.DeletingApi(self.api), self.db, Base.metadata)
        self.inbox = Inbox("finance", self.db, HANDLERS)
        self.applications: list[str] = []
        self.products: dict[str, str] = {}
        self.today = START.astimezone(PARK_TZ).date()
        self.requests: list[tuple[str, str]] = []
        """Valuation requests (application, request), oldest first."""
        self.request_status: dict[str, str] = {}
        """Each request's status after the last step (the invariant's memory)."""
        self.envelopes: list[dict[str, Any]] = []
        """Consulting's answers delivered, to deliver again."""
        self.valuation_path = ip.VALUATION_PATHS[0]

    def teardown(self) -> None:
        self.clock_patch.undo()

    # Reading -----------------------------------------------------------------------------------

    def application(self, pick: int, ip_pledge: bool = False) -> Application:
        """One of the applications; with ``ip_pledge`` one of the IP-pledge loans if there are any
        (the rules of patents, valuations and pledges act on those, and on others now and then)."""
        among = [a for a in self.applications if self.products[a] == Products.ip_loan] if ip_pledge else []
        among = among or self.applications
        with self.db.reading() as session:
            found = session.get(Application, among[pick % len(among)])
            assert found is not None
            session.expunge(found)
            return found

    def reviews(self, application_id: str) -> list[tuple[str, str, int]]:
        with self.db.reading() as session:
            query = select(Review.partner_org_id, Review.status, Review.version).where(
                Review.application_id == application_id
            )
            return [tuple(r) for r in session.execute(query.order_by(Review.partner_org_id))]  # type: ignore[misc]

    def offers(self, application_id: str) -> list[tuple[str, str, int, str]]:
        with self.db.reading() as session:
            query = select(Offer.id, Offer.status, Offer.version, Offer.partner_org_id).where(
                Offer.application_id == application_id
            )
            # Not by id (random): the same example must read its offers in the same order when replayed.
            order = (Offer.made_at, Offer.partner_org_id, Offer.status, Offer.amount, Offer.version)
            return [tuple(r) for r in session.execute(query.order_by(*order))]  # type: ignore[misc]

    def tranches(self, application_id: str) -> list[tuple[str, str, int, str]]:
        with self.db.reading() as session:
            query = select(Disbursement.id, Disbursement.status, Disbursement.version, Disbursement.recorded_by)
            query = query.where(Disbursement.application_id == application_id).order_by(Disbursement.number)
            return [tuple(r) for r in session.execute(query)]  # type: ignore[misc]

    def users(self, turn: str, application: Application, partner: str | None = None) -> tuple[str, ...]:
        """Who may: the applicant's side (the member who drafted it and the organisation's
        admin), the staff, or the agents of ``partner`` (any routed partner's without one)."""
        if turn == "tenant":
            return tuple(
                u
                for u, p in USERS.items()
                if p.sub == application.applicant or (p.org == application.org_id and "tenant_admin" in p.roles)
            )
        if turn == "staff":
            return STAFF
        partners = [partner] if partner else [p for p, _, _ in self.reviews(application.id)] or [BANK]
        return tuple(u for p in partners for u in AGENTS.get(p, ("lawyer",)))

    @staticmethod
    def etag(version: int, how: str) -> dict[str, str]:
        if how == "none":
            return {}
        return {"If-Match": {"fresh": f'"{version}"', "stale": f'"{version - 1}"', "*": "*"}[how]}

    def patents(self, application_id: str) -> list[tuple[str, str]]:
        with self.db.reading() as session:
            query = select(Patent.id, Patent.number).where(Patent.application_id == application_id)
            return [tuple(r) for r in session.execute(query.order_by(Patent.number))]  # type: ignore[misc]

    def pledgers(self, application: Application) -> tuple[str, ...]:
        """Who may register the pledge: the accepted partner's agents and staff (docs/FINANCE.md)."""
        partner = application.accepted_partner_org_id
        return (*(u for u, p in USERS.items() if partner and p.org == partner), *STAFF)

    def body_of(self, body: Any, application: Application) -> Any:
        if not isinstance(body, dict):
            return body
        out = dict(body)
        if out.get("partner_org_ids") == "partners":
            out["partner_org_ids"] = list(PARTNERS[application.product_id][:2])
        if out.get("signed_on") == "today":
            out["signed_on"] = self.clock.now.date().isoformat()
        return out

    # Rules -------------------------------------------------------------------------------------

    @initialize(
        product=st.sampled_from(tuple(DRAFTS)),
        head_start=st.one_of(st.just(len(FORWARD)), st.integers(0, len(FORWARD))),
    )
    def first_application(self, product: str, head_start: int) -> None:
        """Every example starts with alice's application taken ``head_start`` steps on its way."""
        self.draft("alice", product, keyed=False)
        for step in FORWARD[:head_start]:
            self.forward(len(self.applications) - 1, step)

    @initialize(head_start=st.integers(0, len(FORWARD)), valuation=st.sampled_from(ip.VALUATION_PATHS))
    def first_ip_pledge_loan(self, head_start: int, valuation: str) -> None:
        """And an IP-pledge loan of alice's taken ``head_start`` steps (anywhere on its way), its
        valuations in this example answered by ``valuation`` (:meth:`valuation_step`)."""
        self.valuation_path = valuation
        self.draft("alice", Products.ip_loan, keyed=False)
        for step in FORWARD[:head_start]:
            self.forward(len(self.applications) - 1, step)

    @rule(user=actor(APPLICANTS), product=st.sampled_from(tuple(DRAFTS)), keyed=st.booleans())
    def draft(self, user: str, product: str, keyed: bool) -> None:
        body = DRAFTS[product]
        key = uuid.uuid4().hex if keyed else None
        response = self.http.call("post", "/applications", user, body, **({"Idempotency-Key": key} if key else {}))
        if USERS[user].org_kind != "tenant":
            assert response.status_code == 403
            return
        if response.status_code != 201:  # ORG_B has no company profile: its applicant may be refused
            return
        application_id = response.get_json()["id"]
        assert response.get_json()["status"] == "draft"
        self.applications.append(application_id)
        self.products[application_id] = product
        if key:
            self.http.replayed("post", "/applications", user, body, key, response)
        for doc_type in CHECKLISTS[product]:
            uploaded = upload_document(self.api, application_id, doc_type, user=user)
            assert uploaded.status_code == 201, uploaded.get_json()
        if product == Products.ip_loan:  # the patent it pledges: submission needs one
            body = ip.patent("good", ip.PATENT_NUMBERS[0], self.today)
            listed = self.http.call("post", f"/applications/{application_id}/patents", user, body)
            assert listed.status_code == 201, listed.get_json()

    def forward(self, pick: int, step: str) -> None:
        """One step of :data:`FORWARD` on the application, by the first who may, as a portal sends it."""
        application = self.application(pick)
        now = self.clock.now
        if step in APPLICATION_ACTIONS:
            turn, bodies = APPLICATION_ACTIONS[step]
            partner = self._accepted_partner(application.id)
            user = self.users(turn, application, partner)[0]
            self.http.call(
                "post",
                f"/applications/{application.id}/{step}",
                user,
                self.body_of(bodies[0], application),
                **self.etag(application.version, "fresh"),
            )
        elif step == "start":
            for partner, status, version in self.reviews(application.id):
                self.http.call(
                    "post",
                    f"/applications/{application.id}/reviews/{partner}/start",
                    AGENTS[partner][0],
                    None,
                    **self.etag(version, "fresh"),
                )
        elif step == "offer":
            for partner, status, version in self.reviews(application.id):
                if partner == BUREAU:
                    path, body = f"/applications/{application.id}/approval", {"amount": "200000.00"}
                    self.http.call("post", path, "bureau", body, **self.etag(version, "fresh"))
                else:
                    self.http.call(
                        "post", f"/applications/{application.id}/offers", AGENTS[partner][0], offer_terms(now)
                    )
        elif step == "accept":
            for offer_id, status, version, _ in self.offers(application.id)[:1]:
                self.http.call("post", f"/offers/{offer_id}/accept", "alice", None, **self.etag(version, "fresh"))
        elif step == "tranche":
            partner = self._accepted_partner(application.id) or BANK
            body = {"amount": "200000.00", "disbursed_on": now.date().isoformat(), "reference": "TRX-1"}
            self.http.call("post", f"/applications/{application.id}/disbursements", AGENTS[partner][0], body)
        elif step == "approve":
            for tranche_id, status, version, _ in self.tranches(application.id):
                path = f"/applications/{application.id}/disbursements/{tranche_id}/approve"
                self.http.call("post", path, "desk", None, **self.etag(version, "fresh"))
        elif step == "valuation" and application.product_id == Products.ip_loan:
            self.valuation_step(application)
        elif step == "pledge" and application.product_id == Products.ip_loan:
            body = {"number": "Z2026510000123", "registered_on": now.date().isoformat()}
            user = self.pledgers(application)[0]
            self.http.call(
                "put", f"/applications/{application.id}/pledge", user, body, **self.etag(application.version, "fresh")
            )

    def valuation_step(self, application: Application) -> None:
        """The desk asks for the valuation and consulting answers, by :attr:`valuation_path`:
        at once (``answered``); or the case is cancelled (``failed``), or consulting is silent
        until the job gives up (``unanswered``), and the desk asks again, answered at once (the
        first request's late answers are for :meth:`consulting_answers`)."""
        if self.ask_valuation(application, "desk", "fresh", None).status_code != 200:
            return
        if self.valuation_path != "answered":
            _, first = self.requests[-1]
            if self.valuation_path == "failed":
                self.answer(first, application, "opened", "failed")
            else:
                now = self.clock.advance(timedelta(hours=1))
                with self.db.unit_of_work() as uow:
                    assert unanswered_valuations(self.rig.settings.valuation_answer_minutes)(uow=uow, now=now) == 1
                    uow.commit()
            application = self.application(self.applications.index(application.id))
            assert self.ask_valuation(application, "desk", "fresh", None).status_code == 200
        self.answer(self.requests[-1][1], application, "opened", "completed")

    def answer(self, request_id: str, application: Application, *kinds: str) -> None:
        for kind in kinds:
            case = self._case(request_id)
            self.deliver(ip.valuation_answer(kind, request_id, application.id, application.org_id, case))

    def _accepted_partner(self, application_id: str) -> str | None:
        return next((p for _, s, _, p in self.offers(application_id) if s == "accepted"), None)

    @precondition(lambda self: self.applications)
    @rule(pick=st.integers(0, 20), step=st.sampled_from(FORWARD))
    def next_step(self, pick: int, step: str) -> None:
        self.forward(pick, step)

    @precondition(lambda self: self.applications)
    @rule(
        data=st.data(),
        pick=st.integers(0, 20),
        action=st.sampled_from(tuple(APPLICATION_ACTIONS)),
        how=st.sampled_from(("fresh", "fresh", "fresh", "stale", "none")),
    )
    def act(self, data: st.DataObject, pick: int, action: str, how: str) -> None:
        application = self.application(pick)
        turn, bodies = APPLICATION_ACTIONS[action]
        user = data.draw(actor(self.users(turn, application)), label="user")
        body = self.body_of(data.draw(st.sampled_from(bodies), label="body"), application)
        path = f"/applications/{application.id}/{action}"
        response = self.http.call("post", path, user, body, **self.etag(application.version, how))
        if how != "fresh":
            assert response.status_code in (403, 404, 412, 422, 428), (action, how, response.status_code)
        if response.status_code == 200:
            again = self.http.call("post", path, user, body, **self.etag(application.version, how))
            assert again.status_code in (404, 412), (action, again.status_code)

    @precondition(lambda self: self.applications)
    @rule(
        data=st.data(),
        pick=st.integers(0, 20),
        action=st.sampled_from(tuple(REVIEW_ACTIONS)),
        how=st.sampled_from(("fresh", "fresh", "stale")),
    )
    def review(self, data: st.DataObject, pick: int, action: str, how: str) -> None:
        application = self.application(pick)
        reviews = self.reviews(application.id) or [(BANK, "none", 1)]
        partner, _, version = data.draw(st.sampled_from(reviews), label="review")
        turn, bodies = REVIEW_ACTIONS[action]
        user = data.draw(actor(self.users(turn, application, partner)), label="user")
        body = data.draw(st.sampled_from(bodies), label="body")
        path = f"/applications/{application.id}/reviews/{partner}/{action}"
        self.http.call("post", path, user, body, **self.etag(version, how))

    @precondition(lambda self: self.applications)
    @rule(
        data=st.data(),
        pick=st.integers(0, 20),
        amount=st.sampled_from(("400000.00", "0", "-1.00", "1.001")),
        keyed=st.booleans(),
    )
    def make_offer(self, data: st.DataObject, pick: int, amount: str, keyed: bool) -> None:
        application = self.application(pick)
        user = data.draw(actor(self.users("partner", application)), label="user")
        body = offer_terms(self.clock.now, amount)
        key = uuid.uuid4().hex if keyed else None
        path = f"/applications/{application.id}/offers"
        response = self.http.call("post", path, user, body, **({"Idempotency-Key": key} if key else {}))
        if response.status_code == 201:
            assert Decimal(amount) > 0 and response.get_json()["status"] == "made"
            if key:
                self.http.replayed("post", path, user, body, key, response)

    @precondition(lambda self: self.applications)
    @rule(
        data=st.data(),
        pick=st.integers(0, 20),
        answer=st.sampled_from(OFFER_ANSWERS),
        how=st.sampled_from(("fresh", "fresh", "stale")),
    )
    def answer_offer(self, data: st.DataObject, pick: int, answer: str, how: str) -> None:
        application = self.application(pick)
        offers = self.offers(application.id)
        if not offers:
            return
        offer_id, status, version, partner = data.draw(st.sampled_from(offers), label="offer")
        likely = (
            self.users("partner", application, partner) if answer == "withdraw" else self.users("tenant", application)
        )
        user = data.draw(actor(likely), label="user")
        body = {"reason": "Too dear."} if answer == "decline" else None
        response = self.http.call("post", f"/offers/{offer_id}/{answer}", user, body, **self.etag(version, how))
        if response.status_code == 200:
            assert status == "made" and response.get_json()["status"] == OFFER_TRANSITIONS[answer]["made"]

    @precondition(lambda self: self.applications)
    @rule(
        data=st.data(),
        pick=st.integers(0, 20),
        amount=st.sampled_from(("200000.00", "100000.00", "5000000.00", "0", "-5.00")),
        keyed=st.booleans(),
    )
    def record_tranche(self, data: st.DataObject, pick: int, amount: str, keyed: bool) -> None:
        application = self.application(pick)
        partner = self._accepted_partner(application.id)
        user = data.draw(actor((*self.users("partner", application, partner), *STAFF)), label="user")
        body = {"amount": amount, "disbursed_on": self.clock.now.date().isoformat(), "reference": "TRX-2"}
        key = uuid.uuid4().hex if keyed else None
        path = f"/applications/{application.id}/disbursements"
        response = self.http.call("post", path, user, body, **({"Idempotency-Key": key} if key else {}))
        if response.status_code == 201:
            assert Decimal(amount) > 0
            if key:
                self.http.replayed("post", path, user, body, key, response)

    @precondition(lambda self: self.applications)
    @rule(data=st.data(), pick=st.integers(0, 20), how=st.sampled_from(("fresh", "fresh", "stale")))
    def approve_tranche(self, data: st.DataObject, pick: int, how: str) -> None:
        application = self.application(pick)
        tranches = self.tranches(application.id)
        if not tranches:
            return
        tranche_id, status, version, recorded_by = data.draw(st.sampled_from(tranches), label="tranche")
        partner = self._accepted_partner(application.id)
        user = data.draw(actor((*self.users("partner", application, partner), *STAFF)), label="user")
        path = f"/applications/{application.id}/disbursements/{tranche_id}/approve"
        response = self.http.call("post", path, user, None, **self.etag(version, how))
        if response.status_code == 200:
            assert status == "pending" and USERS[user].sub != recorded_by, "maker and checker are two people"

    # IP-pledge loans: patents, valuation, pledge ----------------------------------------------

    @precondition(lambda self: self.applications)
    @rule(
        data=st.data(),
        pick=st.integers(0, 20),
        which=st.sampled_from(ip.PATENTS),
        number=st.sampled_from(ip.PATENT_NUMBERS),
        keyed=st.booleans(),
    )
    def add_patent(self, data: st.DataObject, pick: int, which: str, number: str, keyed: bool) -> None:
        """The tenant lists a patent: on a draft IP-pledge loan only; once submitted 409
        ``rule/patents-closed`` whatever the patent (docs/FINANCE.md)."""
        application = self.application(pick, ip_pledge=pick % 5 != 0)
        tenants = self.users("tenant", application)
        user = data.draw(actor(tenants), label="user")
        body = ip.patent(which, number, self.today)
        key = uuid.uuid4().hex if keyed else None
        path = f"/applications/{application.id}/patents"
        response = self.http.call("post", path, user, body, **({"Idempotency-Key": key} if key else {}))
        if response.status_code == 201:
            assert application.product_id == Products.ip_loan and application.status == "draft", application.status
            assert which in ("good", "other-holder"), which
            if key:
                self.http.replayed("post", path, user, body, key, response)
        elif user in tenants and application.product_id == Products.ip_loan and application.status != "draft":
            assert code_of(response) == "rule/patents-closed", response.get_json()

    @precondition(lambda self: self.applications)
    @rule(data=st.data(), pick=st.integers(0, 20), which=st.integers(0, 3))
    def remove_patent(self, data: st.DataObject, pick: int, which: int) -> None:
        """The tenant removes a patent (or one that is not there: 404): in a draft only."""
        application = self.application(pick, ip_pledge=pick % 5 != 0)
        listed = self.patents(application.id)
        patent_id = listed[which % len(listed)][0] if listed else str(uuid.UUID(int=which + 1))
        tenants = self.users("tenant", application)
        user = data.draw(actor(tenants), label="user")
        response = self.http.call("delete", f"/applications/{application.id}/patents/{patent_id}", user)
        if response.status_code == 204:
            assert listed and application.status == "draft", application.status
        elif listed and user in tenants and application.status != "draft":
            assert code_of(response) == "rule/patents-closed", response.get_json()

    def ask_valuation(self, application: Application, user: str, how: str, appraiser: str | None) -> Any:
        """The desk's ``POST …/valuation-request``; a request made is remembered, oldest first."""
        body = {"appraiser_org_id": appraiser} if appraiser else {}
        path = f"/applications/{application.id}/valuation-request"
        response = self.http.call("post", path, user, body, **self.etag(application.version, how))
        if response.status_code == 200:
            with self.db.reading() as session:
                query = select(ValuationRequest.id).where(ValuationRequest.application_id == application.id)
                new = set(session.scalars(query)) - {r for _, r in self.requests}
            assert len(new) == 1, new
            self.requests.append((application.id, new.pop()))
        return response

    @precondition(lambda self: self.applications)
    @rule(
        data=st.data(),
        pick=st.integers(0, 20),
        how=st.sampled_from(("fresh", "fresh", "stale", "none", "*")),
        appraiser=st.sampled_from((None, None, ip.IP_AGENCY, LAW)),
    )
    def request_valuation(self, data: st.DataObject, pick: int, how: str, appraiser: str | None) -> None:
        application = self.application(pick, ip_pledge=pick % 5 != 0)
        user = data.draw(actor(STAFF), label="user")
        response = self.ask_valuation(application, user, how, appraiser)
        if response.status_code == 200:
            assert user in STAFF and how in ("fresh", "*") and appraiser != LAW, (user, how, appraiser)
            assert application.product_id == Products.ip_loan
            assert application.status in ("submitted", "pre_review", "routed"), application.status

    @precondition(lambda self: self.applications)
    @rule(
        data=st.data(),
        pick=st.integers(0, 20),
        amount=st.sampled_from(("2500000.00", "0", "-1.00", "1.001")),
        how=st.sampled_from(("fresh", "fresh", "stale", "none", "*")),
    )
    def value_by_hand(self, data: st.DataObject, pick: int, amount: str, how: str) -> None:
        """``PUT …/valuation``: the desk or the accepted partner records a valuation by hand."""
        application = self.application(pick, ip_pledge=pick % 5 != 0)
        user = data.draw(actor(self.pledgers(application)), label="user")
        path = f"/applications/{application.id}/valuation"
        response = self.http.call("put", path, user, {"amount": amount}, **self.etag(application.version, how))
        if response.status_code == 200:
            assert Decimal(amount) > 0 and how in ("fresh", "*") and user in self.pledgers(application)
            assert application.status not in ("draft", "closed", "withdrawn"), application.status

    def _case(self, request_id: str) -> int:
        """The number of ``request_id``'s case: its place among the requests."""
        return [r for _, r in self.requests].index(request_id)

    def deliver(self, envelope: dict[str, Any]) -> None:
        """One of consulting's answers into finance's inbox, as the bus hands it over: a new
        envelope is handled (kept, to deliver again)."""
        assert self.inbox.deliver(json.dumps(envelope)) is Outcome.HANDLED
        self.envelopes.append(envelope)

    @precondition(lambda self: self.requests)
    @rule(
        pick=st.integers(0, 20),
        kind=st.sampled_from(ip.ANSWERS),
        which=st.sampled_from(("any", "older", "older", "again")),
    )
    def consulting_answers(self, pick: int, kind: str, which: str) -> None:
        """Consulting answers a request (``any``), or one the application has a newer request
        after (``older``: late, the job may have given up on it and the desk asked again), or an
        envelope arrives a second time (``again``). The same envelope again is a duplicate and
        changes nothing. An answer to a request answered already, or to one given up on while a
        newer request is open or valued, changes nothing but that request's case (docs/FINANCE.md,
        "Valuations")."""
        if which == "again" and self.envelopes:
            before = self.http.rows()
            envelope = self.envelopes[pick % len(self.envelopes)]
            assert self.inbox.deliver(json.dumps(envelope)) is Outcome.DUPLICATE
            assert self.http.rows() == before, "a duplicate delivery changed rows"
            return
        older = [(a, r) for n, (a, r) in enumerate(self.requests) if any(a == b for b, _ in self.requests[n + 1 :])]
        among = older if which == "older" and older else self.requests
        application_id, request_id = among[pick % len(among)]
        with self.db.reading() as session:
            statuses = dict(
                session.execute(
                    select(ValuationRequest.id, ValuationRequest.status).where(
                        ValuationRequest.application_id == application_id
                    )
                ).all()
            )
            org_id = session.scalar(select(Application.org_id).where(Application.id == application_id))
        later = [
            r for a, r in self.requests[self.requests.index((application_id, request_id)) + 1 :] if a == application_id
        ]
        superseded = statuses[request_id] == "no_answer" and any(
            statuses[r] in (*ip.OPEN_REQUEST, "valued") for r in later
        )
        IP_REACHED["late answer" if later else "answer"] += 1
        before = self.http.rows()
        self.deliver(ip.valuation_answer(kind, request_id, application_id, str(org_id), self._case(request_id)))
        if statuses[request_id] in ("valued", "failed") or superseded:
            after = self.http.rows()
            for table in ("inbox", "valuation_requests"):
                before.pop(table), after.pop(table)
            assert after == before, ("a late or repeated answer acted", kind, statuses[request_id], superseded)
        with self.db.reading() as session:
            newer = {r: session.get(ValuationRequest, r) for r in later}
            assert {r: row.status for r, row in newer.items() if row} == {r: statuses[r] for r in later}, (
                "an answer to an older request moved a newer one"
            )

    @precondition(lambda self: self.applications)
    @rule(
        data=st.data(),
        pick=st.integers(0, 20),
        how=st.sampled_from(("fresh", "fresh", "stale", "none", "*")),
        day=st.sampled_from((0, 0, -3, 1)),
    )
    def register_pledge(self, data: st.DataObject, pick: int, how: str, day: int) -> None:
        """``PUT …/pledge`` (``day`` its registration's day from today): the accepted partner or
        staff, after acceptance; anybody else is refused (403, or 404 who may not see it; 428
        first without ``If-Match``)."""
        application = self.application(pick, ip_pledge=pick % 5 != 0)
        may = self.pledgers(application)
        user = data.draw(actor(may), label="user")
        registered_on = self.clock.now.astimezone(PARK_TZ).date() + timedelta(days=day)
        body = {"number": f"Z20265100001{day + 5:02d}", "registered_on": registered_on.isoformat()}
        path = f"/applications/{application.id}/pledge"
        response = self.http.call("put", path, user, body, **self.etag(application.version, how))
        if response.status_code == 200:
            assert user in may and how in ("fresh", "*") and day <= 0, (user, how, day)
            assert application.product_id == Products.ip_loan and application.status in ip.AFTER_ACCEPTANCE
            assert application.pledge_released_on is None
        elif user not in may:
            assert response.status_code in (403, 404, 428), (user, response.status_code, response.get_json())

    @rule(by=st.sampled_from((timedelta(hours=3), timedelta(days=1), timedelta(days=15))))
    def time_passes(self, by: timedelta) -> None:
        """The park's clock moves on and the worker's jobs run at the new moment (offers expire,
        valuation requests nobody answered in time are ``no_answer``), twice: the second run
        finds nothing more to do."""
        now = self.clock.advance(by)
        unanswered = unanswered_valuations(self.rig.settings.valuation_answer_minutes)
        with self.db.unit_of_work() as uow:
            expire_offers(uow=uow, now=now)
            unanswered(uow=uow, now=now)
            uow.commit()
        before = self.http.rows()
        with self.db.unit_of_work() as uow:
            assert expire_offers(uow=uow, now=now) == 0
            assert unanswered(uow=uow, now=now) == 0
            uow.commit()
        assert self.http.rows() == before

    # Invariants --------------------------------------------------------------------------------

    @invariant()
    def every_line_is_in_its_table_and_the_trails_are_complete(self) -> None:
        with self.db.reading() as session:
            applications = {a.id: (a.status, a.product_id) for a in session.scalars(select(Application))}
            reviews = {(r.application_id, r.partner_org_id): r.status for r in session.scalars(select(Review))}
        assert set(applications) == set(self.applications)
        state: dict[Any, str | None] = {}
        for application_id, subject, action, from_status, to_status, partner, _actor, _details in self.lines():
            table: Any
            if subject == "application":
                REACHED[to_status] += 1
                key: Any = application_id
                subsidy = applications[application_id][1] == Products.subsidy
                table = SUBSIDY_TRANSITIONS if subsidy else TRANSITIONS
            elif subject == "review":
                key, table = (application_id, partner), REVIEW_TRANSITIONS
            else:
                key, table = None, OFFER_TRANSITIONS
            if subject == "offer" and from_status is None:  # an offer made, or a bureau's approval
                assert OFFER_CREATED.get(action) == to_status, (subject, action, to_status)
            elif action in RECORDED_ACTIONS:
                assert from_status in (None, to_status), (subject, action, from_status, to_status)
            else:
                assert table.get(action, {}).get(from_status) == to_status, (subject, action, from_status, to_status)
            if key is not None:
                # A review is created routed by the application's route line; its own lines follow.
                state.setdefault(key, "routed" if subject == "review" else None)
                assert state[key] == from_status, (subject, action, state.get(key), from_status)
                state[key] = to_status
        for application_id, (status, _) in applications.items():
            assert state.get(application_id) == status, (application_id, state.get(application_id), status)
        for key, status in reviews.items():
            assert state.get(key, "routed") == status, (key, state.get(key), status)

    def lines(self) -> list[ip.Line]:
        columns = [getattr(ApplicationTransition, name) for name in ip.Line._fields]
        with self.db.reading() as session:
            return [ip.Line(*r) for r in session.execute(select(*columns).order_by(ApplicationTransition.id))]

    @invariant()
    def the_audit_is_complete_counted(self) -> None:
        """Every line's event is in the outbox exactly as many times as the lines call for, and
        the outbox holds no other event of finance's; every line that makes a decision has its
        one decision, and no decision is without its line."""
        lines = self.lines()
        events = ip.expected_events(lines, self._event_of_application_line, EVENT_OF_REVIEW_LINE)
        published_events = Counter((e["data"]["application_id"], e["type"]) for e in published(self.db, "finance."))
        assert published_events == events, (
            "events and lines disagree",
            published_events - events,
            events - published_events,
        )
        with self.db.reading() as session:
            decisions = Counter(tuple(r) for r in session.execute(select(Decision.application_id, Decision.kind)))
        expected = ip.expected_decisions(lines)
        assert decisions == expected, ("decisions and lines disagree", decisions - expected, expected - decisions)

    @staticmethod
    def _event_of_application_line(line: ip.Line) -> str | None:
        return None if line.action in RECORDED_ACTIONS else EVENT_OF_ACTION.get(line.action)

    @invariant()
    def patents_valuations_and_pledges_keep_their_rules(self) -> None:
        """IP-pledge loans: patents change in a draft only and are what their lines say; a
        valuation request moves only along :data:`ip.VALUATION_MOVES`, one open per application,
        and no line records an older request's valuation after a newer one's; the valuation shown
        is the last one recorded; a pledge is registered after acceptance by the accepted partner
        or staff, never after its release, released once, at closing."""
        lines = self.lines()
        with self.db.reading() as session:
            applications = {a.id: a for a in session.scalars(select(Application))}
            session.expunge_all()
            patents = Counter(tuple(r) for r in session.execute(select(Patent.application_id, Patent.number)))
            requests = {r.id: (r.application_id, r.status) for r in session.scalars(select(ValuationRequest))}
        self._patents_checked(lines, patents)
        self._requests_checked(lines, requests)
        self._pledges_checked(lines, applications)

    def _patents_checked(self, lines: list[ip.Line], patents: Counter[tuple[str, str]]) -> None:
        listed: Counter[tuple[str, str]] = Counter()
        for line in lines:
            if line.action in ("add_patent", "remove_patent"):
                assert line.from_status == "draft", ("a patent changed after submission", line.action, line.from_status)
                listed[(line.application_id, line.details["number"])] += 1 if line.action == "add_patent" else -1
        assert patents == +listed, ("patents and their lines disagree", patents, listed)

    def _requests_checked(self, lines: list[ip.Line], requests: dict[str, tuple[str, str]]) -> None:
        order = {r: n for n, (_, r) in enumerate(self.requests)}
        assert set(requests) == set(order)
        for request_id, (application_id, status) in requests.items():
            before = self.request_status.get(request_id, "requested")
            assert status == before or status in ip.VALUATION_MOVES[before], ("a valuation moved", before, status)
            self.request_status[request_id] = status
        open_ = Counter(a for a, status in requests.values() if status in ip.OPEN_REQUEST)
        assert max(open_.values(), default=0) <= 1, open_
        asked: Counter[str] = Counter(a for a, _ in requests.values())
        latest: dict[str, int] = {}
        valued: dict[str, str | None] = {}
        for line in lines:
            if line.action == "request_valuation":
                assert line.from_status in ("submitted", "pre_review", "routed"), line.from_status
                asked[line.application_id] -= 1
            if line.action != "record_valuation":
                continue
            valued[line.application_id] = line.details["amount"]
            request_id = line.details.get("request_id")
            if request_id is None:  # by hand
                continue
            IP_REACHED["valuation recorded"] += 1
            assert requests[request_id][1] == "valued", requests[request_id]
            assert order[request_id] > latest.get(line.application_id, -1), (
                "an older request's valuation after a newer one's",
                line.application_id,
            )
            latest[line.application_id] = order[request_id]
        assert not +asked and not -asked, ("requests and their lines disagree", asked)
        for application_id, amount in valued.items():
            assert self._amount(application_id) == amount, (application_id, amount)

    def _amount(self, application_id: str) -> str | None:
        with self.db.reading() as session:
            amount = session.scalar(select(Application.valuation_amount).where(Application.id == application_id))
        return None if amount is None else f"{amount:.2f}"

    def _pledges_checked(self, lines: list[ip.Line], applications: dict[str, Application]) -> None:
        staff = {USERS[u].sub for u in STAFF}
        org_of = {p.sub: p.org for p in USERS.values()}
        pledged: dict[str, str] = {}
        released: set[str] = set()
        for line in lines:
            application = applications[line.application_id]
            if line.action == "record_pledge":
                IP_REACHED["pledge registered"] += 1
                assert line.from_status in ip.AFTER_ACCEPTANCE, line.from_status
                assert line.actor in staff or org_of[line.actor] == application.accepted_partner_org_id, line.actor
                assert line.application_id not in released, "a pledge registered after its release"
                pledged[line.application_id] = line.details["number"]
            elif line.action == "release_pledge":
                IP_REACHED["pledge released"] += 1
                assert line.from_status == "disbursed" and line.application_id in pledged, line.from_status
                assert line.application_id not in released, "a pledge released twice"
                released.add(line.application_id)
        for application_id, application in applications.items():
            assert application.pledge_number == pledged.get(application_id), application_id
            assert (application.pledge_released_on is not None) == (application_id in released), application_id
            if application_id in released:
                assert application.status == "closed", application.status

    @invariant()
    def one_accepted_offer_and_money_never_negative(self) -> None:
        with self.db.reading() as session:
            offers = session.execute(select(Offer.application_id, Offer.status, Offer.amount)).all()
            tranches = session.execute(
                select(Disbursement.application_id, Disbursement.status, Disbursement.amount)
            ).all()
            amounts = session.execute(select(Application.amount)).scalars().all()
        accepted = {a: amount for a, status, amount in offers if status == "accepted"}
        assert max(Counter(a for a, status, _ in offers if status == "accepted").values(), default=0) <= 1
        assert all(amount > 0 for _, _, amount in offers)
        assert all(amount > 0 for _, _, amount in tranches)
        assert all(amount is None or amount > 0 for amount in amounts)
        paid: Counter[str] = Counter()
        for application_id, status, amount in tranches:
            if status == "approved":
                paid[application_id] += amount
        for application_id, total in paid.items():
            assert total <= accepted.get(application_id, Decimal(0)), (application_id, total, accepted)


SETTINGS = machine_settings(examples=30, steps=25)


def test_applications_keep_their_invariants_whatever_anyone_does(migrated_services, signing_key, tmp_path):
    FinanceMachine.rig = Rig.built(
        migrated_services, tmp_path, signing_key, finance_database, Base.metadata, create_app
    )
    REACHED.clear()
    IP_REACHED.clear()
    run_state_machine_as_test(FinanceMachine, settings=SETTINGS)
    # Not vacuous: the run took applications the whole way to their payout, and IP-pledge loans
    # through their valuation (consulting's answer recorded, and a late one tried) to the pledge.
    assert {"routed", "accepted", "contract_signed"} <= set(REACHED), REACHED
    assert {"disbursing", "disbursed"} & set(REACHED), REACHED
    assert {"valuation recorded", "late answer", "pledge registered"} <= set(IP_REACHED), IP_REACHED
