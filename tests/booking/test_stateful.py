"""Booking driven by a Hypothesis state machine over real HTTP (issue 11).

Several users (two tenants of each of two organisations, desk staff, park admin) book rooms, a
club that needs approval above 10 attendees and has buffers, and a hall that always needs it; they
move, edit, cancel, approve, reject, check in and complete; they retry a create with the same
``Idempotency-Key`` (the same body, another body, another caller); series are booked and
cancelled; room holds, their releases and organisation changes arrive over the bus and are
delivered twice; the worker's jobs run on a clock that only moves forward. Times include the
edges: opening and closing, midnight, the grid, the lead time, the horizon, the past, other
offsets, none.

After every step (``stateful_support``): no two holding reservations overlap, every audit line is
an allowed move, every state change has its line and its event, the free-hour counters equal what
the reservations took, and the API (the list, one reservation's history, the quota usage) says
what the database holds. During the steps: no 5xx ever, every refusal is problem+json in the
reader's language and changes nothing, a replay answers the first answer and creates nothing.

Examples: ``PARKHUB_STATEFUL_EXAMPLES`` (default 30) and ``PARKHUB_STATEFUL_STEPS`` (25); the
PostgreSQL variant runs a sixth of the examples.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from migrations import upgrade
from services.booking.handlers import complete_ended, expire_unapproved, release_no_shows
from services.booking.models import Reservation
from services.booking.rules import HOLDING, next_status
from shared.clock import PARK_TZ
from shared.events import Event
from tests.booking import stateful_support as support
from tests.booking.conftest import OPERATOR, ORG_A, ORG_B, USERS, park_day
from tests.booking.factories import ALL_DAY, OFFICE, QuotaRuleFactory, SpaceFactory
from tests.servers import PostgresDatabases

SEEN: Counter[tuple[str, str, int, str]] = Counter()
"""What the requests met (``PARKHUB_STATEFUL_TRACE=1`` prints it): how much of booking a run reached."""
EXAMPLES = int(os.environ.get("PARKHUB_STATEFUL_EXAMPLES", "30"))
STEPS = int(os.environ.get("PARKHUB_STATEFUL_STEPS", "25"))
TENANTS = ("alice", "bob", "carol", "dave")
STAFF = ("desk", "admin")
EVERYONE = TENANTS + STAFF
SLOT = timedelta(minutes=30)

# When: (day, first slot, slots long, how it is written). Slots count half hours from 08:00 park
# time; the low ones come often so that bookings meet. "soon" is from the next half hour of today
# (inside the lead time: staff only), "past" yesterday, "far" beyond the horizon.
DAYS = st.sampled_from(["d2"] * 4 + ["d3"] * 3 + ["next_month", "soon", "soon", "soon", "past", "far"])
FIRST_SLOT = st.sampled_from([*range(2, 9)] * 4 + [*range(0, 32)])
LENGTH = st.sampled_from([1, 1, 2, 2, 2, 3, 4, 4, 0, 12, 17])
FORMS = st.sampled_from(["park"] * 6 + ["utc", "utc", "plus2", "plus2", "naive", "off_grid"])
WHEN = st.tuples(DAYS, FIRST_SLOT, LENGTH, FORMS)
WHO = st.sampled_from(["organiser"] * 3 + ["colleague", "other_organisation", "desk", "desk", "admin"])
"""Who acts on a reservation, by their relation to it."""
PICK = st.integers(min_value=0, max_value=1000)
ATTENDEES = st.sampled_from([1, 4, 4, 8, 8, 12, 12, 35, 250])
LANGUAGES = st.sampled_from(["en", "zh"])


def first_of_next_month() -> datetime:
    today = datetime.now(PARK_TZ).date()
    following = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    # At least two days ahead (the lead time), inside the horizon.
    day = following if following - today >= timedelta(days=2) else following + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 8, tzinfo=PARK_TZ)


def interval(when: tuple[str, int, int, str]) -> tuple[datetime, datetime]:
    """The instants ``when`` names (park time)."""
    day, first, length, _form = when
    if day == "soon":
        now = datetime.now(PARK_TZ).replace(second=0, microsecond=0)
        start = now + timedelta(minutes=30 - now.minute % 30) + SLOT * (first % 4)
    else:
        base = {"d2": park_day(2), "d3": park_day(3), "past": park_day(-1), "far": park_day(200)}.get(day)
        origin = first_of_next_month() if base is None else datetime(base.year, base.month, base.day, 8, tzinfo=PARK_TZ)
        start = origin + SLOT * first
    return start, start + SLOT * length


def written(moment: datetime, form: str) -> str:
    if form == "utc":
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if form == "plus2":
        return moment.astimezone(support.fixed_offset(2)).isoformat()
    if form == "naive":
        return moment.replace(tzinfo=None).isoformat()
    if form == "off_grid":
        return (moment + timedelta(minutes=10)).isoformat()
    return moment.isoformat()


def times(when: tuple[str, int, int, str]) -> dict[str, str]:
    start, end = interval(when)
    form = when[3]
    return {"start": written(start, form), "end": written(end, "park" if form == "off_grid" else form)}


class BookingMachine(RuleBasedStateMachine):
    """The park's users, booking's bus and its worker against one fresh booking."""

    world_factory: Any = None  # set by each test: () -> support.World

    keyed = Bundle("keyed")
    holds = Bundle("holds")
    series = Bundle("series")

    def __init__(self) -> None:
        super().__init__()
        self.world: support.World = type(self).world_factory()
        self.api = self.world.api
        self.db = self.world.database
        self.spaces = {
            "room": SpaceFactory(
                code="room",
                opening_hours=dict(ALL_DAY),
                lead_time_minutes=60,
                check_in_opens_minutes=240,
                hourly_price=Decimal("100.00"),
            ),
            "club": SpaceFactory(
                code="club",
                kind="scientists_club",
                capacity=40,
                opening_hours=dict(OFFICE),
                approval_mode="attendees_above",
                approval_threshold=10,
                setup_minutes=30,
                cleanup_minutes=30,
                free_cancel_hours=72,
                check_in_opens_minutes=240,
            ),
            "hall": SpaceFactory(
                code="hall",
                kind="science_hall",
                capacity=300,
                layouts={"theatre": 300},
                opening_hours=dict(OFFICE),
                approval_mode="always",
                setup_minutes=60,
                cleanup_minutes=30,
                hourly_price=Decimal("800.00"),
            ),
        }
        QuotaRuleFactory(org_id="*", space_kind="conference_room", free_hours_per_month=2)
        QuotaRuleFactory(org_id=ORG_B, space_kind="scientists_club", free_hours_per_month=3)
        self.expected: list[str] = []  # every reservation a 201 or a room hold's answer announced, in order
        self.clock = datetime.now(UTC)  # the worker's clock: only ever moves forward
        self.suspended: set[str] = set()
        self.org_versions = {ORG_A: 1, ORG_B: 1}
        self.touched: str | None = None  # the reservation whose history the API is asked for
        self.stored: dict[str, dict[str, Any]] = {}  # the reservations as the last step left them
        self.spent: dict[tuple[str, str, str], int] = {}  # the free minutes the API last reported
        self.checked: tuple[Any, ...] | None = None  # the database the API was last compared with

    def teardown(self) -> None:
        self.world.close()

    # How every request is judged ---------------------------------------------------------------

    def call(self, method: str, path: str, user: str, body: Any = None, **headers: str) -> Any:
        """One request; never a 5xx. A refusal is problem+json in the reader's language."""
        language = headers.pop("lang", "en")
        headers["Accept-Language"] = language
        sent = {"headers": self.api.headers(user, **headers)}
        if body is not None:
            sent |= {"data": json.dumps(body), "content_type": "application/json"}
        answer = getattr(self.api.client, method)(self.api._url(path), **sent)
        assert answer.status_code < 500, (method, path, answer.status_code, answer.get_data(as_text=True))
        outcome = (answer.json or {}).get("type", "").rsplit("/", 1)[-1] if answer.status_code >= 400 else ""
        SEEN[method, re.sub(r"[0-9a-f-]{36}", "{id}", path.split("?", maxsplit=1)[0]), answer.status_code, outcome] += 1
        if answer.status_code >= 400 and answer.headers.get("Idempotent-Replayed") != "true":
            assert answer.mimetype == "application/problem+json", answer.get_data(as_text=True)
            assert answer.headers["Content-Language"].startswith(language), (language, answer.json)
        return answer

    def refused(self, answer: Any, before: tuple[Any, ...]) -> None:
        """A refusal changed nothing."""
        assert 400 <= answer.status_code < 500, answer.json
        assert support.fingerprint(self.db) == before, answer.json

    def hold_event(self, org: str, space: str | None, when: Any, attendees: int) -> dict[str, Any]:
        """Consulting's request for a room for ``org`` (a new request id), as an envelope."""
        start, end = interval(when)
        request_id = str(uuid.uuid4())
        return Event(
            type="booking.room_hold.requested",
            source="/parkhub/consulting",
            data={
                "request_id": request_id,
                "requester": "consulting",
                "org_id": org,
                "requested_by": "user:alice" if org == ORG_A else "user:carol",
                "requested_by_name": "Requester",
                "title": "Meeting with counsel",
                "starts_at": start.astimezone(UTC).isoformat(),
                "ends_at": end.astimezone(UTC).isoformat(),
                "attendees": attendees,
                "space_id": self.spaces[space].id if space else None,
                "visitors": [{"name": "Attorney Liu", "company": "Sichuan IP Law Firm", "car_plate": "川A66666"}],
            },
            correlationid=f"req-{request_id[:8]}",
            orgid=org,
        ).to_dict()

    def pick(self, pick: int) -> str:
        """One of the example's reservations, by its place among those made (shrinks to the first)."""
        return self.expected[pick % len(self.expected)]

    def caller(self, reservation_id: str, who: str) -> str:
        """The user who acts, named by their relation to the reservation."""
        stored = support.reservations(self.db)[reservation_id]
        organiser = next((n for n, u in USERS.items() if u.sub == stored["booked_by"]), "desk")
        tenants = [n for n in TENANTS if USERS[n].org == stored["org_id"]]
        others = [n for n in TENANTS if USERS[n].org != stored["org_id"]]
        chosen = {
            "organiser": organiser,
            "colleague": next((n for n in tenants if n != organiser), organiser),
            "other_organisation": others[0],
            "desk": "desk",
            "admin": "admin",
        }
        return chosen[who]

    def version(self, reservation_id: str, stale: bool) -> str:
        current = support.reservations(self.db)[reservation_id]["version"]
        return f'"{current - 1 if stale and current > 1 else current + 7 if stale else current}"'

    # Booking ------------------------------------------------------------------------------------

    def booking_body(self, space: str, when: tuple[str, int, int, str], attendees: int, **extra: Any) -> dict[str, Any]:
        return {"space_id": self.spaces[space].id, **times(when), "title": "Lab sync", "attendees": attendees, **extra}

    def judge_create(self, user: str, body: dict[str, Any], answer: Any, before: tuple[Any, ...]) -> list[str]:
        """The ids a create's answer announced (none when it was refused, and then nothing changed)."""
        if answer.status_code != 201:
            self.refused(answer, before)
            return []
        created = answer.json
        org = body.get("organisation_id") or USERS[user].org
        assert created["organisation"]["id"] == org
        assert org not in self.suspended, "a suspended organisation booked"
        assert answer.headers["ETag"] == f'"{created["version"]}"'
        space = next(name for name, s in self.spaces.items() if s.id == body["space_id"])
        staff = user in STAFF
        assert created["status"] == (
            "confirmed"
            if staff or space == "room" or (space == "club" and body["attendees"] <= 10)
            else "pending_approval"
        )
        assert created["id"] not in self.expected
        self.expected.append(created["id"])
        self.touched = created["id"]
        return [created["id"]]

    @rule(
        user=st.sampled_from(EVERYONE),
        space=st.sampled_from(["room", "room", "club", "hall"]),
        when=WHEN,
        attendees=ATTENDEES,
        for_org=st.sampled_from([None, None, ORG_A, ORG_B, OPERATOR]),
        lang=LANGUAGES,
    )
    def book(self, user: str, space: str, when: Any, attendees: int, for_org: str | None, lang: str) -> None:
        extra = {"organisation_id": for_org} if for_org and user in STAFF else {}
        body = self.booking_body(space, when, attendees, **extra)
        before = support.fingerprint(self.db)
        answer = self.call("post", "/reservations", user, body, lang=lang)
        self.judge_create(user, body, answer, before)

    @rule(
        target=keyed,
        user=st.sampled_from(EVERYONE),
        space=st.sampled_from(["room", "club", "hall"]),
        when=WHEN,
        attendees=ATTENDEES,
    )
    def book_with_key(self, user: str, space: str, when: Any, attendees: int) -> dict[str, Any]:
        """A create with an ``Idempotency-Key``, remembered for its retries."""
        body = self.booking_body(space, when, attendees)
        key = f"key-{uuid.uuid4()}"
        before = support.fingerprint(self.db)
        answer = self.call("post", "/reservations", user, body, **{"Idempotency-Key": key})
        self.judge_create(user, body, answer, before)
        return {"user": user, "key": key, "body": body, "status": answer.status_code, "answer": answer.get_data()}

    @rule(retry=keyed, lang=LANGUAGES)
    def retry_same_body(self, retry: dict[str, Any], lang: str) -> None:
        """The same key and body: the first answer again, nothing created; after a refusal the key
        was left free, so the retry is a request of its own."""
        before = support.fingerprint(self.db)
        answer = self.call(
            "post", "/reservations", retry["user"], retry["body"], lang=lang, **{"Idempotency-Key": retry["key"]}
        )
        if retry["status"] == 201:
            assert answer.status_code == 201
            assert answer.headers.get("Idempotent-Replayed") == "true"
            assert answer.get_data() == retry["answer"]
            assert support.fingerprint(self.db) == before
        else:
            assert answer.headers.get("Idempotent-Replayed") is None
            self.judge_create(retry["user"], retry["body"], answer, before)
            retry.update(status=answer.status_code, answer=answer.get_data())

    @rule(retry=keyed, attendees=ATTENDEES)
    def retry_other_body(self, retry: dict[str, Any], attendees: int) -> None:
        """The same key with another body: 422 ``idempotency-key-reused`` once the key holds an
        answer, nothing changed."""
        body = {**retry["body"], "title": f"Another meeting {uuid.uuid4().hex[:6]}", "attendees": attendees}
        before = support.fingerprint(self.db)
        answer = self.call("post", "/reservations", retry["user"], body, **{"Idempotency-Key": retry["key"]})
        if retry["status"] == 201:
            assert answer.status_code == 422 and answer.json["type"].endswith("idempotency-key-reused")
            self.refused(answer, before)
        else:
            self.judge_create(retry["user"], body, answer, before)
            retry.update(status=answer.status_code, answer=answer.get_data(), body=body)

    @rule(retry=keyed, other=st.sampled_from(EVERYONE))
    def retry_as_someone_else(self, retry: dict[str, Any], other: str) -> None:
        """Keys are each caller's: another caller's request with the same key is their own
        request, never the first caller's answer (and replays their own answer once they have one)."""
        if other == retry["user"]:
            return
        before = support.fingerprint(self.db)
        answer = self.call("post", "/reservations", other, retry["body"], **{"Idempotency-Key": retry["key"]})
        theirs = retry.setdefault("others", {}).get(other)
        if theirs is not None and theirs[0] == 201:
            assert answer.headers.get("Idempotent-Replayed") == "true"
            assert (answer.status_code, answer.get_data()) == theirs
            assert support.fingerprint(self.db) == before
            return
        assert answer.headers.get("Idempotent-Replayed") is None
        self.judge_create(other, retry["body"], answer, before)
        retry["others"][other] = (answer.status_code, answer.get_data())

    # Acting on a reservation ------------------------------------------------------------------

    def judge_act(
        self, user: str, reservation_id: str, answer: Any, before: tuple[Any, ...], *, tenant_forbidden: bool
    ) -> None:
        stored = support.reservations(self.db)[reservation_id]
        invalid = answer.status_code == 422 and answer.json["type"].endswith("/validation-failed")
        if user in TENANTS and tenant_forbidden:
            assert answer.status_code == 403, answer.json  # the view's guard, before anything is read
        elif user in TENANTS and USERS[user].org != stored["org_id"] and not invalid:
            assert answer.status_code == 404, answer.json  # another organisation's: not found
        if answer.status_code == 200:
            assert answer.json["version"] == stored["version"]
            assert answer.headers["ETag"] == f'"{stored["version"]}"'
            self.touched = reservation_id
        else:
            self.refused(answer, before)

    @precondition(lambda self: self.expected)
    @rule(
        pick=PICK,
        who=WHO,
        action=st.sampled_from(
            ["approve", "approve", "reject", "cancel", "cancel", "cancel", "check-in", "check-in", "complete"]
        ),
        stale=st.sampled_from([False, False, False, True]),
        lang=LANGUAGES,
    )
    def act(self, pick: int, who: str, action: str, stale: bool, lang: str) -> None:
        reservation = self.pick(pick)
        user = self.caller(reservation, who)
        state = support.reservations(self.db)[reservation]["status"]
        before = support.fingerprint(self.db)
        body = {"reason": "The hall is closed for works"} if action in ("reject", "cancel") else None
        answer = self.call(
            "post",
            f"/reservations/{reservation}/{action}",
            user,
            body,
            lang=lang,
            **{"If-Match": self.version(reservation, stale)},
        )
        if stale and answer.status_code not in (403, 404):
            assert answer.status_code == 412, answer.json
        self.judge_act(user, reservation, answer, before, tenant_forbidden=action in ("approve", "reject"))
        if answer.status_code == 200:
            assert answer.json["status"] == next_status(state, action.replace("-", "_"))
        if answer.status_code == 200 and action == "cancel":
            # Staff waive the fee; a request the desk never granted costs nothing to withdraw.
            granted = any(line["to_status"] == "confirmed" for line in support.trails(self.db)[reservation])
            if user in STAFF or not granted:
                assert answer.json["cancellation_fee"]["amount"] == "0.00", answer.json

    def waiting(self) -> list[str]:
        return [i for i in self.expected if self.stored.get(i, {}).get("status") == "pending_approval"]

    def at_the_door(self) -> list[str]:
        """Confirmed or checked-in reservations whose check-in window is open now (real time)."""
        now = datetime.now(UTC)
        found = []
        for i in self.expected:
            row = self.stored.get(i, {})
            if row.get("status") in ("confirmed", "checked_in") and support.utc(row["starts_at"]) - now < timedelta(
                hours=4
            ):
                found.append(i)
        return found

    @precondition(lambda self: self.waiting())
    @rule(
        pick=PICK,
        who=st.sampled_from(["desk", "desk", "admin", "organiser"]),
        decision=st.sampled_from(["approve", "approve", "reject"]),
        lang=LANGUAGES,
    )
    def decide(self, pick: int, who: str, decision: str, lang: str) -> None:
        """The desk decides a request waiting for approval (a tenant may not)."""
        waiting = self.waiting()
        reservation = waiting[pick % len(waiting)]
        user = self.caller(reservation, who)
        before = support.fingerprint(self.db)
        body = {"reason": "The hall is booked for the park's own event"} if decision == "reject" else None
        answer = self.call(
            "post",
            f"/reservations/{reservation}/{decision}",
            user,
            body,
            lang=lang,
            **{"If-Match": self.version(reservation, False)},
        )
        self.judge_act(user, reservation, answer, before, tenant_forbidden=True)
        if user in STAFF:
            start = support.utc(self.stored[reservation]["starts_at"])
            assert answer.status_code == (200 if start > datetime.now(UTC) else 422), answer.json
        if answer.status_code == 200:
            assert answer.json["status"] == next_status("pending_approval", decision)

    @precondition(lambda self: self.at_the_door())
    @rule(
        pick=PICK,
        who=st.sampled_from(["organiser", "organiser", "colleague", "desk", "other_organisation"]),
        action=st.sampled_from(["check-in", "check-in", "complete"]),
    )
    def at_the_meeting(self, pick: int, who: str, action: str) -> None:
        """A meeting about to start (or begun): checked in, then completed when people leave."""
        found = self.at_the_door()
        reservation = found[pick % len(found)]
        user = self.caller(reservation, who)
        state = self.stored[reservation]["status"]
        before = support.fingerprint(self.db)
        answer = self.call(
            "post",
            f"/reservations/{reservation}/{action}",
            user,
            None,
            **{"If-Match": self.version(reservation, False)},
        )
        self.judge_act(user, reservation, answer, before, tenant_forbidden=False)
        if answer.status_code == 200:
            assert answer.json["status"] == next_status(state, action.replace("-", "_"))

    @precondition(lambda self: self.expected)
    @rule(
        pick=PICK,
        who=WHO,
        when=WHEN,
        space=st.sampled_from([None, None, "room", "club", "hall"]),
        stale=st.sampled_from([False, False, False, True]),
    )
    def reschedule(self, pick: int, who: str, when: Any, space: str | None, stale: bool) -> None:
        reservation = self.pick(pick)
        user = self.caller(reservation, who)
        before = support.fingerprint(self.db)
        state = support.reservations(self.db)[reservation]["status"]
        body: dict[str, Any] = times(when) | ({"space_id": self.spaces[space].id} if space else {})
        answer = self.call(
            "post",
            f"/reservations/{reservation}/reschedule",
            user,
            body,
            **{"If-Match": self.version(reservation, stale)},
        )
        self.judge_act(user, reservation, answer, before, tenant_forbidden=False)
        if answer.status_code == 200:
            assert answer.json["status"] == state  # a move never changes the state

    @precondition(lambda self: self.expected)
    @rule(
        pick=PICK,
        who=WHO,
        attendees=st.none() | ATTENDEES,
        title=st.none() | st.sampled_from(["Renamed", "重新命名", "  "]),
        visitors=st.none()
        | st.sampled_from([[], [{"name": "Dr Liu", "car_plate": "川a·123 45"}], [{"name": "X", "car_plate": "bad"}]]),
    )
    def edit(self, pick: int, who: str, attendees: int | None, title: str | None, visitors: Any) -> None:
        reservation = self.pick(pick)
        user = self.caller(reservation, who)
        patch = {
            name: value
            for name, value in (("attendees", attendees), ("title", title), ("visitors", visitors))
            if value is not None
        }
        before = support.fingerprint(self.db)
        answer = self.call(
            "patch", f"/reservations/{reservation}", user, patch, **{"If-Match": self.version(reservation, False)}
        )
        self.judge_act(user, reservation, answer, before, tenant_forbidden=False)

    # Series -------------------------------------------------------------------------------------

    @rule(
        target=series,
        user=st.sampled_from(EVERYONE),
        space=st.sampled_from(["room", "club"]),
        when=WHEN,
        rrule=st.sampled_from(["FREQ=DAILY;COUNT=2", "FREQ=WEEKLY;COUNT=3", "FREQ=DAILY;COUNT=2;INTERVAL=0"]),
        mode=st.sampled_from(["all_or_nothing", "skip_conflicts"]),
        attendees=st.sampled_from([4, 12]),
        retried=st.booleans(),
    )
    def book_series(
        self, user: str, space: str, when: Any, rrule: str, mode: str, attendees: int, retried: bool
    ) -> Any:
        """A recurring series; ``retried``: sent with an ``Idempotency-Key`` and sent again, which
        answers the first answer and books nothing more."""
        body = self.booking_body(space, when, attendees, rrule=rrule, mode=mode)
        key = {"Idempotency-Key": f"series-{uuid.uuid4()}"} if retried else {}
        before = support.fingerprint(self.db)
        answer = self.call("post", "/series", user, body, **key)
        if answer.status_code != 201:
            self.refused(answer, before)
            return multiple()
        if retried:
            after = support.fingerprint(self.db)
            again = self.call("post", "/series", user, body, **key)
            assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
            assert again.get_data() == answer.get_data()
            assert support.fingerprint(self.db) == after
        booked = [o["reservation_id"] for o in answer.json["occurrences"] if o["outcome"] == "booked"]
        assert booked and not set(booked) & set(self.expected)
        if mode == "all_or_nothing":
            assert all(o["outcome"] == "booked" for o in answer.json["occurrences"]), answer.json
        self.expected.extend(booked)
        return answer.json["series_id"]

    @rule(series_id=series, user=st.sampled_from(EVERYONE))
    def cancel_series(self, series_id: str, user: str) -> None:
        etag = self.call("get", f"/series/{series_id}", "admin").headers["ETag"]
        before = support.fingerprint(self.db)
        answer = self.call(
            "post", f"/series/{series_id}/cancel", user, {"reason": "Project ended"}, **{"If-Match": etag}
        )
        if answer.status_code != 200:
            self.refused(answer, before)

    # The bus ------------------------------------------------------------------------------------

    @rule(
        target=holds,
        org=st.sampled_from([ORG_A, ORG_B]),
        space=st.sampled_from([None, "room", "club", "hall"]),
        when=WHEN.filter(lambda w: w[3] in ("park", "utc", "plus2")),
        attendees=st.sampled_from([2, 6, 12]),
    )
    def hold_requested(self, org: str, space: str | None, when: Any, attendees: int) -> dict[str, Any]:
        """Consulting asks for a room; whatever booking answers, the answer names the request."""
        event = self.hold_event(org, space, when, attendees)
        request_id = event["data"]["request_id"]
        mark = support.last_outbox_id(self.db)
        assert self.world.deliver(event) == "handled"
        _, written_now = support.outbox_after(self.db, mark)
        answers = [e for e in written_now if e["data"].get("request_id") == request_id]
        assert len(answers) == 1, written_now  # one answer: placed (requested/confirmed) or refused
        placed = answers[0]["data"]["reservation_id"]
        assert answers[0]["correlationid"] == event["correlationid"]
        if placed:
            assert placed not in self.expected
            self.expected.append(placed)
            self.touched = placed
        else:
            assert answers[0]["type"] == "booking.reservation.rejected"
        return {"request": event, "reservation_id": placed}

    @rule(hold=holds, which=st.sampled_from(["request", "request", "release"]), as_new_event=st.booleans())
    def hold_redelivered(self, hold: dict[str, Any], which: str, as_new_event: bool) -> None:
        """The same envelope again (the request or its release) is a duplicate; the same request
        or release in a new envelope is handled, and acted on no second time. Neither changes
        anything."""
        envelope = dict(hold.get(which) or hold["request"])
        if as_new_event:
            envelope["id"] = str(uuid.uuid4())
        before = support.fingerprint(self.db)
        assert self.world.deliver(envelope) == ("handled" if as_new_event else "duplicate")
        assert support.fingerprint(self.db) == before

    @rule(hold=holds)
    def hold_released(self, hold: dict[str, Any]) -> None:
        """Consulting no longer needs the room: what was placed for it is cancelled, without a fee
        (a second release, a new event, changes nothing)."""
        data = hold["request"]["data"]
        event = Event(
            type="booking.room_hold.released",
            source="/parkhub/consulting",
            data={"request_id": data["request_id"], "requester": "consulting", "reason": None},
            orgid=data["org_id"],
        ).to_dict()
        hold["release"] = event
        before = support.reservations(self.db).get(hold["reservation_id"] or "")
        assert self.world.deliver(event) == "handled"
        if before is not None:
            after = support.reservations(self.db)[hold["reservation_id"]]
            # Cancelled if it was current (and had not ended), else left as it was.
            assert after["status"] in (before["status"], "cancelled")
            if after["status"] != before["status"]:
                assert before["status"] in ("pending_approval", "confirmed")
                assert after["cancellation_fee"] == Decimal("0.00")  # released: never a fee
                self.touched = hold["reservation_id"]

    @rule(
        org=st.sampled_from([ORG_A, ORG_B]),
        status=st.sampled_from(["active", "active", "suspended"]),
        twice=st.booleans(),
    )
    def organisation_changed(self, org: str, status: str, twice: bool) -> None:
        """Identity says an organisation changed; redelivered (and an older version after it)
        nothing moves back."""
        self.org_versions[org] += 1
        newer = self.org_event(org, status, self.org_versions[org])
        assert self.world.deliver(newer) == "handled"
        (self.suspended.add if status == "suspended" else self.suspended.discard)(org)
        if twice:
            assert self.world.deliver(newer) == "duplicate"
            older = "active" if status == "suspended" else "suspended"
            assert self.world.deliver(self.org_event(org, older, self.org_versions[org] - 1)) == "handled"
        known = self.call("get", f"/directory/organisations/{org}", "desk")
        assert known.status_code == 200 and known.json["status"] == status, known.json

    @staticmethod
    def org_event(org: str, status: str, version: int) -> dict[str, Any]:
        name = "Chengdu Cell Therapeutics" if org == ORG_A else "Tianfu Genomics"
        data = {"id": org, "name": name, "kind": "tenant", "status": status, "version": version}
        return Event(type="identity.organisation.updated", source="/parkhub/gateway", data=data, orgid=org).to_dict()

    # The worker ---------------------------------------------------------------------------------

    @rule(hours=st.sampled_from([0, 0, 0, 1, 30, 80]))
    def run_jobs(self, hours: int) -> None:
        """The worker's three jobs at a clock ``hours`` on; afterwards nothing is left that they
        should have moved."""
        self.clock = max(self.clock, datetime.now(UTC)) + timedelta(hours=hours)
        for job in (release_no_shows, complete_ended, expire_unapproved):
            self.world.run_job(job, self.clock)
        grace = {s.id: timedelta(minutes=s.check_in_grace_minutes) for s in self.spaces.values()}
        with self.db.reading() as session:
            for row in session.query(Reservation).filter(Reservation.status.in_(HOLDING)):
                start, end = support.utc(row.starts_at), support.utc(row.ends_at)
                assert not (row.status == "pending_approval" and start <= self.clock), row.id
                assert not (row.status == "checked_in" and end <= self.clock), row.id
                assert not (row.status == "confirmed" and start + grace[row.space_id] <= self.clock), row.id

    # Invariants ---------------------------------------------------------------------------------

    @invariant()
    def booking_keeps_its_promises(self) -> None:
        """After every step, from the database; and from the API whenever the database changed
        (reads of an unchanged database cannot answer otherwise)."""
        stored = self.stored = support.reservations(self.db)
        # One effect per request: the reservations are exactly those the answers announced (a
        # replay, a duplicate delivery or a refusal created none).
        assert sorted(stored) == sorted(self.expected)
        assert support.overlapping_holds(stored) == []
        lines = support.trails(self.db)
        problems = support.audit_problems(stored, lines, support.events(self.db))
        assert problems == [], "\n".join(problems)
        spent = support.spent(self.db)
        assert support.counters(self.db) == spent
        now = support.fingerprint(self.db)
        if now == self.checked:
            return
        self.checked = now
        shown = {r["id"]: (r["status"], r["version"]) for r in support.listed(self.api)}
        assert shown == {i: (r["status"], r["version"]) for i, r in stored.items()}
        if self.touched:
            history = self.call("get", f"/reservations/{self.touched}/history", "desk").json["items"]
            trail = [(t["action"], t["to_status"]) for t in lines[self.touched]]
            assert [(h["action"], h["to_status"]) for h in history] == trail
        # The usage the API reports, for every month whose spending moved (to nothing, too).
        moved = {key for key in set(spent) | set(self.spent) if spent.get(key) != self.spent.get(key)}
        for org_id, month in {(org_id, month) for org_id, _kind, month in moved if org_id != OPERATOR}:
            usage = self.call("get", f"/quotas/usage?organisation_id={org_id}&month={month}", "desk").json
            used = {item["space_kind"]: item["used_minutes"] for item in usage["items"]}
            for kind in ("conference_room", "scientists_club"):
                assert used.get(kind, 0) == spent.get((org_id, kind, month), 0), (usage, spent)
        self.spent = spent


def trace() -> None:
    if os.environ.get("PARKHUB_STATEFUL_TRACE"):
        for (method, path, status, outcome), count in sorted(SEEN.items()):
            print(f"{count:5} {method.upper():6} {path:40} {status} {outcome}")  # noqa: T201 - asked for
    SEEN.clear()


def machine_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        derandomize=False,
    )


@pytest.mark.duration(seconds=70)
def test_booking_keeps_its_promises(migrated_services: Path, signing_key: rsa.RSAPrivateKey) -> None:
    class OnSQLite(BookingMachine):
        world_factory = staticmethod(lambda: support.sqlite_world(migrated_services, signing_key))

    run_state_machine_as_test(OnSQLite, settings=machine_settings(EXAMPLES))
    trace()


@pytest.mark.postgres
@pytest.mark.slow
def test_booking_keeps_its_promises_on_postgres(
    tmp_path: Path, postgres_databases: PostgresDatabases, signing_key: rsa.RSAPrivateKey
) -> None:
    template = postgres_databases.new_set().format(name="booking")
    upgrade("booking", template)  # migrated once; each example gets a copy (CREATE DATABASE … TEMPLATE)

    def world() -> support.World:
        url = support.copy_postgres_database(postgres_databases, template)
        return support.postgres_world(url, tmp_path / uuid.uuid4().hex[:8], signing_key)

    class OnPostgres(BookingMachine):
        world_factory = staticmethod(world)

    run_state_machine_as_test(OnPostgres, settings=machine_settings(max(3, EXAMPLES // 6)))
    trace()
