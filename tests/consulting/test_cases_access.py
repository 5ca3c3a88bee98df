"""Who gets what from every endpoint of cases: 401 without a token; the guard's 403 for a role
that could never act (before anything is read); 404 for who may not see the case (another tenant,
another firm, a bank, a member who did not submit it); and the way through for the rest.

The case tried is bob's (ORG_A), assigned to the law firm LAW. A caller who may act sends a stale
If-Match, so the answer is the 412 of a request that passed every check of who may, and the case
stays as it is for the next caller."""

from __future__ import annotations

from typing import Any

import pytest

from services.consulting.permissions import RIGHTS
from tests.booking.conftest import ORG_A, Api, User
from tests.consulting.conftest import LAW, USERS
from tests.consulting.test_cases_support import case_in, submit

EVERYBODY = (
    "bob",
    "erin",
    "alice",
    "carol",
    "dave",
    "lawyer",
    "lawyer2",
    "lawyer3",
    "ipagent",
    "bank",
    "desk",
    "admin",
)
STAFF = ("desk", "admin")
TENANTS = ("bob", "erin", "alice", "carol", "dave")
PARTNERS = ("lawyer", "lawyer2", "lawyer3", "ipagent", "bank")
NOT_SEEING = ("erin", "carol", "dave", "lawyer3", "ipagent", "bank")
"""Those who do not see bob's case assigned to LAW: erin is a member of bob's organisation who
did not submit it."""

# path suffix, right, body, who passes (the rest: 403 if the guard refuses the role, else 404)
ENDPOINTS: list[tuple[str, str, Any, tuple[str, ...]]] = [
    ("triage", "triage", {}, STAFF),
    ("assign", "assign", {"firm_org_id": LAW}, STAFF),
    ("accept", "accept", None, ("lawyer", "lawyer2")),
    ("decline", "decline", {"reason": "Too busy."}, ("lawyer", "lawyer2")),
    ("start", "start", None, ("lawyer", "lawyer2")),
    ("wait", "wait", {"reason": "Send the annex."}, ("lawyer", "lawyer2", *STAFF)),
    ("resume", "resume", None, ("bob", "alice", "lawyer", "lawyer2", *STAFF)),
    ("propose-solution", "propose_solution", {"solution": "Done."}, ("lawyer", "lawyer2")),
    ("accept-solution", "accept_solution", None, ("bob", "alice")),
    ("reject-solution", "reject_solution", {"reason": "No."}, ("bob", "alice")),
    ("cancel", "cancel", {"reason": "Duplicate."}, ("bob", "alice", *STAFF)),
]
GUARD_REFUSES: dict[str, tuple[str, ...]] = {
    "triage": (*TENANTS, *PARTNERS),
    "assign": (*TENANTS, *PARTNERS),
    "accept": (*TENANTS, *STAFF),
    "decline": (*TENANTS, *STAFF),
    "start": (*TENANTS, *STAFF),
    "wait": TENANTS,
    "resume": (),
    "propose_solution": (*TENANTS, *STAFF),
    "accept_solution": (*PARTNERS, *STAFF),
    "reject_solution": (*PARTNERS, *STAFF),
    "cancel": PARTNERS,
    "rate": (*PARTNERS, *STAFF),
    "read": (),
}
"""The roles each row can never admit: their 403 comes before the case is read."""


@pytest.fixture
def people(api: Api) -> Api:
    api.users = {**USERS, "erin": User("user:erin", ORG_A, "tenant", ("tenant_member",), "Erin Wu")}
    return api


@pytest.fixture
def case(people: Api) -> dict[str, Any]:
    return case_in(people, "assigned")


def expected(user: str, right: str, passes: tuple[str, ...]) -> int | None:
    """403, 404, or None for a caller who gets through."""
    if user in GUARD_REFUSES[right]:
        return 403
    if user in passes:
        return None
    assert user in NOT_SEEING, user
    return 404


def check(response: Any, user: str, right: str, want: int | None) -> None:
    if want is None:
        assert response.status_code not in (401, 403, 404), (user, right, response.json)
        return
    assert response.status_code == want, (user, right, response.status_code, response.json)
    if want == 403:
        assert response.json["action"] == right
        assert response.json["allowed"] == [w.code for w in RIGHTS[right].who]
        assert response.json["detail"].startswith("Only ")
    else:
        assert response.json["type"].endswith("/not-found")


@pytest.mark.parametrize(("path", "right", "body", "passes"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_every_action_by_every_caller(
    people: Api, case: dict[str, Any], path: str, right: str, body: Any, passes: tuple[str, ...]
) -> None:
    url = f"/cases/{case['id']}/{path}"
    stale = {"If-Match": f'"{case["version"] + 7}"'}
    without = people.post(url, body, user=None, **stale)
    assert without.status_code == 401
    for user in EVERYBODY:
        response = people.post(url, body, user=user, **stale)
        want = expected(user, right, passes)
        check(response, user, right, want)
        if want is None:
            assert response.status_code == 412, (user, right, response.json)
    assert people.get(f"/cases/{case['id']}", user="desk").json["version"] == case["version"]


@pytest.mark.parametrize("path", ["", "/history"])
def test_reading_a_case_and_its_history(people: Api, case: dict[str, Any], path: str) -> None:
    url = f"/cases/{case['id']}{path}"
    assert people.get(url, user=None).status_code == 401
    readers = ("bob", "alice", "lawyer", "lawyer2", *STAFF)
    for user in EVERYBODY:
        response = people.get(url, user=user)
        want = expected(user, "read", readers)
        check(response, user, "read", want)
        if want is None:
            assert response.status_code == 200


def test_not_found_says_nothing_more_than_an_unknown_id(people: Api, case: dict[str, Any]) -> None:
    hidden = people.get(f"/cases/{case['id']}", user="carol").json
    unknown = people.get("/cases/00000000-0000-4000-8000-00000000beef", user="carol").json
    assert hidden["type"] == unknown["type"] and hidden["title"] == unknown["title"]
    assert hidden["detail"] == f"There is no case {case['id']}."


def test_rating(people: Api, case: dict[str, Any]) -> None:
    url = f"/cases/{case['id']}/rating"
    assert people.post(url, {"stars": 5}, user=None).status_code == 401
    for user in EVERYBODY:
        response = people.post(url, {"stars": 5}, user=user)
        want = expected(user, "rate", ("bob", "alice"))
        check(response, user, "rate", want)
        if want is None:  # through every check of who may: the case is not closed
            assert response.status_code == 409 and response.json["type"].endswith("/rule/rate-closed-only")


def test_submitting(people: Api) -> None:
    assert submit(people, None).status_code == 401  # type: ignore[arg-type]
    for user in EVERYBODY:
        response = submit(people, user)
        if user in TENANTS:
            assert response.status_code == 201, (user, response.json)
        else:
            assert response.status_code == 403 and response.json["action"] == "submit", user


def test_listing(people: Api) -> None:
    assert people.get("/cases", user=None).status_code == 401
    for user in EVERYBODY:
        assert people.get("/cases", user=user).status_code == 200, user


def test_a_role_refused_by_the_guard_is_refused_before_its_body_is_read(people: Api, case: dict[str, Any]) -> None:
    response = people.post(f"/cases/{case['id']}/assign", {"firm_org_id": 42}, user="bob")
    assert response.status_code == 403 and "errors" not in response.json
