"""``GET /reservations?q=``: search by the organisation's name (English or Chinese), the title and
the booker's name, in any case, with ``%`` and ``_`` meaning themselves; staff search every
organisation, tenants only within what they may list anyway. On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import update

from services.booking.models import directory
from tests.booking.conftest import ORG_A, ORG_B, Api, booking_on_postgres
from tests.booking.factories import ReservationFactory

START = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=5)


def name_organisations_in_chinese(database: Any) -> None:
    with database.unit_of_work() as uow:
        for org_id, name_zh in ((ORG_A, "成都细胞治疗"), (ORG_B, "天府基因")):
            uow.session.execute(update(directory).where(directory.c.id == org_id).values(name_zh=name_zh))
        uow.commit()


def reservations() -> dict[str, str]:
    """Four reservations, two per tenant, each in its own space; their titles by id."""
    made = {
        "review": ReservationFactory(start=START, title="Quarterly Review"),
        "launch": ReservationFactory(
            start=START + timedelta(hours=1), booked_by="user:bob", booked_by_name="Bob Li", title="50% discount launch"
        ),
        "workshop": ReservationFactory(
            start=START + timedelta(hours=2),
            org_id=ORG_B,
            booked_by="user:carol",
            booked_by_name="Carol Zhang",
            title="Genome_day workshop",
        ),
        "tour": ReservationFactory(
            start=START + timedelta(hours=3),
            org_id=ORG_B,
            booked_by="user:dave",
            booked_by_name="Dave Chen",
            title="Lab tour / safety",
        ),
    }
    return {reservation.id: name for name, reservation in made.items()}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def searchable(request, tmp_path, signing_key) -> Iterator[tuple[Api, dict[str, str]]]:
    """The API over SQLite or PostgreSQL, with the four reservations in it."""
    if request.param == "sqlite":
        database = request.getfixturevalue("db")
        name_organisations_in_chinese(database)
        yield request.getfixturevalue("api"), reservations()
        return
    postgres = request.getfixturevalue("postgres_databases")
    for app, database, settings in booking_on_postgres(tmp_path, postgres, signing_key):
        name_organisations_in_chinese(database)
        yield Api(app.test_client(), settings, signing_key), reservations()


def found(api: Api, names: dict[str, str], user: str = "desk", **params: str) -> list[str]:
    response = api.get(f"/reservations?{urlencode(params)}", user=user)
    assert response.status_code == 200, response.get_json()
    body = response.json
    assert body["total"] == len(body["items"])
    return [names[item["id"]] for item in body["items"]]


SEARCHES = [
    ("cell", ["review", "launch"]),  # the organisation's English name
    ("CELL THERA", ["review", "launch"]),  # any case
    ("细胞", ["review", "launch"]),  # its Chinese name
    ("天府基因", ["workshop", "tour"]),
    ("genomics", ["workshop", "tour"]),
    ("quarterly", ["review"]),  # the title
    ("REVIEW", ["review"]),
    ("zhang", ["workshop"]),  # the booker
    ("Dave C", ["tour"]),
    ("%", ["launch"]),  # a literal percent sign, not "anything"
    ("50%", ["launch"]),
    ("_", ["workshop"]),  # a literal underscore, not "any one character"
    ("e_d", ["workshop"]),
    ("n_d", []),
    ("/", ["tour"]),  # SQLAlchemy's escape character, searched for as itself
    ("r / s", ["tour"]),
    ("\\", []),  # the escape character itself is searched for, and found nowhere
    ("nothing like this", []),
]
"""What staff search for, and the reservations they find (by start)."""


def test_staff_search_every_organisation(searchable):
    api, names = searchable
    for q, expected in SEARCHES:
        assert found(api, names, q=q) == expected, q
        assert found(api, names, user="admin", q=q, scope="all") == expected, q


def test_search_combines_with_the_other_filters(searchable):
    api, names = searchable
    assert found(api, names, q="tianfu", organisation_id=ORG_B, order="desc") == ["tour", "workshop"]
    assert found(api, names, q="cell", **{"from": (START + timedelta(minutes=90)).isoformat()}) == ["launch"]
    assert found(api, names, q="cell", status="cancelled") == []


def test_tenants_search_within_what_they_may_list(searchable):
    api, names = searchable
    assert found(api, names, user="alice", q="cell", scope="organisation") == ["review", "launch"]
    assert found(api, names, user="alice", q="基因", scope="organisation") == []  # another tenant's
    assert found(api, names, user="alice", q="zhang", scope="organisation") == []
    assert found(api, names, user="bob", q="cell") == ["launch"]  # his own, the default scope
    assert found(api, names, user="bob", q="quarterly", scope="organisation") == ["review"]
    assert found(api, names, user="carol", q="cell", scope="organisation") == []
    assert found(api, names, user="carol", q="天府", scope="organisation") == ["workshop", "tour"]
    assert found(api, names, user="dave", q="基因") == ["tour"]
    assert found(api, names, user="bank", q="cell") == []  # a partner books nothing, finds nothing
    assert api.get("/reservations?q=cell&scope=all", user="carol").status_code == 403


@pytest.mark.parametrize("q", ["", "   ", "x" * 101])
def test_a_blank_or_overlong_search_is_a_problem(api, db, q):
    response = api.get(f"/reservations?{urlencode({'q': q})}", user="desk")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "q" in response.json["errors"]
