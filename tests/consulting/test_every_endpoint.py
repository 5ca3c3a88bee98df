"""Consulting's permission matrix over every endpoint the app serves, tried by every kind of user.

:data:`MATRIX` has one row per route and method of ``app.url_map`` under /api/v1/consulting: who
may (and the status they get), who is refused with a 403 (a role the row can never admit, or a
firm acting on another firm) and, for everybody else, a 404 (the thing exists but they may not
know it). The test walks the url_map: a route the matrix lacks, or a row whose route is gone,
fails it, so an endpoint cannot be added without saying who may call it.

The world is built over HTTP: bob (member of ORG_A) submits a case; the desk triages it and assigns
it to LAW2, whose lawyer declines it; the desk assigns it to LAW, whose lawyer accepts it and
proposes a fee; the lawyer writes a firm note, the desk a desk note, bob a message with a file, and
asks for a meeting. Meetings to cancel or retry and a valuation case finance asked for (accepted by
the IP agency, its report attached) are staged per call. Erin (another member of ORG_A, who did not
submit it) and dave (ORG_B) submit cases of their own; carol's (ORG_B) patent case goes to the IP
agency. Each refused call must leave every row of consulting's database as it was (cases, history,
messages, attachments, quotes, SLA clocks, catalogue, calendar, the outbox...). Writes by who may
run after the refusals, each on a case of its own brought to the state the action needs, and must
succeed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from services.consulting.models import Base, ServiceItem
from services.consulting.queries.calendar import DEFAULT_HOURS
from shared.clock import PARK_TZ
from shared.db import Database
from shared.settings import Settings
from tests.booking.conftest import ORG_A, Api, User
from tests.consulting.conftest import IPA, LAW, LAW2, USERS, Catalogue
from tests.consulting.test_attachments import PDF, upload
from tests.consulting.test_calendar import LAST, MANUAL_DAYS, OUT_OF_SOURCE
from tests.consulting.test_cases_support import case_in, done, submitted
from tests.consulting.test_catalogue import new_item
from tests.consulting.test_meetings_support import answer, asked, meeting_in
from tests.consulting.test_valuation_cases import VALUATION_ITEM_ID, add_valuation_item, case_of, requested
from tests.endpoint_matrix import refused, served_routes
from tests.endpoint_matrix import snapshot as every_row

PREFIX = "/api/v1/consulting"
ERIN = User("user:erin", ORG_A, "tenant", ("tenant_member",), "Erin Wu")
PEOPLE: dict[str, User] = {**USERS, "erin": ERIN}
EVERYONE = tuple(PEOPLE)

TENANTS = ("bob", "erin", "alice", "carol", "dave")
PARTNERS = ("lawyer", "lawyer2", "lawyer3", "ipagent", "bank")
STAFF = ("desk", "admin")
LAW_AGENTS = ("lawyer", "lawyer2")
TENANT_SIDE = ("bob", "alice")
SEE_THE_CASE = (*TENANT_SIDE, *LAW_AGENTS, *STAFF)
"""Who sees bob's case assigned to LAW; erin, ORG_B, LAW2 (which declined it), the IP agency and
the bank do not."""


@dataclass(frozen=True)
class Row:
    """Who may call a route (``may``, answered ``status``), who gets a 403 (``forbidden``); the
    rest of :data:`EVERYONE` a 404. ``on`` names the thing the path's parameters point at (a
    case state from :data:`STAGES`, or ``"world"`` for the world's case and objects); ``body``
    and ``if_match`` (``"case"``, ``"quote"`` or a literal) and ``query`` are what every caller sends.
    ``public``: answered without a token (to everyone, ``status``). ``body_of``: a body that
    names the target's own things (the report attached to a staged valuation case)."""

    may: tuple[str, ...]
    status: int = 200
    forbidden: tuple[str, ...] = ()
    on: str = "world"
    body: Callable[[], Any] | None = None
    body_of: Callable[[Target], Any] | None = None
    if_match: str | None = None
    query: str = ""
    public: bool = False


def reason(text: str) -> Callable[[], Any]:
    return lambda: {"reason": text}


_TODAY = datetime.now(PARK_TZ).date()
THIS_MONTH = f"?from={_TODAY - timedelta(days=30)}&to={_TODAY}"
"""A report's period: the last thirty park days."""

MATRIX: dict[tuple[str, str], Row] = {
    # The service's own plumbing (shared by every service).
    ("/health", "GET"): Row(EVERYONE, public=True),
    ("/openapi.json", "GET"): Row(EVERYONE, public=True),
    ("/dead-letters", "GET"): Row(STAFF, forbidden=(*TENANTS, *PARTNERS)),
    # No letter has died: park admin passes every check of who may and is told there is none.
    ("/dead-letters/<int(max=9223372036854775807):letter_id>/replay", "POST"): Row(
        ("admin",), 404, forbidden=(*TENANTS, *PARTNERS, "desk")
    ),
    ("/directory/organisations", "GET"): Row(STAFF, forbidden=(*TENANTS, *PARTNERS)),
    ("/directory/organisations/<uuid:org_id>", "GET"): Row(STAFF, forbidden=(*TENANTS, *PARTNERS)),
    # The catalogue.
    ("/categories", "GET"): Row(EVERYONE),
    ("/categories", "POST"): Row(
        ("admin",),
        201,
        forbidden=(*TENANTS, *PARTNERS, "desk"),
        body=lambda: {"code": "taxation", "name": "Taxation", "name_zh": "财税", "routing": "manual", "position": 3},
    ),
    ("/categories/<string(maxlength=64):code>", "GET"): Row(EVERYONE),
    ("/categories/<string(maxlength=64):code>", "PATCH"): Row(
        ("admin",), forbidden=(*TENANTS, *PARTNERS, "desk"), body=lambda: {"description": "Contracts"}, if_match='"1"'
    ),
    ("/items", "GET"): Row(EVERYONE),
    ("/items", "POST"): Row(("admin",), 201, forbidden=(*TENANTS, *PARTNERS, "desk"), body=new_item),
    ("/items/<uuid:item_id>", "GET"): Row(EVERYONE),
    ("/items/<uuid:item_id>", "PATCH"): Row(
        ("admin",), forbidden=(*TENANTS, *PARTNERS, "desk"), body=lambda: {"name": "Contract check"}, if_match='"1"'
    ),
    # Partner firms: the path's firm is LAW.
    ("/firms", "GET"): Row((*PARTNERS, *STAFF), forbidden=TENANTS),
    ("/firms/<uuid:org_id>", "GET"): Row((*LAW_AGENTS, *STAFF), forbidden=(*TENANTS, "lawyer3", "ipagent", "bank")),
    ("/firms/<uuid:org_id>/categories", "PUT"): Row(
        (*LAW_AGENTS, "admin"),
        forbidden=(*TENANTS, "lawyer3", "ipagent", "bank", "desk"),
        body=lambda: {"categories": [Catalogue.legal, Catalogue.ip]},
        if_match="*",
    ),
    # The business calendar.
    ("/calendar", "GET"): Row(EVERYONE),
    ("/calendar/hours", "PUT"): Row(
        ("admin",), forbidden=(*TENANTS, *PARTNERS, "desk"), body=lambda: {"hours": DEFAULT_HOURS}, if_match='"0"'
    ),
    ("/calendar/years/<int:year>", "GET"): Row(EVERYONE),
    ("/calendar/years/<int:year>", "PUT"): Row(
        ("admin",), forbidden=(*TENANTS, *PARTNERS, "desk"), body=lambda: {"days": MANUAL_DAYS}
    ),
    ("/calendar/years/<int:year>/official", "POST"): Row(("admin",), forbidden=(*TENANTS, *PARTNERS, "desk")),
    # Reports.
    ("/reports/sla", "GET"): Row(("admin",), forbidden=(*TENANTS, *PARTNERS, "desk"), query=THIS_MONTH),
    ("/reports/sla.csv", "GET"): Row(("admin",), forbidden=(*TENANTS, *PARTNERS, "desk"), query=THIS_MONTH),
    # Cases.
    ("/cases", "GET"): Row(EVERYONE),
    ("/cases", "POST"): Row(
        TENANTS,
        201,
        forbidden=(*PARTNERS, *STAFF),
        body=lambda: {
            "item_id": Catalogue.contract,
            "subject": "Review of a supply contract",
            "description": "Eight pages.",
            "answers": {"contract_type": "supply"},
        },
    ),
    ("/cases/<uuid:case_id>", "GET"): Row(SEE_THE_CASE),
    ("/cases/<uuid:case_id>/history", "GET"): Row(SEE_THE_CASE),
    ("/cases/<uuid:case_id>/triage", "POST"): Row(
        STAFF, forbidden=(*TENANTS, *PARTNERS), on="submitted", body=dict, if_match="case"
    ),
    ("/cases/<uuid:case_id>/assign", "POST"): Row(
        STAFF, forbidden=(*TENANTS, *PARTNERS), on="triaged", body=lambda: {"firm_org_id": LAW}, if_match="case"
    ),
    ("/cases/<uuid:case_id>/accept", "POST"): Row(
        LAW_AGENTS, forbidden=(*TENANTS, *STAFF), on="assigned", if_match="case"
    ),
    ("/cases/<uuid:case_id>/decline", "POST"): Row(
        LAW_AGENTS, forbidden=(*TENANTS, *STAFF), on="assigned", body=reason("Too busy."), if_match="case"
    ),
    ("/cases/<uuid:case_id>/start", "POST"): Row(
        LAW_AGENTS, forbidden=(*TENANTS, *STAFF), on="accepted", if_match="case"
    ),
    ("/cases/<uuid:case_id>/wait", "POST"): Row(
        (*LAW_AGENTS, *STAFF), forbidden=TENANTS, on="in_progress", body=reason("Send the annex."), if_match="case"
    ),
    ("/cases/<uuid:case_id>/resume", "POST"): Row(SEE_THE_CASE, on="waiting_on_tenant", if_match="case"),
    ("/cases/<uuid:case_id>/propose-solution", "POST"): Row(
        LAW_AGENTS,
        forbidden=(*TENANTS, *STAFF),
        on="in_progress",
        body=lambda: {"solution": "Cap the damages of clause 7."},
        if_match="case",
    ),
    ("/cases/<uuid:case_id>/accept-solution", "POST"): Row(
        TENANT_SIDE, forbidden=(*PARTNERS, *STAFF), on="solution_proposed", if_match="case"
    ),
    ("/cases/<uuid:case_id>/reject-solution", "POST"): Row(
        TENANT_SIDE,
        forbidden=(*PARTNERS, *STAFF),
        on="solution_proposed",
        body=reason("Clause 9 too."),
        if_match="case",
    ),
    ("/cases/<uuid:case_id>/cancel", "POST"): Row(
        (*TENANT_SIDE, *STAFF), forbidden=PARTNERS, on="submitted", body=reason("Sent twice."), if_match="case"
    ),
    ("/cases/<uuid:case_id>/rating", "POST"): Row(
        TENANT_SIDE, 201, forbidden=(*PARTNERS, *STAFF), on="closed", body=lambda: {"stars": 4}
    ),
    # Messages and their files.
    ("/cases/<uuid:case_id>/messages", "GET"): Row(SEE_THE_CASE),
    ("/cases/<uuid:case_id>/messages", "POST"): Row(SEE_THE_CASE, 201, body=lambda: {"body": "Any news?"}),
    ("/cases/<uuid:case_id>/messages/<uuid:message_id>", "GET"): Row(SEE_THE_CASE),
    ("/cases/<uuid:case_id>/attachments/<uuid:attachment_id>", "GET"): Row(SEE_THE_CASE),
    # Quotes.
    ("/cases/<uuid:case_id>/quotes", "GET"): Row(SEE_THE_CASE),
    ("/cases/<uuid:case_id>/quotes/<uuid:quote_id>", "GET"): Row(SEE_THE_CASE),
    ("/cases/<uuid:case_id>/quotes", "POST"): Row(
        LAW_AGENTS,
        201,
        forbidden=(*TENANTS, *STAFF),
        on="accepted",
        body=lambda: {"fee": "8000.00", "description": "Review and one meeting"},
    ),
    ("/cases/<uuid:case_id>/quotes/<uuid:quote_id>/accept", "POST"): Row(
        TENANT_SIDE, forbidden=(*PARTNERS, *STAFF), on="quoted", if_match="quote"
    ),
    ("/cases/<uuid:case_id>/quotes/<uuid:quote_id>/reject", "POST"): Row(
        TENANT_SIDE, forbidden=(*PARTNERS, *STAFF), on="quoted", body=reason("Too dear."), if_match="quote"
    ),
    # Meetings: the world's case has one bob asked for.
    ("/cases/<uuid:case_id>/meetings", "GET"): Row(SEE_THE_CASE),
    ("/cases/<uuid:case_id>/meetings", "POST"): Row((*TENANT_SIDE, *LAW_AGENTS), 201, forbidden=STAFF, body=meeting_in),
    ("/cases/<uuid:case_id>/meetings/<uuid:meeting_id>", "GET"): Row(SEE_THE_CASE),
    # The firm reads the case but did not ask for the meeting: refused by the row.
    ("/cases/<uuid:case_id>/meetings/<uuid:meeting_id>/cancel", "POST"): Row(
        (*TENANT_SIDE, *STAFF), forbidden=LAW_AGENTS, on="meeting", body=reason("We met online."), if_match="meeting"
    ),
    ("/cases/<uuid:case_id>/meetings/<uuid:meeting_id>/retry", "POST"): Row(
        STAFF, forbidden=(*TENANTS, *PARTNERS), on="meeting_rejected", body=dict, if_match="meeting"
    ),
    # A valuation case finance asked for (ORG_A's), routed to the IP agency, accepted, its report attached.
    ("/cases/<uuid:case_id>/valuation", "POST"): Row(
        ("ipagent",),
        forbidden=(*TENANTS, *STAFF),
        on="valuation",
        body_of=lambda where: {
            "amount": "2600000.00",
            "currency": "CNY",
            "report_attachment_id": where.report_id,
        },
        if_match="case",
    ),
}
"""Every (route, method) of consulting and who gets what; routes relative to /api/v1/consulting,
written as the url_map writes them."""


# The world --------------------------------------------------------------------------------------


@dataclass
class World:
    """The ids the world's path parameters take, and the world's cases by who holds them."""

    case: dict[str, Any]
    quote: dict[str, Any]
    attachment_id: str
    message_id: str
    """bob's message with the file ``attachment_id``: the tenant's to read."""
    meeting: dict[str, Any]
    """A meeting bob asked for on the world's case."""
    db: Database
    settings: Settings
    cases: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    """An attachment of a message of each visibility."""


@pytest.fixture
def people(api: Api) -> Api:
    api.users = PEOPLE
    return api


def say(api: Api, case_id: str, user: str, body: str, visibility: str = "tenant") -> dict[str, Any]:
    response = api.post(f"/cases/{case_id}/messages", {"body": body, "visibility": visibility}, user=user)
    assert response.status_code == 201, response.json
    return dict(response.json)


DECLINED = "We act for the other side."
"""LAW2's reason for declining bob's case: the desk's to read, never the tenant's nor LAW's."""


@pytest.fixture
def world(people: Api, db: Database, settings: Settings) -> World:
    case = submitted(people, "bob")
    case = done(people, case, "triage", "desk")
    case = done(people, case, "assign", "desk", {"firm_org_id": LAW2})
    case = done(people, case, "decline", "lawyer3", {"reason": DECLINED})
    case = done(people, case, "assign", "desk", {"firm_org_id": LAW})
    case = done(people, case, "accept", "lawyer")
    quoted = people.post(
        f"/cases/{case['id']}/quotes", {"fee": "12000.00", "description": "Review and two meetings"}, user="lawyer"
    )
    assert quoted.status_code == 201, quoted.json
    say(people, case["id"], "lawyer", "Partner review on Monday.", "firm")
    say(people, case["id"], "desk", "Bob's company is a key tenant.", "desk")
    with_file = upload(people, case["id"], "bob", [(PDF, "contract.pdf")], body="The contract.")
    assert with_file.status_code == 201, with_file.get_json()
    files = {"tenant": with_file.get_json()["attachments"][0]["id"]}
    for visibility, writer in (("firm", "lawyer"), ("desk", "desk")):
        note = upload(people, case["id"], writer, [(PDF, f"{visibility}.pdf")], body="Notes.", visibility=visibility)
        assert note.status_code == 201, note.get_json()
        files[visibility] = note.get_json()["attachments"][0]["id"]
    say(people, case["id"], "lawyer", "We received it.")
    erin = submitted(people, "erin")
    dave = submitted(people, "dave")
    patent = submitted(people, "carol", item_id=Catalogue.patent, answers={})
    patent = done(people, patent, "triage", "desk")  # IP is routed round robin: to its one firm
    assert patent["status"] == "assigned" and patent["firm"]["id"] == IPA, patent
    meeting = asked(people, case, "bob")
    case = people.get(f"/cases/{case['id']}", user="desk").json
    return World(
        case=case,
        quote=quoted.json,
        attachment_id=files["tenant"],
        message_id=with_file.get_json()["id"],
        meeting=meeting,
        db=db,
        settings=settings,
        files=files,
        cases={"bob": case["id"], "erin": erin["id"], "dave": dave["id"], "carol": patent["id"]},
    )


STAGES = (
    "submitted",
    "triaged",
    "assigned",
    "accepted",
    "quoted",
    "in_progress",
    "waiting_on_tenant",
    "solution_proposed",
    "closed",
    "meeting",
    "meeting_rejected",
    "valuation",
)


def staged_valuation(api: Api, world: World) -> tuple[dict[str, Any], str]:
    """A valuation case finance asked for (ORG_A's, routed to the IP agency), accepted by it, with
    a report attached; and the report's id."""
    with world.db.reading() as session:
        has_item = session.get(ServiceItem, VALUATION_ITEM_ID) is not None
    if not has_item:
        add_valuation_item(world.db)
    case_id = case_of(world.db, requested(world.db)).id
    case = api.get(f"/cases/{case_id}", user="ipagent").json
    accepted = api.post(f"/cases/{case_id}/accept", {}, user="ipagent", **{"If-Match": f'"{case["version"]}"'})
    assert accepted.status_code == 200, accepted.json
    report = upload(api, case_id, "ipagent", [(PDF, "report.pdf")], body="The report.")
    assert report.status_code == 201, report.get_json()
    return api.get(f"/cases/{case_id}", user="desk").json, report.get_json()["attachments"][0]["id"]


def staged_meeting(api: Api, world: World, *, rejected: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """An accepted case of bob's (LAW) with a meeting bob asked for; booking refused it if
    ``rejected``."""
    case = case_in(api, "accepted")
    meeting = asked(api, case, "bob")
    if rejected:
        answer(world.settings, meeting["request_id"], "rejected", meeting=meeting, rule="rule/no-space-fits")
    meeting = api.get(f"/cases/{case['id']}/meetings/{meeting['id']}", user="bob").json
    return api.get(f"/cases/{case['id']}", user="desk").json, meeting


def staged(api: Api, on: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A fresh case of bob's (contract review, LAW) in the state ``on`` names, and its quote
    for ``"quoted"`` (an accepted case with a fee proposed)."""
    if on == "submitted":
        return submitted(api, "bob"), None
    if on == "quoted":
        case = case_in(api, "accepted")
        quoted = api.post(f"/cases/{case['id']}/quotes", {"fee": "9000", "description": "Review"}, user="lawyer")
        assert quoted.status_code == 201, quoted.json
        case = api.get(f"/cases/{case['id']}", user="desk").json
        return case, quoted.json
    return case_in(api, on), None


@dataclass
class Target:
    """One call's URL and the versions its If-Match may name."""

    url: str
    case: dict[str, Any] | None
    quote: dict[str, Any] | None
    meeting: dict[str, Any] | None = None
    report_id: str | None = None


def target(api: Api, world: World, rule: str, on: str) -> Target:
    meeting: dict[str, Any] | None = world.meeting
    report_id = None
    if on == "world":
        case, quote = world.case, world.quote
    elif on in ("meeting", "meeting_rejected"):
        (case, meeting), quote = staged_meeting(api, world, rejected=on == "meeting_rejected"), None
    elif on == "valuation":
        (case, report_id), quote = staged_valuation(api, world), None
    else:
        case, quote = staged(api, on)
    values = {
        "case_id": case["id"],
        "quote_id": quote["id"] if quote else "",
        "meeting_id": meeting["id"] if meeting else "",
        "attachment_id": world.attachment_id,
        "message_id": world.message_id,
        "code": Catalogue.legal,
        "item_id": Catalogue.contract,
        "org_id": LAW if rule.startswith("/firms") else ORG_A,
        "year": str(OUT_OF_SOURCE if rule == "/calendar/years/<int:year>" else LAST),
        "letter_id": "1",
    }
    url = rule
    while "<" in url:
        start, end = url.index("<"), url.index(">")
        name = url[start + 1 : end].split(":")[-1]
        url = url[:start] + values[name] + url[end + 1 :]
    return Target(url, case, quote, meeting, report_id)


def call(api: Api, method: str, where: Target, row: Row, user: str | None) -> Any:
    headers: dict[str, str] = {}
    if row.if_match == "case":
        assert where.case is not None
        headers["If-Match"] = f'"{where.case["version"]}"'
    elif row.if_match == "quote":
        assert where.quote is not None
        headers["If-Match"] = f'"{where.quote["version"]}"'
    elif row.if_match == "meeting":
        assert where.meeting is not None
        headers["If-Match"] = f'"{where.meeting["version"]}"'
    elif row.if_match is not None:
        headers["If-Match"] = row.if_match
    url = PREFIX + where.url + row.query
    if method == "GET":
        return api.get(url, user=user, headers=headers)
    body = row.body_of(where) if row.body_of is not None else row.body() if row.body is not None else None
    sender = {"POST": api.post, "PUT": api.put, "PATCH": api.patch}[method]
    return sender(url, body, user=user, **headers)


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of consulting's database, the outbox and the directory included."""
    return every_row(db, Base.metadata)


def expected(row: Row, user: str) -> int:
    if user in row.may:
        return row.status
    return 403 if user in row.forbidden else 404


ROUTES = sorted(MATRIX)


def test_the_matrix_lists_every_route_and_method_the_app_serves(app: Flask) -> None:
    served = served_routes(app, PREFIX)
    assert sorted(served - set(MATRIX)) == [], "routes without a row: say who may call them"
    assert sorted(set(MATRIX) - served) == [], "rows of routes the app no longer serves"


def test_every_row_names_everybody_once() -> None:
    for route, row in MATRIX.items():
        assert set(row.may).isdisjoint(row.forbidden), route
        assert set(row.may) | set(row.forbidden) <= set(EVERYONE), route
        assert row.on == "world" or row.on in STAGES, route


@pytest.mark.parametrize(("rule", "method"), ROUTES, ids=[f"{m} {r}" for r, m in ROUTES])
def test_every_caller_of_every_endpoint(people: Api, db: Database, world: World, rule: str, method: str) -> None:
    row = MATRIX[(rule, method)]
    where = target(people, world, rule, row.on)
    before = snapshot(db)
    if row.public:
        assert call(people, method, where, row, None).status_code == row.status
    else:
        refused(call(people, method, where, row, None), 401, f"{method} {rule} without a token")
        assert snapshot(db) == before, "a call without a token changed something"
    for user in EVERYONE:
        want = expected(row, user)
        if want in (403, 404) and user not in row.may:
            refused(call(people, method, where, row, user), want, f"{method} {rule} by {user}")
            assert snapshot(db) == before, f"{method} {rule} refused to {user} changed something"
    for user in row.may:
        if method != "GET" and row.on != "world":
            where = target(people, world, rule, row.on)
        response = call(people, method, where, row, user)
        assert response.status_code == row.status, (user, response.status_code, response.get_json())
        if response.status_code >= 400:
            refused(response, response.status_code, f"{method} {rule} by {user}")
    if method != "GET" and row.status < 300:  # the snapshot sees what a write does
        assert snapshot(db) != before, f"{method} {rule} by who may changed nothing"


# What each answer holds -------------------------------------------------------------------------

READS: Mapping[str, set[str]] = {
    "bob": {"tenant"},
    "alice": {"tenant"},
    "lawyer": {"tenant", "firm"},
    "lawyer2": {"tenant", "firm"},
    "desk": {"tenant", "firm", "desk"},
    "admin": {"tenant", "firm", "desk"},
}
"""The visibilities of bob's case's messages each reader gets: a firm never the desk's notes, a
tenant neither the desk's nor the firm's."""


def test_each_reader_gets_the_messages_and_files_of_its_visibilities_only(people: Api, world: World) -> None:
    case_id = world.case["id"]
    for user in EVERYONE:
        thread = people.get(f"/cases/{case_id}/messages", user=user)
        files = {v: people.get(f"/cases/{case_id}/attachments/{a}", user=user) for v, a in world.files.items()}
        if user not in READS:
            refused(thread, 404, f"{user}'s thread")
            for visibility, answer in files.items():
                refused(answer, 404, f"{user}'s {visibility} file")
            continue
        assert thread.status_code == 200, (user, thread.json)
        assert {m["visibility"] for m in thread.json["items"]} == READS[user], user
        listed = {a["id"] for m in thread.json["items"] for a in m["attachments"]}
        assert listed == {world.files[v] for v in READS[user]}, user
        for visibility, answer in files.items():
            if visibility in READS[user]:
                assert answer.status_code == 200 and answer.data == PDF, (user, visibility)
            else:
                refused(answer, 404, f"{user} downloading the {visibility} file")


LISTS: Mapping[str, set[str]] = {
    "bob": {"bob"},
    "erin": {"erin"},
    "alice": {"bob", "erin"},
    "carol": {"carol", "dave"},
    "dave": {"dave"},
    "lawyer": {"bob"},
    "lawyer2": {"bob"},
    "lawyer3": set(),
    "ipagent": {"carol"},
    "bank": set(),
    "desk": {"bob", "erin", "dave", "carol"},
    "admin": {"bob", "erin", "dave", "carol"},
}
"""Whose cases each user's GET /cases holds: a member their own, an admin the organisation's, a
firm those assigned to it (LAW2 declined bob's: none), staff all."""


def test_each_list_holds_exactly_the_cases_its_reader_may_read(people: Api, world: World) -> None:
    for user in EVERYONE:
        listed = people.get("/cases", user=user)
        assert listed.status_code == 200, (user, listed.json)
        assert {c["id"] for c in listed.json["items"]} == {world.cases[owner] for owner in LISTS[user]}, user
        for owner, case_id in world.cases.items():
            read = people.get(f"/cases/{case_id}", user=user)
            if owner in LISTS[user]:
                assert read.status_code == 200, (user, owner, read.json)
            else:
                refused(read, 404, f"{user} reading {owner}'s case")


def test_only_staff_read_which_firm_declined_why_and_the_routing_details(people: Api, world: World) -> None:
    case_id = world.case["id"]
    for user in SEE_THE_CASE:
        case = people.get(f"/cases/{case_id}", user=user).json
        history = people.get(f"/cases/{case_id}/history", user=user).json["items"]
        actions = [line["action"] for line in history]
        if user in STAFF:
            assert case["declined_by"] == [LAW2], user
            assert any(line.get("details") for line in history), user
            assert actions.count("decline") == 1 and DECLINED in [line["reason"] for line in history], user
        else:
            assert case["declined_by"] is None, user
            assert not any(line.get("details") for line in history), (user, history)
            assert "decline" not in actions and DECLINED not in str(history), (user, history)
            assert case["reason"] != DECLINED, user


@pytest.mark.parametrize(
    ("user", "visibility"),
    [("lawyer", "desk"), ("bob", "firm"), ("alice", "desk"), ("alice", "firm"), ("desk", "firm"), ("bob", "desk")],
)
def test_writing_a_visibility_one_may_not_is_403_and_writes_nothing(
    people: Api, db: Database, world: World, user: str, visibility: str
) -> None:
    before = snapshot(db)
    answer = people.post(f"/cases/{world.case['id']}/messages", {"body": "Hi", "visibility": visibility}, user=user)
    refused(answer, 403, f"{user} writing {visibility}")
    assert snapshot(db) == before
