"""/api/v1/notify/preferences: the caller's language and, per kind of notice, feed and e-mail;
read with an ETag, replaced whole under If-Match; bad documents are 4xx and change nothing."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from services.notify.models import Person, Preference
from services.notify.rules.notices import KINDS
from shared.db import Database
from shared.settings import Settings
from tests.booking.conftest import ORG_A, Api, User
from tests.notify.conftest import deliver, event

PROBLEM = "application/problem+json"


def document(language: str | None = "en", **off: str) -> dict[str, Any]:
    """Every kind on, but those named ``kind="email"`` / ``"in_app"`` / ``"both"`` turned off."""
    return {
        "language": language,
        "kinds": [
            {
                "kind": kind,
                "in_app": off.get(kind) not in ("in_app", "both"),
                "email": off.get(kind) not in ("email", "both"),
            }
            for kind in KINDS
        ],
    }


def stored(db: Database) -> tuple[int, list[tuple[str, str, bool, bool]]]:
    with db.reading() as session:
        count = int(session.scalar(select(func.count()).select_from(Preference)) or 0)
        rows = [(p.subject, p.kind, p.in_app, p.email) for p in session.scalars(select(Preference))]
    return count, rows


def test_everyone_starts_with_every_kind_on_and_no_language_labelled_in_their_language(api: Api) -> None:
    response = api.get("/preferences", user="bob", headers={"Accept-Language": "zh"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body["language"] is None
    assert [k["kind"] for k in body["kinds"]] == list(KINDS)
    assert all(k["in_app"] and k["email"] for k in body["kinds"])
    labels = {k["kind"]: k["label"] for k in body["kinds"]}
    assert labels["booking"] == "预订" and labels["quote"] == "服务报价"
    assert api.get("/preferences", user="bob").json["kinds"][0]["label"] == "Bookings"
    assert response.headers["ETag"].strip('"').isdigit()


def test_a_person_saves_their_language_and_turns_a_kind_off(api: Api, db: Database) -> None:
    etag = api.get("/preferences").headers["ETag"]
    saved = api.put("/preferences", document("en", quote="email", sla="both"), **{"If-Match": etag})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.json["language"] == "en"
    quote = next(k for k in saved.json["kinds"] if k["kind"] == "quote")
    assert (quote["in_app"], quote["email"], quote["label"]) == (True, False, "Quotes")
    assert saved.headers["ETag"] != etag
    again = api.get("/preferences")
    assert again.json == saved.json and again.headers["ETag"] == saved.headers["ETag"]
    with db.reading() as session:
        alice = session.get(Person, "user:alice")
        assert alice is not None and alice.language == "en"
        sla = session.get(Preference, ("user:alice", "sla"))
        assert sla is not None and (sla.in_app, sla.email) == (False, False)
    # Nobody else's preferences changed.
    assert api.get("/preferences", user="bob").json["language"] is None


def test_a_kind_left_out_is_back_to_both_on(api: Api) -> None:
    first = api.put(
        "/preferences", document("zh", offer="both"), **{"If-Match": api.get("/preferences").headers["ETag"]}
    )
    assert first.status_code == 200
    partial = {"language": "zh", "kinds": [{"kind": "quote", "in_app": True, "email": False}]}
    second = api.put("/preferences", partial, **{"If-Match": first.headers["ETag"]})
    assert second.status_code == 200
    kinds = {k["kind"]: (k["in_app"], k["email"]) for k in second.json["kinds"]}
    assert kinds["offer"] == (True, True) and kinds["quote"] == (True, False)


def test_if_match_is_required_and_a_stale_one_refused(api: Api, db: Database) -> None:
    missing = api.put("/preferences", document())
    assert missing.status_code == 428 and missing.content_type == PROBLEM
    etag = api.get("/preferences").headers["ETag"]
    assert api.put("/preferences", document("zh"), **{"If-Match": etag}).status_code == 200
    stale = api.put("/preferences", document("en"), **{"If-Match": etag})
    assert stale.status_code == 412 and stale.content_type == PROBLEM
    assert api.get("/preferences").json["language"] == "zh"


def test_bad_documents_are_refused_naming_what_is_wrong_and_change_nothing(api: Api, db: Database) -> None:
    etag = api.get("/preferences").headers["ETag"]
    before = stored(db)
    unknown = document()
    unknown["kinds"].append({"kind": "parking", "in_app": True, "email": False})
    response = api.put("/preferences", unknown, **{"If-Match": etag, "Accept-Language": "en"})
    assert response.status_code == 422 and response.content_type == PROBLEM
    assert response.json["type"].endswith("rule/notice-kind-unknown")
    assert response.json["kind"] == "parking" and "parking" in response.json["detail"]

    twice = document()
    twice["kinds"].append({"kind": "quote", "in_app": False, "email": False})
    repeated = api.put("/preferences", twice, **{"If-Match": etag})
    assert repeated.status_code == 422 and repeated.json["type"].endswith("rule/notice-kind-repeated")

    bads: tuple[dict[str, Any], ...] = (
        document(language="fr"),
        {"kinds": []},
        {"language": None},
        {"language": None, "kinds": [{"kind": "quote", "in_app": "maybe", "email": True}]},
        {"language": None, "kinds": [], "colour": "red"},
    )
    for bad in bads:
        refused = api.put("/preferences", bad, **{"If-Match": etag})
        assert refused.status_code == 422, (bad, refused.get_data(as_text=True))
        assert refused.content_type == PROBLEM
    assert stored(db) == before
    assert api.get("/preferences").json["language"] is None


def test_a_person_notify_does_not_know_yet_can_set_preferences(api: Api, db: Database) -> None:
    api.users = {**api.users, "newbie": User("user:newbie", ORG_A, "tenant", ("tenant_member",), "New Person")}
    etag = api.get("/preferences", user="newbie").headers["ETag"]
    saved = api.put("/preferences", document("en", booking="email"), user="newbie", **{"If-Match": etag})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    with db.reading() as session:
        newbie = session.get(Person, "user:newbie")
        assert newbie is not None
        assert (newbie.language, newbie.org_id, newbie.email) == ("en", ORG_A, None)


def test_a_stale_first_save_of_a_person_notify_does_not_know_leaves_no_person(api: Api, db: Database) -> None:
    """The person row a save makes first is undone with the save when If-Match misses."""
    api.users = {**api.users, "newbie": User("user:newbie", ORG_A, "tenant", ("tenant_member",), "New Person")}
    stale = api.put("/preferences", document("en"), user="newbie", **{"If-Match": '"not-the-version"'})
    assert stale.status_code == 412 and stale.content_type == PROBLEM
    with db.reading() as session:
        assert session.get(Person, "user:newbie") is None


def test_without_a_token_it_is_401(api: Api) -> None:
    assert api.get("/preferences", user=None).status_code == 401
    assert api.put("/preferences", document(), user=None).status_code == 401


def test_identity_fills_in_a_person_who_set_preferences_first_and_keeps_their_language(
    api: Api, db: Database, settings: Settings
) -> None:
    user_id = str(uuid.uuid4())
    api.users = {**api.users, "dora": User(f"user:{user_id}", ORG_A, "tenant", ("tenant_member",), "")}
    etag = api.get("/preferences", user="dora").headers["ETag"]
    assert api.put("/preferences", document("en"), user="dora", **{"If-Match": etag}).status_code == 200
    data = {
        "id": user_id,
        "username": "dora.wu",
        "display_name": "Dora Wu",
        "email": "dora@example.cn",
        "org_id": ORG_A,
        "roles": ["tenant_member"],
        "active": True,
        "version": 1,
    }
    # Published an hour ago (before the preferences were saved), arriving only now.
    late = replace(event("identity.user.registered", data, orgid=ORG_A), time=datetime.now(UTC) - timedelta(hours=1))
    deliver(settings, late)
    with db.reading() as session:
        dora = session.get(Person, f"user:{user_id}")
        assert dora is not None
        assert (dora.display_name, dora.email, dora.language, dora.user_id) == (
            "Dora Wu",
            "dora@example.cn",
            "en",
            user_id,
        )
