"""Park admin's changes: buffers re-hold the reservations to come, every change is in the
audit trail, and quota rules are guarded by If-Match like every other update."""

from __future__ import annotations

from tests.booking.conftest import ORG_B, at, park_day
from tests.booking.factories import QuotaRuleFactory, SpaceFactory


def patch_rules(api, space_id, **rules):
    etag = api.get(f"/spaces/{space_id}", user="admin").headers["ETag"]
    return api.patch(f"/spaces/{space_id}", {"rules": rules}, **{"If-Match": etag})


def test_new_buffers_apply_to_the_reservations_to_come(api, db):
    space = SpaceFactory()
    day = park_day(3)
    booked = api.book(space.id, at(day, "10:00"), at(day, "11:00")).json
    changed = patch_rules(api, space.id, setup_minutes=30, cleanup_minutes=15)
    assert changed.status_code == 200, changed.json
    hold = api.get(f"/reservations/{booked['id']}").json["hold"]
    assert hold == {"start": at(day, "09:30").isoformat(), "end": at(day, "11:15").isoformat()}
    # The new buffers now keep the next booking away, as they would for a new one.
    assert api.book(space.id, at(day, "11:00"), at(day, "12:00"), user="carol").status_code == 409


def test_buffers_that_would_make_two_reservations_overlap_are_refused(api, db):
    space = SpaceFactory()
    day = park_day(3)
    first = api.book(space.id, at(day, "10:00"), at(day, "11:00")).json
    api.book(space.id, at(day, "11:00"), at(day, "12:00"), user="carol")
    refused = patch_rules(api, space.id, cleanup_minutes=15)
    assert refused.status_code == 409
    assert refused.json["type"].endswith("rule/buffers-overlap")
    assert api.get(f"/spaces/{space.id}", user="admin").json["version"] == 1  # nothing changed
    assert api.get(f"/reservations/{first['id']}").json["hold"]["end"] == at(day, "11:00").isoformat()


def test_space_and_closure_changes_are_in_the_audit_trail(api, db):
    space = SpaceFactory(capacity=20)
    etag = api.get(f"/spaces/{space.id}", user="admin").headers["ETag"]
    assert api.patch(f"/spaces/{space.id}", {"capacity": 24}, **{"If-Match": etag}).status_code == 200
    day = park_day(5)
    closure = api.post(
        f"/spaces/{space.id}/closures",
        {"start": at(day, "08:00").isoformat(), "end": at(day, "12:00").isoformat(), "reason": "Painting"},
        user="admin",
    ).json
    assert api.delete(f"/spaces/{space.id}/closures/{closure['id']}").status_code == 204
    assert api.get(f"/spaces/{space.id}/history", user="alice").status_code == 403
    history = api.get(f"/spaces/{space.id}/history", user="desk").json["items"]
    assert [(h["action"], h["actor"]) for h in history] == [
        ("update", "user:admin"),
        ("add_closure", "user:admin"),
        ("remove_closure", "user:admin"),
    ]
    assert history[0]["details"]["capacity"] == {"from": 20, "to": 24}
    assert history[2]["details"]["closure_id"] == closure["id"]


def test_quota_rules_take_if_match_and_are_audited(api, db):
    rule = QuotaRuleFactory(org_id="*", space_kind="conference_room", free_hours_per_month=2)
    body = {"org_id": "*", "space_kind": "conference_room", "free_hours_per_month": 4}
    assert api.put("/quotas", body, user="admin").status_code == 428
    assert api.put("/quotas", body, user="admin", **{"If-Match": '"9"'}).status_code == 412
    changed = api.put("/quotas", body, user="admin", **{"If-Match": f'"{rule.version}"'})
    assert changed.status_code == 200, changed.json
    assert changed.headers["ETag"] == f'"{rule.version + 1}"'
    assert api.put("/quotas", body, user="admin", **{"If-Match": f'"{rule.version}"'}).status_code == 412
    # A rule that does not exist yet is version 0.
    new = {"org_id": ORG_B, "space_kind": "conference_room", "free_hours_per_month": 6}
    assert api.put("/quotas", new, user="admin", **{"If-Match": '"0"'}).status_code == 200
    items = {
        (q["org_id"], q["free_hours_per_month"], q["version"]) for q in api.get("/quotas", user="desk").json["items"]
    }
    assert items == {("*", 4, 2), (ORG_B, 6, 1)}
    history = api.get("/quotas/history", user="desk").json["items"]
    assert [(h["entity_id"], h["details"]) for h in history] == [
        ("*/conference_room", {"from": 2, "to": 4}),
        (f"{ORG_B}/conference_room", {"from": None, "to": 6}),
    ]
