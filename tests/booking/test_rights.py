"""Booking's table of rights (services/booking/permissions.py) is what the API does, what its
refusals say and what docs/BOOKING.md shows: every row is tried over HTTP by each role it
allows and by one it does not, and the refusal names exactly who may, in English and Chinese."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from services.booking.permissions import RIGHTS
from shared.errors import PermissionDenied
from shared.i18n import Message, render
from shared.principal import Principal
from shared.rights import DESK_STAFF, PARK_ADMIN, TENANT_ADMIN_OF_ORGANISATION, Right, Rights, alternatives
from tests.booking.conftest import ORG_A, ORG_B, at, park_day
from tests.booking.factories import ReservationFactory, SpaceFactory

ROOT = Path(__file__).resolve().parents[2]
ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}
Probe = Callable[..., Any]


# What each action is over HTTP: a probe does it as ``user`` (in the language of ``headers``) on
# things it makes itself, so every call starts afresh. Reservations are Alice's (tenant admin of
# organisation A) unless a probe says otherwise; Bob is a member of A; Carol and Dave are of B.


def _slot(days: int = 3) -> tuple[str, str]:
    day = park_day(days)
    return at(day, "10:00").isoformat(), at(day, "11:00").isoformat()


def _booked(api, booker: str = "alice", **space: Any) -> dict[str, Any]:
    start, end = _slot()
    body = {"space_id": SpaceFactory(**space).id, "start": start, "end": end, "title": "Team meeting", "attendees": 6}
    response = api.post("/reservations", body, user=booker)
    assert response.status_code == 201, response.json
    return response.json


def _pending(api) -> dict[str, Any]:
    reservation = _booked(api, approval_mode="always")
    assert reservation["status"] == "pending_approval"
    return reservation


def _act(api, reservation, action, user, headers, body=None):
    etag = {"If-Match": f'"{reservation["version"]}"'}
    return api.post(f"/reservations/{reservation['id']}/{action}", body, user=user, **etag, **headers)


def _series(api, booker: str = "alice") -> tuple[str, str]:
    start, end = _slot(2)
    body = {
        "space_id": SpaceFactory().id,
        "start": start,
        "end": end,
        "rrule": "FREQ=WEEKLY;COUNT=2",
        "title": "Weekly lab sync",
        "attendees": 6,
    }
    response = api.post("/series", body, user=booker)
    assert response.status_code == 201, response.json
    series_id = response.json["series_id"]
    return series_id, api.get(f"/series/{series_id}", user=booker).headers["ETag"]


def book(api, user, headers):
    start, end = _slot()
    body = {"space_id": SpaceFactory().id, "start": start, "end": end, "title": "Team meeting", "attendees": 6}
    return api.post("/reservations", body, user=user, **headers)


def book_for_another_organisation(api, user, headers):
    start, end = _slot()
    body = {"space_id": SpaceFactory().id, "start": start, "end": end, "title": "Visit", "organisation_id": ORG_B}
    return api.post("/reservations", {**body, "attendees": 4}, user=user, **headers)


def read(api, user, headers):
    return api.get(f"/reservations/{_booked(api)['id']}", user=user, headers=headers)


def list_own(api, user, headers):
    return api.get("/reservations?scope=organisation", user=user, headers=headers)


def list_all(api, user, headers):
    return api.get("/reservations?scope=all", user=user, headers=headers)


def search(api, user, headers):
    _booked(api)
    return api.get("/reservations?scope=organisation&q=team", user=user, headers=headers)


def edit(api, user, headers):
    reservation = _booked(api, booker="bob")
    etag = {"If-Match": f'"{reservation["version"]}"'}
    return api.patch(f"/reservations/{reservation['id']}", {"title": "Board meeting"}, user=user, **etag, **headers)


def booths(api, user, headers):
    reservation = _booked(api, booker="bob", kind="exhibition_hall", booths=40, layouts={"booths": 40})
    return api.get(f"/reservations/{reservation['id']}/booths", user=user, headers=headers)


def _read_through(response):
    """A streamed answer (the export) read to its end and closed, as a client would."""
    response.get_data()
    response.close()
    return response


def export_reservations(api, user, headers):
    day = park_day(3).isoformat()
    path = f"/reports/reservations.csv?from={day}&to={day}&organisation_id={ORG_A}"
    return _read_through(api.get(path, user=user, headers=headers))


def day_board(api, user, headers):
    return api.get(f"/board?date={park_day(3).isoformat()}", user=user, headers=headers)


def gate_list(api, user, headers):
    return api.get(f"/gate?date={park_day(3).isoformat()}", user=user, headers=headers)


def approve(api, user, headers):
    return _act(api, _pending(api), "approve", user, headers)


def reject(api, user, headers):
    return _act(api, _pending(api), "reject", user, headers, {"reason": "The hall is taken by the park."})


def cancel(api, user, headers):
    return _act(api, _booked(api, booker="bob"), "cancel", user, headers)


def check_in(api, user, headers):
    soon = ReservationFactory(start=datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5))
    return _act(api, {"id": soon.id, "version": 1}, "check-in", user, headers)


def complete(api, user, headers):
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    checked_in = ReservationFactory(start=began, status="checked_in", checked_in_at=began)
    return _act(api, {"id": checked_in.id, "version": 1}, "complete", user, headers)


def reschedule(api, user, headers):
    start, end = _slot(4)
    return _act(api, _booked(api, booker="bob"), "reschedule", user, headers, {"start": start, "end": end})


def replace_visitors(api, user, headers):
    reservation = _booked(api, booker="bob")
    etag = {"If-Match": f'"{reservation["version"]}"'}
    body = {"visitors": [{"name": "Ms. Zhou", "company": "Tianfu Capital"}]}
    return api.put(f"/reservations/{reservation['id']}/visitors", body, user=user, **etag, **headers)


def create_series(api, user, headers):
    start, end = _slot(2)
    body = {"space_id": SpaceFactory().id, "start": start, "end": end, "rrule": "FREQ=WEEKLY;COUNT=2"}
    return api.post("/series", {**body, "title": "Weekly lab sync", "attendees": 6}, user=user, **headers)


def cancel_series(api, user, headers):
    series_id, etag = _series(api, booker="bob")
    return api.post(f"/series/{series_id}/cancel", {}, user=user, **{"If-Match": etag}, **headers)


def move_series(api, user, headers):
    series_id, etag = _series(api, booker="bob")
    return api.post(f"/series/{series_id}/move", {"shift_minutes": 60}, user=user, **{"If-Match": etag}, **headers)


def read_space_feed(api, user, headers):
    return api.get(f"/calendars/spaces/{SpaceFactory().id}/feed", user=user, headers=headers)


def rotate_space_feed(api, user, headers):
    return api.post(f"/calendars/spaces/{SpaceFactory().id}/feed/rotate", user=user, **headers)


def read_organisation_feed(api, user, headers):
    return api.get(f"/calendars/organisations/{ORG_A}/feed", user=user, headers=headers)


def rotate_organisation_feed(api, user, headers):
    return api.post(f"/calendars/organisations/{ORG_A}/feed/rotate", user=user, **headers)


WRONG_LINK = "someone with a wrong link"
"""Who the ``read_feed_document`` row refuses: not a person but a secret that is not the feed's."""


def read_feed_document(api, user, headers):
    """Both kinds of feed document at their links, with the bearer header of ``user`` or none at
    all (``None``), which the link does not need; ``WRONG_LINK`` asks with the wrong secret."""
    answers = []
    for feed in (f"/calendars/spaces/{SpaceFactory().id}/feed", f"/calendars/organisations/{ORG_A}/feed"):
        link = urlsplit(api.get(feed, user="alice").json["url"]).path
        if user == WRONG_LINK:
            link = re.sub(r"/[^/]+\.ics$", "/not-the-secret.ics", link)
        answers.append(api.get(link, user=None if user == WRONG_LINK else user, headers=headers))
    space, organisation = answers
    assert space.status_code == organisation.status_code, (space.get_data(), organisation.get_data())
    return organisation


def read_quotas(api, user, headers):
    return api.get("/quotas", user=user, headers=headers)


def set_quota(api, user, headers):
    body = {"org_id": ORG_A, "space_kind": "conference_room", "free_hours_per_month": 3}
    return api.put("/quotas", body, user=user, **{"If-Match": "*"}, **headers)


def read_quota_usage(api, user, headers):
    return api.get(f"/quotas/usage?organisation_id={ORG_A}", user=user, headers=headers)


def read_spaces(api, user, headers):
    return api.get(f"/spaces/{SpaceFactory().id}/timeline?date={park_day(1).isoformat()}", user=user, headers=headers)


def search_availability(api, user, headers):
    SpaceFactory()
    day = park_day(3)
    window = urlencode({"start": at(day, "09:00").isoformat(), "end": at(day, "18:00").isoformat()})
    return api.get(f"/availability?{window}", user=user, headers=headers)


def read_inactive_spaces(api, user, headers):
    return api.get(f"/spaces/{SpaceFactory(active=False).id}", user=user, headers=headers)


def manage_spaces(api, user, headers):
    day = park_day(5)
    body = {"start": at(day, "08:00").isoformat(), "end": at(day, "12:00").isoformat(), "reason": "Maintenance"}
    return api.post(f"/spaces/{SpaceFactory().id}/closures", body, user=user, **headers)


def read_space_history(api, user, headers):
    return api.get(f"/spaces/{SpaceFactory().id}/history", user=user, headers=headers)


def read_park_calendar(api, user, headers):
    return api.get("/park-calendar?year=2026", user=user, headers=headers)


def manage_park_calendar(api, user, headers):
    return api.post("/park-calendar/2026/load", user=user, **headers)


def read_park_calendar_history(api, user, headers):
    return api.get("/park-calendar/history", user=user, headers=headers)


def read_financing_rounds(api, user, headers):
    return api.get("/financing-rounds", user=user, headers=headers)


def utilisation_report(api, user, headers):
    day = park_day(1).isoformat()
    return api.get(f"/reports/utilisation?from={day}&to={day}", user=user, headers=headers)


@dataclass(frozen=True)
class Case:
    probe: Probe
    allowed: tuple[str, ...]
    refused: str | None  # None: anybody signed in may, so only an anonymous caller is refused (401)
    status: int = 403  # how ``refused`` is refused


TENANTS_AND_STAFF = ("bob", "alice", "desk", "admin")
STAFF = ("desk", "admin")
MANAGERS = ("bob", "alice", "desk", "admin")  # Bob booked; Alice is a tenant admin of his organisation
EVERYBODY = ("alice", "bob", "carol", "dave", "desk", "admin", "bank")

CASES: dict[str, Case] = {
    "book": Case(book, TENANTS_AND_STAFF, "bank"),
    "book_for_another_organisation": Case(book_for_another_organisation, STAFF, "alice"),
    "read": Case(read, ("alice", "bob", "desk", "admin"), "carol", 404),
    "list_own": Case(list_own, EVERYBODY, None),
    "list_all": Case(list_all, STAFF, "bob"),
    "search": Case(search, EVERYBODY, None),
    "approve": Case(approve, STAFF, "alice"),
    "reject": Case(reject, STAFF, "alice"),
    "cancel": Case(cancel, MANAGERS, "dave", 404),
    "check_in": Case(check_in, ("bob", "alice", "desk", "admin"), "carol", 404),
    "complete": Case(complete, ("bob", "alice", "desk", "admin"), "dave", 404),
    "reschedule": Case(reschedule, MANAGERS, "carol", 404),
    "edit": Case(edit, MANAGERS, "carol", 404),
    "replace_visitors": Case(replace_visitors, MANAGERS, "carol", 404),
    "booths": Case(booths, MANAGERS, "carol", 404),
    "export_reservations": Case(export_reservations, ("alice", "desk", "admin"), "bob"),
    "create_series": Case(create_series, TENANTS_AND_STAFF, "bank"),
    "cancel_series": Case(cancel_series, MANAGERS, "carol", 404),
    "move_series": Case(move_series, MANAGERS, "carol", 404),
    "read_space_feed": Case(read_space_feed, EVERYBODY, None),
    "rotate_space_feed": Case(rotate_space_feed, ("admin",), "desk"),
    "read_organisation_feed": Case(read_organisation_feed, ("alice", "bob", "desk", "admin"), "carol"),
    "rotate_organisation_feed": Case(rotate_organisation_feed, ("alice", "desk", "admin"), "bob"),
    "read_feed_document": Case(read_feed_document, (None, *EVERYBODY), WRONG_LINK, 404),
    "read_quotas": Case(read_quotas, STAFF, "alice"),
    "set_quota": Case(set_quota, ("admin",), "desk"),
    "read_quota_usage": Case(read_quota_usage, ("alice", "bob", "desk", "admin"), "carol"),
    "read_spaces": Case(read_spaces, EVERYBODY, None),
    "search_availability": Case(search_availability, EVERYBODY, None),
    "read_inactive_spaces": Case(read_inactive_spaces, STAFF, "alice", 404),
    "manage_spaces": Case(manage_spaces, ("admin",), "desk"),
    "read_space_history": Case(read_space_history, STAFF, "alice"),
    "read_park_calendar": Case(read_park_calendar, EVERYBODY, None),
    "manage_park_calendar": Case(manage_park_calendar, ("admin",), "desk"),
    "read_park_calendar_history": Case(read_park_calendar_history, STAFF, "alice"),
    "day_board": Case(day_board, STAFF, "alice"),
    "gate_list": Case(gate_list, STAFF, "alice"),
    "utilisation_report": Case(utilisation_report, ("admin",), "desk"),
    "read_financing_rounds": Case(read_financing_rounds, TENANTS_AND_STAFF, "bank"),
}
"""For each row: the users it allows (``None``: nobody signed in), and one it refuses (for rows of a
reservation's organiser, someone of another organisation, who is told it does not exist; for the
feed documents, a wrong link)."""

# A reservation's organiser and its tenant admins are also refused, with the row's text, when they
# are of the right organisation but not the right person (Bob on Alice's reservation).
REFUSED_INSIDE: dict[str, Probe] = {
    "cancel": lambda api, h: _act(api, _booked(api), "cancel", "bob", h),
    "reschedule": lambda api, h: _act(api, _booked(api), "reschedule", "bob", h, dict(zip(("start", "end"), _slot(4)))),
    "edit": lambda api, h: api.patch(
        f"/reservations/{(r := _booked(api))['id']}",
        {"title": "Board meeting"},
        user="bob",
        **{"If-Match": f'"{r["version"]}"'},
        **h,
    ),
    "booths": lambda api, h: api.get(
        f"/reservations/{_booked(api, kind='exhibition_hall', booths=40, layouts={'booths': 40})['id']}/booths",
        user="bob",
        headers=h,
    ),
    "export_reservations": lambda api, h: _read_through(
        api.get(
            f"/reports/reservations.csv?from={park_day(3).isoformat()}&to={park_day(3).isoformat()}"
            f"&organisation_id={ORG_B}",
            user="alice",
            headers=h,
        )
    ),
    "replace_visitors": lambda api, h: api.put(
        f"/reservations/{(r := _booked(api))['id']}/visitors",
        {"visitors": []},
        user="bob",
        **{"If-Match": f'"{r["version"]}"'},
        **h,
    ),
    "cancel_series": lambda api, h: api.post(
        f"/series/{(s := _series(api))[0]}/cancel", {}, user="bob", **{"If-Match": s[1]}, **h
    ),
    "move_series": lambda api, h: api.post(
        f"/series/{(s := _series(api))[0]}/move", {"shift_minutes": 60}, user="bob", **{"If-Match": s[1]}, **h
    ),
}


def test_every_row_is_tried_over_http():
    assert set(CASES) == set(RIGHTS.actions)
    assert set(REFUSED_INSIDE) <= set(CASES)


@pytest.mark.parametrize("action", list(CASES))
def test_each_allowed_role_may_and_another_may_not(api, db, action):
    case = CASES[action]
    for user in case.allowed:
        response = case.probe(api, user, EN)
        assert 200 <= response.status_code < 300, (action, user, response.status_code, response.get_json())
    refused = case.probe(api, case.refused, EN)
    assert refused.status_code == (401 if case.refused is None else case.status), (action, refused.get_json())
    assert refused.mimetype == "application/problem+json"
    if case.refused in PRINCIPALS:
        assert not RIGHTS.allows(_principal(case.refused), action, _subject(action))


def _refusals(api, action: str) -> list[tuple[Any, Any]]:
    """(Chinese, English) answers of every 403 the row's callers can meet."""
    case = CASES[action]
    found = []
    if case.status == 403 and case.refused is not None:
        found.append((case.probe(api, case.refused, ZH), case.probe(api, case.refused, EN)))
    if action in REFUSED_INSIDE:
        found.append((REFUSED_INSIDE[action](api, ZH), REFUSED_INSIDE[action](api, EN)))
    return found


TEXT_CASES = [
    action for action in CASES if (CASES[action].status == 403 and CASES[action].refused) or action in REFUSED_INSIDE
]
"""Every row with a 403 to meet: each says so with the table's text (no refusal of booking's has
a text of its own)."""


@pytest.mark.parametrize("action", TEXT_CASES)
def test_a_refusal_names_exactly_who_may_in_either_language(api, db, action):
    row = RIGHTS[action]
    for zh, en in _refusals(api, action):
        assert (zh.status_code, en.status_code) == (403, 403)
        assert en.json["detail"] == render(row.refusal, "en")
        assert zh.json["detail"] == render(row.refusal, "zh")
        assert en.json["action"] == action
        assert en.json["allowed"] == [w.code for w in row.who]
        for who in row.who:
            assert render(who.label, "en") in en.json["detail"]
            assert render(who.label, "zh") in zh.json["detail"]


def test_the_texts_that_contradicted_behaviour_now_say_what_it_does(api, db):
    """The issue's two: desk staff may renew an organisation's feed link, park admin may approve."""
    zh, en = rotate_organisation_feed(api, "bob", ZH), rotate_organisation_feed(api, "bob", EN)
    assert en.json["detail"] == (
        "Only a tenant admin of the organisation, desk staff or park admin may renew an organisation's "
        "calendar feed link."
    )
    assert zh.json["detail"] == "只有该机构的入驻企业管理员、服务台工作人员或园区管理员可以更新机构的日历订阅链接。"
    assert rotate_organisation_feed(api, "desk", EN).status_code == 200
    zh, en = approve(api, "alice", ZH), approve(api, "alice", EN)
    assert en.json["detail"] == "Only desk staff or park admin may approve a reservation."
    assert zh.json["detail"] == "只有服务台工作人员或园区管理员可以审批预订。"
    assert approve(api, "admin", EN).status_code == 200
    assert cancel_by_bob_of_alices(api).json["detail"] == (
        "Only the organiser, a tenant admin of the organisation, desk staff or park admin may cancel a reservation."
    )


def cancel_by_bob_of_alices(api):
    return REFUSED_INSIDE["cancel"](api, EN)


def test_a_refused_body_is_not_read_first(api, db):
    """The table's view guard answers before the body is validated (as ``requires`` does)."""
    response = api.put("/quotas", {"free_hours_per_month": "lots"}, user="desk", **{"If-Match": "*"})
    assert response.status_code == 403
    assert "errors" not in response.json
    assert api.put("/quotas", {}, user=None).status_code == 401


ORGANISERS_ROWS = ("cancel", "reschedule", "edit", "replace_visitors", "booths", "cancel_series", "move_series")


@pytest.mark.parametrize("action", ORGANISERS_ROWS)
def test_a_partner_is_refused_the_organisers_rows_before_anything_is_read(api, db, action):
    """A partner never books, so is never an organiser: the view's guard refuses them with the
    row's text before the reservation (or series) is looked up or the body read, not with a 404
    after (the organiser used to be a relation without roles, which let every role through)."""
    reservation = _booked(api, kind="exhibition_hall", booths=40, layouts={"booths": 40})
    series_id, etag = _series(api)
    attempts = {
        "cancel": lambda h: _act(api, reservation, "cancel", "bank", h, {"reason": 7}),
        "reschedule": lambda h: _act(api, reservation, "reschedule", "bank", h, {"start": "soon"}),
        "edit": lambda h: api.patch(
            f"/reservations/{reservation['id']}", {"when": 1}, user="bank", **{"If-Match": '"1"'}, **h
        ),
        "replace_visitors": lambda h: api.put(
            f"/reservations/{reservation['id']}/visitors", {"visitors": 1}, user="bank", **{"If-Match": '"1"'}, **h
        ),
        "booths": lambda h: api.post(
            f"/reservations/{reservation['id']}/booths", {"booth": "x"}, user="bank", **{"Idempotency-Key": "k"}, **h
        ),
        "cancel_series": lambda h: api.post(
            f"/series/{series_id}/cancel", {"reason": 7}, user="bank", **{"If-Match": etag}, **h
        ),
        "move_series": lambda h: api.post(
            f"/series/{series_id}/move", {"shift_minutes": "x"}, user="bank", **{"If-Match": etag}, **h
        ),
    }
    row = RIGHTS[action]
    zh, en = attempts[action](ZH), attempts[action](EN)
    assert (zh.status_code, en.status_code) == (403, 403), en.get_json()
    assert "errors" not in en.json
    assert (en.json["detail"], zh.json["detail"]) == (render(row.refusal, "en"), render(row.refusal, "zh"))
    assert en.json["action"] == action
    after = api.get(f"/reservations/{reservation['id']}", user="alice").json
    assert (after["status"], after["version"]) == (reservation["status"], reservation["version"])


def test_a_token_without_an_organisation_books_for_nobody(api, app, settings, signing_key):
    """Not a right (the caller has a role that books) but a booking for no organisation: the
    same 422 as an organisation booking does not know."""
    from tests.booking.conftest import User, mint

    nobody = User("user:nobody", "", "tenant", ("tenant_member",), "Nobody")
    start, end = _slot()
    body = {"space_id": SpaceFactory().id, "start": start, "end": end, "title": "Team meeting", "attendees": 6}
    response = app.test_client().post(
        "/api/v1/booking/reservations",
        json=body,
        headers={"Authorization": f"Bearer {mint(settings, signing_key, nobody)}"},
    )
    assert response.status_code == 422, response.get_json()
    assert response.json["type"].endswith("/rule/unknown-organisation")


# The kernel's endpoints, which booking mounts as every service does, check roles with the kernel's
# ``requires`` rather than booking's table; docs/BOOKING.md says who may, and this is what they do.

KERNEL_ENDPOINTS = {
    ("GET", "/dead-letters"): STAFF,
    ("GET", "/directory/organisations"): STAFF,
    ("GET", f"/directory/organisations/{ORG_A}"): STAFF,
    ("POST", "/dead-letters/1/replay"): ("admin",),
}


@pytest.mark.parametrize(("method", "path"), list(KERNEL_ENDPOINTS))
def test_the_kernels_endpoints_are_for_whom_the_docs_say(api, db, method, path):
    allowed = KERNEL_ENDPOINTS[(method, path)]
    call = api.get if method == "GET" else api.post
    for user in EVERYBODY:
        response = call(path, user=user)
        if user in allowed:  # replaying a letter that does not exist is a 404 past the role check
            assert response.status_code in ((200,) if method == "GET" else (404,)), (user, response.get_json())
        else:
            assert response.status_code == 403, (user, response.get_json())
            assert response.json["roles"] == list(("desk_staff", "park_admin") if allowed == STAFF else ("park_admin",))
    assert call(path, user=None).status_code == 401
    assert api.get("/health", user=None).status_code == 200  # no token needed


# The docs -------------------------------------------------------------------------------------

BEGIN, END = "<!-- rights:begin -->", "<!-- rights:end -->"


def test_the_docs_show_exactly_the_table():
    """docs/BOOKING.md, "Who may do what", between the markers: ``python -m
    services.booking.permissions`` prints what belongs there."""
    text = (ROOT / "docs" / "BOOKING.md").read_text()
    found = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), text, re.S)
    assert found, "docs/BOOKING.md lacks the rights markers"
    assert found.group(1) == RIGHTS.markdown("en")


def test_the_table_prints_in_chinese_too(capsys):
    from services.booking.permissions import main

    main(["--locale", "zh"])
    printed = capsys.readouterr().out
    assert "| `approve` | 审批预订 | 服务台工作人员或园区管理员 |" in printed
    assert printed == RIGHTS.markdown("zh")


# The table type (shared/rights.py), pure --------------------------------------------------------

PRINCIPALS = {
    "alice": Principal("user:alice", ORG_A, "tenant", frozenset({"tenant_admin"})),
    "bob": Principal("user:bob", ORG_A, "tenant", frozenset({"tenant_member"})),
    "carol": Principal("user:carol", ORG_B, "tenant", frozenset({"tenant_admin"})),
    "dave": Principal("user:dave", ORG_B, "tenant", frozenset({"tenant_member"})),
    "desk": Principal("user:desk", "op", "operator", frozenset({"desk_staff"})),
    "admin": Principal("user:admin", "op", "operator", frozenset({"park_admin"})),
    "bank": Principal("user:bank", "bank", "bank", frozenset({"partner_agent"})),
}


def _principal(user: str) -> Principal:
    return PRINCIPALS[user]


@dataclass
class _Reservation:
    org_id: str = ORG_A
    booked_by: str = "user:alice"


def _subject(action: str) -> object:
    """What the row's relations are judged on in the probes: Alice's reservation, organisation A."""
    return ORG_A if "feed" in action or "quota" in action else _Reservation()


def test_alternatives_read_naturally_in_both_languages():
    one = Right("x", Message("approve a reservation"), (DESK_STAFF,))
    two = Right("y", Message("approve a reservation"), (DESK_STAFF, PARK_ADMIN))
    three = Right("z", Message("approve a reservation"), (TENANT_ADMIN_OF_ORGANISATION, DESK_STAFF, PARK_ADMIN))
    assert render(one.refusal, "en") == "Only desk staff may approve a reservation."
    assert render(two.refusal, "en") == "Only desk staff or park admin may approve a reservation."
    assert render(three.who_label, "en") == "a tenant admin of the organisation, desk staff or park admin"
    assert render(three.who_label, "zh") == "该机构的入驻企业管理员、服务台工作人员或园区管理员"
    assert render(alternatives((DESK_STAFF.label,)), "zh") == "服务台工作人员"


def test_relations_need_the_subject_and_roles_need_the_role():
    rights = Rights(Right("cancel", Message("cancel"), (TENANT_ADMIN_OF_ORGANISATION, DESK_STAFF)))
    assert rights.allows(_principal("alice"), "cancel", _Reservation())
    assert not rights.allows(_principal("alice"), "cancel")  # no subject: no relation holds
    assert not rights.allows(_principal("carol"), "cancel", _Reservation())  # another organisation
    assert not rights.allows(_principal("bob"), "cancel", _Reservation())  # a member, not an admin
    assert rights.allows(_principal("desk"), "cancel")
    with pytest.raises(PermissionDenied) as refused:
        rights.require(_principal("bob"), "cancel", _Reservation())
    assert refused.value.extra == {"action": "cancel", "allowed": ["tenant_admin_of_organisation", "desk_staff"]}
    assert rights["cancel"].may_try(_principal("alice")) and not rights["cancel"].may_try(_principal("bob"))


def test_a_table_names_each_action_once_and_somebody_for_it():
    with pytest.raises(ValueError, match="twice"):
        Rights(Right("a", Message("a"), (DESK_STAFF,)), Right("a", Message("a"), (PARK_ADMIN,)))
    with pytest.raises(ValueError, match="nobody"):
        Right("a", Message("a"), ())


def test_the_guard_refuses_before_the_view_runs():
    rights = Rights(Right("set", Message("set a rule"), (PARK_ADMIN,)))
    ran = []

    @rights.guard("set", lambda: _principal("desk"))
    def view() -> str:
        ran.append(True)
        return "done"

    with pytest.raises(PermissionDenied):
        view()
    assert not ran
    assert rights.guard("set", lambda: _principal("admin"))(lambda: "done")() == "done"


def test_the_organiser_is_someone_who_books():
    """The organiser holds a role that books, so a view's guard needs no relation to refuse a
    partner: the rows naming the organiser want the booking roles."""
    from services.booking.permissions import ORGANISER

    bookers = ("tenant_member", "tenant_admin", "desk_staff", "park_admin")
    assert RIGHTS["book"].roles == bookers
    assert ORGANISER.roles == frozenset(bookers)
    assert set(RIGHTS["edit"].roles) == set(bookers)
    assert not RIGHTS["edit"].may_try(_principal("bank"))
    assert RIGHTS["edit"].who == RIGHTS["reschedule"].who
