"""Financing applications under every action by every role, in any order (issue 11): a Hypothesis
``RuleBasedStateMachine`` over real HTTP through finance's app (one database built by the
migrations per run, emptied for each example), with tokens of both tenant organisations' admins
and members, two banks' agents, the guarantee company's, the bureau's two, a law firm's (a
partner finance never routes to), the desk and the park admin.

Rules: a draft (a guaranteed loan or a subsidy, with its checklist's documents; an
``Idempotency-Key`` replayed), every application action (submit, pre-review, route, turn down,
withdraw, sign the contract, close) with a fresh, stale or no ``If-Match``, each partner's review
(start, request and provide information, decline), offers made (keyed, replayed), accepted,
declined and withdrawn, a bureau's approval, tranches recorded (keyed, replayed) and approved
by a second person, and the park's clock moved with the offer-expiry job run. Each is tried mostly
by who may and often by anyone.

After every step: no 5xx ever; a refused request changed no row; every audit line's from → to
is in its machine's table (the application's, a subsidy's, a review's, an offer's; recorded lines
move nothing) and each application's and review's lines chain to its status (the trail is
complete, each line with its event in the outbox); at most one accepted offer per application;
amounts are never negative and the approved tranches never pay more than the accepted amount.
"""

from __future__ import annotations

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
from services.finance.handlers.offers import expire_offers
from services.finance.models import Application, ApplicationTransition, Base, Disbursement, Offer, Review
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
from tests.booking.conftest import BANK
from tests.consulting.stateful_support import Caller, ParkClock, Rig, machine_settings
from tests.finance.conftest import BANK2, BUREAU, GUARANTEE, LAW, USERS, Products, load_products, register_organisations
from tests.finance.test_documents import upload as upload_document
from tests.service_rig import published

EVERYONE = tuple(USERS)
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
"""The hour the run started: every example's clock starts there (the subsidy's window is open)."""
STAFF = ("desk", "desk2", "admin")
APPLICANTS = ("alice", "bob", "carol")
AGENTS = {BANK: ("bank", "bank2"), BANK2: ("banker",), GUARANTEE: ("guarantor",), BUREAU: ("bureau", "bureau2")}
PARTNERS = {Products.loan: (BANK, BANK2, GUARANTEE), Products.subsidy: (BUREAU,)}

DRAFTS = {
    Products.loan: {"product_id": Products.loan, "amount": "500000.00", "term_months": 12, "purpose": "Lab equipment"},
    Products.subsidy: {"product_id": Products.subsidy, "amount": "300000.00", "term_months": 12, "purpose": "R&D"},
}
CHECKLISTS = {Products.loan: ("business_licence", "financial_statements"), Products.subsidy: ("business_licence",)}

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
FORWARD = ("submit", "start-pre-review", "route", "start", "offer", "accept", "contract", "tranche", "approve", "close")
"""The way of a loan to its close, one step of this machine each (:meth:`FinanceMachine.forward`)."""

OFFER_CREATED = {"make": "made", "approve": "accepted"}
"""The line of an offer's creation (from nothing): a partner's offer is made, a bureau's approval
is accepted as it is given."""
EVENT_OF_REVIEW_LINE = {**REVIEW_EVENT_OF_ACTION, "make_offer": "finance.application.offer_made"}
REACHED: Counter[str] = Counter()
"""Application states reached over a run (the audit lines' ``to``, read after each step)."""


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
        load_products(self.db)
        self.api = self.rig.api("/api/v1/finance", USERS)
        self.http = Caller(self.api, self.db, Base.metadata)
        self.applications: list[str] = []

    def teardown(self) -> None:
        self.clock_patch.undo()

    # Reading -----------------------------------------------------------------------------------

    def application(self, pick: int) -> Application:
        with self.db.reading() as session:
            found = session.get(Application, self.applications[pick % len(self.applications)])
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
        return {} if how == "none" else {"If-Match": {"fresh": f'"{version}"', "stale": f'"{version - 1}"'}[how]}

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
            self.forward(0, step)

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
        if key:
            self.http.replayed("post", "/applications", user, body, key, response)
        for doc_type in CHECKLISTS[product]:
            uploaded = upload_document(self.api, application_id, doc_type, user=user)
            assert uploaded.status_code == 201, uploaded.get_json()

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

    @rule(by=st.sampled_from((timedelta(hours=3), timedelta(days=1), timedelta(days=15))))
    def time_passes(self, by: timedelta) -> None:
        """The park's clock moves on and the offer-expiry job runs at the new moment, twice: the
        second run finds nothing more to do."""
        now = self.clock.advance(by)
        with self.db.unit_of_work() as uow:
            expire_offers(uow=uow, now=now)
            uow.commit()
        before = self.http.rows()
        with self.db.unit_of_work() as uow:
            assert expire_offers(uow=uow, now=now) == 0
            uow.commit()
        assert self.http.rows() == before

    # Invariants --------------------------------------------------------------------------------

    @invariant()
    def every_line_is_in_its_table_and_the_trails_are_complete(self) -> None:
        with self.db.reading() as session:
            applications = {a.id: (a.status, a.product_id) for a in session.scalars(select(Application))}
            reviews = {(r.application_id, r.partner_org_id): r.status for r in session.scalars(select(Review))}
            columns = (
                ApplicationTransition.application_id,
                ApplicationTransition.subject,
                ApplicationTransition.action,
                ApplicationTransition.from_status,
                ApplicationTransition.to_status,
                ApplicationTransition.partner_org_id,
            )
            lines = session.execute(select(*columns).order_by(ApplicationTransition.id)).all()
        assert set(applications) == set(self.applications)
        state: dict[Any, str | None] = {}
        events: Counter[tuple[str, str]] = Counter()
        for application_id, subject, action, from_status, to_status, partner in lines:
            table: Any
            if subject == "application":
                REACHED[to_status] += 1
                key: Any = application_id
                subsidy = applications[application_id][1] == Products.subsidy
                table = SUBSIDY_TRANSITIONS if subsidy else TRANSITIONS
                event = EVENT_OF_ACTION.get(action) if action in table else None
            elif subject == "review":
                key, table = (application_id, partner), REVIEW_TRANSITIONS
                event = EVENT_OF_REVIEW_LINE.get(action)
            else:
                key, table, event = None, OFFER_TRANSITIONS, None
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
            if event is not None:
                events[(application_id, event)] += 1
        for application_id, (status, _) in applications.items():
            assert state.get(application_id) == status, (application_id, state.get(application_id), status)
        for key, status in reviews.items():
            assert state.get(key, "routed") == status, (key, state.get(key), status)
        published_events = Counter(
            (e["data"]["application_id"], e["type"]) for e in published(self.db, "finance.application.")
        )
        for found, count in events.items():
            assert published_events[found] >= 1, ("a line without its event", found, count)

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
    run_state_machine_as_test(FinanceMachine, settings=SETTINGS)
    # Not vacuous: the run took applications the whole way to their payout.
    assert {"routed", "accepted", "contract_signed"} <= set(REACHED), REACHED
    assert {"disbursing", "disbursed"} & set(REACHED), REACHED
