"""Consulting cases under every action by every role, in any order (issue 11): a Hypothesis
``RuleBasedStateMachine`` over real HTTP through consulting's app (a fresh database built by the
migrations per example, tokens of both tenant organisations' admins and members, three firms'
agents, a bank's, the desk and the park admin).

Rules: submit (three items: a free contract review with manual routing, a litigation that needs a
quote, a patent application routed round robin), every case action (triage, assign, accept,
decline, start, wait, resume, propose/accept/reject the solution, cancel) with a fresh, stale or
``*`` ``If-Match``, messages of each visibility, quotes proposed, accepted and rejected, ratings,
``Idempotency-Key`` retries of every creating POST, and the park's clock moved forward with the
worker's jobs run (routing, the SLA breach scan, the automatic close). Each is tried mostly by who
may and often by anyone.

After every step: no 5xx ever; a refused request (400/403/404/409/412/422/428) changed no row;
an action answered 200 took the case along its transition table; every audit line's from → to is
in the table of its action (an escalation or a meeting moves nothing) and the lines chain from
``submit`` to the case's status (the trail is complete); each line's event is in the outbox, as
many as lines; a case has at most one accepted quote and one open proposal; every SLA clock's used
business minutes never go down, its start never moves, a warning or breach once found stays.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
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

from services.consulting.app import create_app
from services.consulting.handlers.closing import close_unanswered
from services.consulting.handlers.routing import route_triaged
from services.consulting.handlers.sla import detect_breaches
from services.consulting.models import Base, Case, CaseTransition, Quote, SlaClock, SlaNotice
from services.consulting.models import database as consulting_database
from services.consulting.queries.calendar import load_business_calendar
from services.consulting.queries.sla import pauses_of
from services.consulting.rules import EVENT_OF_ACTION, TRANSITIONS
from services.consulting.rules.sla import used_minutes
from shared.clock import as_utc
from tests.consulting.conftest import IPA, LAW, LAW2, USERS, Catalogue, load_catalogue, register_organisations
from tests.consulting.stateful_support import Caller, ParkClock, Rig, machine_settings
from tests.service_rig import published

EVERYONE = tuple(USERS)
STAFF = ("desk", "admin")
FIRMS = ("lawyer", "lawyer2", "lawyer3", "ipagent")
TENANT_SIDE = ("bob", "alice", "carol", "dave")
SUBMITTERS = ("bob", "dave", "alice")

START = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
"""Monday 16 November 2026, 09:00 in the park: the clock every example starts from."""

BODIES: dict[str, dict[str, Any]] = {
    Catalogue.contract: {
        "item_id": Catalogue.contract,
        "subject": "Review of a labour contract",
        "description": "Twelve pages.",
        "answers": {"contract_type": "labour", "pages": 12},
    },
    Catalogue.litigation: {
        "item_id": Catalogue.litigation,
        "subject": "A supplier sues us",
        "description": "Hearing in March.",
        "answers": {},
    },
    Catalogue.patent: {
        "item_id": Catalogue.patent,
        "subject": "Patent for a CAR-T construct",
        "description": "Draft claims attached later.",
        "answers": {},
    },
}

ACTION_BODIES: dict[str, list[Any]] = {
    "triage": [None, {}],
    "assign": [{"firm_org_id": LAW}, {"firm_org_id": LAW2}, {"firm_org_id": IPA}, {}],
    "accept": [None],
    "decline": [{"reason": "Too busy this month."}, {}],
    "start": [None],
    "wait": [{"reason": "Send the signed annex."}, {"reason": " "}],
    "resume": [None],
    "propose_solution": [{"solution": "Cap the damages of clause 7."}, {"solution": ""}],
    "accept_solution": [None, {"stars": 5, "comment": "Quick."}, {"stars": 9}],
    "reject_solution": [{"reason": "Clause 9 too."}, {}],
    "cancel": [{"reason": "Sent twice."}, None],
}
TURN = {
    "triage": "staff",
    "assign": "staff",
    "accept": "firm",
    "decline": "firm",
    "start": "firm",
    "wait": "firm",
    "resume": "tenant",
    "propose_solution": "firm",
    "accept_solution": "tenant",
    "reject_solution": "tenant",
    "cancel": "tenant_staff",
}
"""Whose turn an action is on a case (:meth:`CaseMachine.whose_turn` names the users)."""
FORWARD_FIRST = (
    "triage",
    "accept",
    "start",
    "propose_solution",
    "accept_solution",
    "resume",
    "assign",
    "wait",
    "reject_solution",
    "decline",
    "cancel",
)
"""The case actions, those that take a case on towards its close first (Hypothesis draws early
elements of a list more often, and shrinks towards them)."""
SERVING = {Catalogue.legal: (LAW, LAW2), Catalogue.ip: (IPA,)}
"""The firms serving each category of the test catalogue."""
REACHED: Counter[str] = Counter()
"""The states cases reached by an action answered 200, over every example of a run."""
ANSWERS: Counter[tuple[str, int]] = Counter()
"""(action, status) of every case action tried over a run: what the report of a run shows."""
NOT_MOVING = {"escalate", "request_meeting", "record_valuation"}
"""Audit lines that change no state (from = to)."""

SUBMITTED_EVENT = "consulting.case.submitted"


def actor(likely: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Mostly who may (so cases move on), often anyone at all (so refusals are tried)."""
    return st.one_of(st.sampled_from(likely), st.sampled_from(EVERYONE))


class CaseMachine(RuleBasedStateMachine):
    """One example: a fresh consulting service, its cases driven by the rules below."""

    rig: Rig

    def __init__(self) -> None:
        super().__init__()
        self.clock = ParkClock(START)
        self.clock_patch = pytest.MonkeyPatch()
        self.clock.install(self.clock_patch)
        self.rig.emptied()
        self.db = self.rig.db
        register_organisations(self.db)
        load_catalogue(self.db)
        self.http = Caller(self.rig.api("/api/v1/consulting", USERS), self.db, Base.metadata)
        self.cases: list[str] = []
        self.used: dict[int, int] = {}
        self.clock_facts: dict[int, tuple[datetime, datetime | None, datetime | None]] = {}

    def teardown(self) -> None:
        self.clock_patch.undo()

    # Reading -----------------------------------------------------------------------------------

    def case(self, pick: int) -> Case:
        with self.db.reading() as session:
            found = session.get(Case, self.cases[pick % len(self.cases)])
            assert found is not None
            session.expunge(found)
            return found

    def lines(self, case_id: str) -> list[tuple[str, str | None, str]]:
        """The case's audit lines in order, as (action, from, to)."""
        with self.db.reading() as session:
            query = (
                select(CaseTransition.action, CaseTransition.from_status, CaseTransition.to_status)
                .where(CaseTransition.case_id == case_id)
                .order_by(CaseTransition.id)
            )
            return [(r.action, r.from_status, r.to_status) for r in session.execute(query)]

    def whose_turn(self, case: Case, action: str) -> tuple[str, ...]:
        """Who may take ``action`` on ``case``: the agents of the firm it is with, its submitter
        and their organisation's admin, the staff (a firm's action on a case with none: any firm)."""
        tenant = tuple(
            u
            for u, p in USERS.items()
            if p.sub == case.submitted_by or (p.org == case.org_id and "tenant_admin" in p.roles)
        )
        firm = tuple(u for u, p in USERS.items() if p.org == case.firm_org_id) or FIRMS
        return {"staff": STAFF, "firm": firm, "tenant": tenant, "tenant_staff": (*tenant, *STAFF)}[TURN[action]]

    def etag(self, version: int, how: str) -> str:
        return {"fresh": f'"{version}"', "stale": f'"{version - 1}"', "any": "*"}[how]

    # Rules -------------------------------------------------------------------------------------

    @initialize(
        user=st.sampled_from(SUBMITTERS),
        item=st.sampled_from(tuple(BODIES)),
        head_start=st.one_of(st.just(8), st.integers(0, 8)),
        detours=st.lists(st.integers(0, 3), max_size=8),
    )
    def first_case(self, user: str, item: str, head_start: int, detours: list[int]) -> None:
        """Every example starts with a case taken ``head_start`` steps on its way (the ``k``-th
        step the action ``detours[k]`` of those possible, forward first: waits, declines,
        rejections on the way; no cancel), so the rules meet every state."""
        self.submit(user, item, keyed=False)
        turns = iter(detours)

        def choose(options: Sequence[str], label: str) -> str:
            if label != "action":
                return options[0]
            ways = [o for o in options if o != "cancel"] or list(options)  # the rules cancel often enough
            return ways[next(turns, 0) % len(ways)]

        self.forward(self.cases[0], head_start, choose)

    @rule(user=actor(SUBMITTERS), item=st.sampled_from(tuple(BODIES)), keyed=st.booleans())
    def submit(self, user: str, item: str, keyed: bool) -> None:
        body = BODIES[item]
        key = uuid.uuid4().hex if keyed else None
        headers = {"Idempotency-Key": key} if key else {}
        response = self.http.call("post", "/cases", user, body, **headers)
        if USERS[user].org_kind != "tenant":
            assert response.status_code == 403, (user, response.status_code)
            return
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["status"] in ("submitted",)
        self.cases.append(response.get_json()["id"])
        if key:
            self.http.replayed("post", "/cases", user, body, key, response)

    @precondition(lambda self: self.cases)
    @rule(
        data=st.data(),
        pick=st.integers(0, 30),
        action=st.sampled_from(tuple(ACTION_BODIES)),
        if_match=st.sampled_from(("fresh", "fresh", "fresh", "stale", "any", "none")),
    )
    def act(self, data: st.DataObject, pick: int, action: str, if_match: str) -> None:
        case = self.case(pick)
        possible = tuple(a for a in ACTION_BODIES if case.status in TRANSITIONS[a])
        if possible and data.draw(st.booleans(), label="the case's next step"):
            action = data.draw(st.sampled_from(possible), label="action")
        user = data.draw(actor(self.whose_turn(case, action)), label="user")
        body = data.draw(st.sampled_from(ACTION_BODIES[action]), label="body")
        before = len(self.lines(case.id))
        headers = {} if if_match == "none" else {"If-Match": self.etag(case.version, if_match)}
        path = f"/cases/{case.id}/{action.replace('_', '-')}"
        response = self.http.call("post", path, user, body, **headers)
        # Without If-Match, or with a stale one, nothing is done (a body the schema refuses is
        # told first: a field error).
        if if_match == "none":
            assert response.status_code in (403, 404, 422, 428), (action, response.status_code)
        if if_match == "stale":
            assert response.status_code in (403, 404, 412, 422), (action, response.status_code)
        self.check_done(case, action, response, before)
        if response.status_code == 200 and if_match == "fresh":
            # The same request again, with the If-Match it was sent with: a second effect never.
            again = self.http.call("post", path, user, body, **headers)
            assert again.status_code in (404, 412), (action, again.status_code)

    def check_done(self, case: Case, action: str, response: Any, before: int) -> None:
        """An action answered 200: its first new audit line is ``action`` along its table from
        the case's state, and the case is in the state of the last new line."""
        ANSWERS[(action, response.status_code)] += 1
        if response.status_code != 200:
            return
        new = self.lines(case.id)[before:]
        assert new and new[0][0] == action, (action, new)
        assert new[0][1:] == (case.status, TRANSITIONS[action][case.status]), (action, new)
        assert response.get_json()["status"] == new[-1][2]
        REACHED.update(line[2] for line in new)

    @precondition(lambda self: self.cases)
    @rule(data=st.data(), pick=st.integers(0, 30), steps=st.integers(1, 6))
    def next_steps(self, data: st.DataObject, pick: int, steps: int) -> None:
        """Whoever's turn it is takes up to ``steps`` steps in a row that the case's state allows,
        as a portal would send them (a good body, a fresh If-Match); on a case that needs a quote
        before work starts, the firm proposes one and the tenant accepts it first."""
        self.forward(
            self.cases[pick % len(self.cases)],
            steps,
            lambda options, label: data.draw(st.sampled_from(options), label=label),
        )

    def forward(self, case_id: str, steps: int, choose: Callable[[Sequence[str], str], str]) -> None:
        """Up to ``steps`` steps on the case, each action, user and firm ``choose``-n among those
        whose turn it is (:meth:`next_steps`)."""
        for _ in range(steps):
            case = self.case(self.cases.index(case_id))
            possible = tuple(a for a in FORWARD_FIRST if case.status in TRANSITIONS[a])
            if not possible:
                return
            action = choose(possible, "action")
            user = choose(self.whose_turn(case, action), "user")
            if self.prepare(case, action, user):
                case = self.case(self.cases.index(case_id))
            body = ACTION_BODIES[action][0]
            if action == "assign":
                firms = [f for f in SERVING[case.category_code] if f not in case.declined_by and f != case.firm_org_id]
                if not firms:
                    return
                body = {"firm_org_id": choose(firms, "firm")}
            before = len(self.lines(case.id))
            path = f"/cases/{case.id}/{action.replace('_', '-')}"
            response = self.http.call("post", path, user, body, **{"If-Match": f'"{case.version}"'})
            self.check_done(case, action, response, before)

    def prepare(self, case: Case, action: str, user: str) -> bool:
        """What a portal does before ``action`` on ``case`` (a fee agreed before work that needs a
        quote starts); True when it may have changed the case."""
        if action == "start" and case.quote_required:
            self.agree_fee(case, user)
            return True
        return False

    def agree_fee(self, case: Case, firm_agent: str) -> None:
        """The firm proposes a fee and the case's submitter accepts it (each checked as any call)."""
        proposed = self.http.call(
            "post", f"/cases/{case.id}/quotes", firm_agent, {"fee": "9000.00", "description": "All of it"}
        )
        if proposed.status_code != 201:
            return
        quote = proposed.get_json()
        submitter = next(u for u, p in USERS.items() if p.sub == case.submitted_by)
        self.http.call(
            "post",
            f"/cases/{case.id}/quotes/{quote['id']}/accept",
            submitter,
            None,
            **{"If-Match": f'"{quote["version"]}"'},
        )

    @precondition(lambda self: self.cases)
    @rule(
        pick=st.integers(0, 30),
        user=actor((*TENANT_SIDE, *FIRMS, *STAFF)),
        visibility=st.sampled_from(("tenant", "desk", "firm")),
        keyed=st.booleans(),
    )
    def message(self, pick: int, user: str, visibility: str, keyed: bool) -> None:
        case = self.case(pick)
        body = {"body": "Any news on this?", "visibility": visibility}
        key = uuid.uuid4().hex if keyed else None
        path = f"/cases/{case.id}/messages"
        response = self.http.call("post", path, user, body, **({"Idempotency-Key": key} if key else {}))
        if response.status_code == 201 and key:
            self.http.replayed("post", path, user, body, key, response)

    @precondition(lambda self: self.cases)
    @rule(
        data=st.data(),
        pick=st.integers(0, 30),
        fee=st.sampled_from(("8000.00", "12000", "0", "-5", "1.234", "1e400")),
        keyed=st.booleans(),
    )
    def propose_quote(self, data: st.DataObject, pick: int, fee: str, keyed: bool) -> None:
        case = self.case(pick)
        user = data.draw(actor(self.whose_turn(case, "start")), label="user")
        body = {"fee": fee, "description": "Review and one meeting"}
        key = uuid.uuid4().hex if keyed else None
        path = f"/cases/{case.id}/quotes"
        response = self.http.call("post", path, user, body, **({"Idempotency-Key": key} if key else {}))
        if response.status_code == 201:
            assert response.get_json()["status"] == "proposed"
            if key:
                self.http.replayed("post", path, user, body, key, response)

    @precondition(lambda self: self.cases)
    @rule(
        pick=st.integers(0, 30),
        nth=st.integers(0, 5),
        answer=st.sampled_from(("accept", "reject")),
        data=st.data(),
        if_match=st.sampled_from(("fresh", "fresh", "stale")),
    )
    def answer_quote(self, pick: int, nth: int, answer: str, data: st.DataObject, if_match: str) -> None:
        case = self.case(pick)
        user = data.draw(actor(self.whose_turn(case, "accept_solution")), label="user")
        with self.db.reading() as session:
            query = select(Quote.id, Quote.version, Quote.status).where(Quote.case_id == case.id)
            quotes = [tuple(row) for row in session.execute(query.order_by(Quote.proposed_at, Quote.id))]
        if not quotes:
            return
        quote_id, version, status = quotes[nth % len(quotes)]
        body = {"reason": "Too dear."} if answer == "reject" else None
        path = f"/cases/{case.id}/quotes/{quote_id}/{answer}"
        response = self.http.call("post", path, user, body, **{"If-Match": self.etag(version, if_match)})
        if response.status_code == 200:
            assert (status, response.get_json()["status"]) == ("proposed", f"{answer}ed")

    @precondition(lambda self: self.cases)
    @rule(data=st.data(), pick=st.integers(0, 30), stars=st.sampled_from((1, 4, 5, 0, 6)))
    def rate(self, data: st.DataObject, pick: int, stars: int) -> None:
        case = self.case(pick)
        user = data.draw(actor(self.whose_turn(case, "accept_solution")), label="user")
        response = self.http.call("post", f"/cases/{case.id}/rating", user, {"stars": stars})
        if response.status_code == 201:
            assert case.status == "closed" and 1 <= stars <= 5

    @precondition(lambda self: self.cases)
    @rule(pick=st.integers(0, 30), user=st.sampled_from(EVERYONE))
    def read(self, pick: int, user: str) -> None:
        case = self.case(pick)
        for path in (f"/cases/{case.id}", f"/cases/{case.id}/history", f"/cases/{case.id}/quotes"):
            self.http.call("get", path, user)

    @rule(by=st.sampled_from((timedelta(minutes=30), timedelta(hours=3), timedelta(days=1), timedelta(days=8))))
    def time_passes(self, by: timedelta) -> None:
        """The park's clock moves on and the worker's jobs run at the new moment, twice: the
        second run finds nothing more to do."""
        now = self.clock.advance(by)
        for job in (route_triaged, detect_breaches, close_unanswered):
            with self.db.unit_of_work() as uow:
                job(uow=uow, now=now)
                uow.commit()
        before = self.http.rows()
        for job in (route_triaged, detect_breaches, close_unanswered):
            with self.db.unit_of_work() as uow:
                assert job(uow=uow, now=now) == 0, job.__name__
                uow.commit()
        assert self.http.rows() == before

    # Invariants --------------------------------------------------------------------------------

    @invariant()
    def transitions_are_the_tables_and_the_trail_is_complete(self) -> None:
        with self.db.reading() as session:
            cases = {c.id: c.status for c in session.scalars(select(Case))}
            lines = list(session.scalars(select(CaseTransition).order_by(CaseTransition.id)))
            self._trails_checked(cases, lines)

    def _trails_checked(self, cases: dict[str, str], lines: list[CaseTransition]) -> None:
        assert set(cases) == set(self.cases)
        by_case: dict[str, list[CaseTransition]] = {case_id: [] for case_id in cases}
        for line in lines:
            by_case[line.case_id].append(line)
        for case_id, trail in by_case.items():
            first, *rest = trail
            assert (first.action, first.from_status, first.to_status) == ("submit", None, "submitted")
            previous = first.to_status
            for line in rest:
                assert line.from_status == previous, (case_id, line.action, line.from_status, previous)
                if line.action in NOT_MOVING:
                    assert line.to_status == line.from_status, (line.action, line.to_status)
                else:
                    assert line.action in TRANSITIONS, line.action
                    assert TRANSITIONS[line.action].get(line.from_status) == line.to_status, (
                        line.action,
                        line.from_status,
                        line.to_status,
                    )
                previous = line.to_status
            assert previous == cases[case_id], (case_id, previous, cases[case_id])

    @invariant()
    def every_line_has_its_event(self) -> None:
        expected: Counter[tuple[str, str]] = Counter()
        with self.db.reading() as session:
            for line in session.scalars(select(CaseTransition)):
                event = SUBMITTED_EVENT if line.action == "submit" else EVENT_OF_ACTION.get(line.action)
                if line.action == "escalate":
                    event = "consulting.case.sla_breached"
                if event is not None:
                    expected[(line.case_id, event)] += 1
            for notice in session.execute(select(SlaNotice.kind, SlaClock.case_id).join(SlaClock)):
                if notice.kind == "warning":
                    expected[(notice.case_id, "consulting.case.sla_warning")] += 1
            for quote in session.scalars(select(Quote)):
                expected[(quote.case_id, "consulting.case.quoted")] += 1
                if quote.status == "accepted":
                    expected[(quote.case_id, "consulting.case.quote_accepted")] += 1
        events = Counter((e["data"]["case_id"], e["type"]) for e in published(self.db, "consulting.case."))
        assert events == expected

    @invariant()
    def one_agreed_fee_and_one_open_proposal_per_case(self) -> None:
        with self.db.reading() as session:
            rows = session.execute(select(Quote.case_id, Quote.status)).all()
        accepted = Counter(case_id for case_id, status in rows if status == "accepted")
        proposed = Counter(case_id for case_id, status in rows if status == "proposed")
        assert max(accepted.values(), default=0) <= 1, accepted
        assert max(proposed.values(), default=0) <= 1, proposed

    @invariant()
    def sla_clocks_never_run_backwards(self) -> None:
        now = self.clock.now
        with self.db.reading() as session:
            calendar = load_business_calendar(session)
            clocks = list(session.scalars(select(SlaClock)))
            pauses = pauses_of(session, [c.case_id for c in clocks])
            self._clocks_checked(clocks, calendar, pauses, now)

    def _clocks_checked(self, clocks: list[SlaClock], calendar: Any, pauses: Any, now: datetime) -> None:
        for clock in clocks:
            until = clock.met_at or clock.stopped_at or now
            used = used_minutes(as_utc(clock.started_at), as_utc(until), calendar, pauses.get(clock.case_id, []))
            assert used >= self.used.get(clock.id, 0), (clock.clock, clock.target, used, self.used[clock.id])
            self.used[clock.id] = used
            facts = (clock.started_at, clock.warned_at, clock.breached_at)
            seen = self.clock_facts.setdefault(clock.id, facts)
            assert facts[0] == seen[0], "a clock's start moved"
            for found, before in zip(facts[1:], seen[1:], strict=True):
                assert before is None or found == before, "a warning or breach found was lost or moved"
            self.clock_facts[clock.id] = facts


SETTINGS = machine_settings(examples=30, steps=25)


def test_cases_keep_their_invariants_whatever_anyone_does(migrated_services, signing_key, tmp_path):
    CaseMachine.rig = Rig.built(
        migrated_services, tmp_path, signing_key, consulting_database, Base.metadata, create_app
    )
    REACHED.clear()
    ANSWERS.clear()
    run_state_machine_as_test(CaseMachine, settings=SETTINGS)
    # Not vacuous: the run took cases the whole way, and off it.
    assert {"in_progress", "waiting_on_tenant", "solution_proposed", "closed", "cancelled"} <= set(REACHED), (
        REACHED,
        ANSWERS,
    )
