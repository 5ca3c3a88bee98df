"""/api/v1/users: park admins manage everyone, tenant admins their own organisation's members."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.models import AuditEntry, User
from tests.gateway.conftest import count
from tests.gateway.factories import PASSWORD, UserBody, UserRow

PROBLEM = "application/problem+json"
USERS = "/api/v1/users"


def me(client: FlaskClient, bearer: Any, username: str) -> dict[str, Any]:
    return dict(client.get("/api/v1/me", headers=bearer(username)).json)


def test_a_tenant_admin_lists_only_their_own_organisation(client: FlaskClient, bearer: Any) -> None:
    page = client.get(f"{USERS}?page_size=200", headers=bearer("alice")).json
    assert sorted(u["username"] for u in page["items"]) == ["alice", "bob"]
    carol_org = me(client, bearer, "carol")["organisation"]["id"]
    # Asking for another organisation's users finds none rather than widening the scope.
    assert client.get(f"{USERS}?organisation_id={carol_org}", headers=bearer("alice")).json["total"] == 0


def test_staff_list_everyone_with_filters(client: FlaskClient, bearer: Any) -> None:
    everyone = client.get(f"{USERS}?page_size=200", headers=bearer("desk")).json
    assert {"admin", "desk", "alice", "bob", "carol", "bank", "lawyer", "ipagent"} <= {
        u["username"] for u in everyone["items"]
    }
    admins = client.get(f"{USERS}?role=tenant_admin", headers=bearer("admin")).json
    assert sorted(u["username"] for u in admins["items"]) == ["alice", "carol"]
    assert "password" not in everyone["items"][0]
    assert "password_hash" not in everyone["items"][0]


def test_a_tenant_admin_creates_a_member_of_their_organisation_who_can_sign_in(
    client: FlaskClient, bearer: Any, session: Any
) -> None:
    body = UserBody(username="Dora.Wu")
    response = client.post(USERS, json=body, headers=bearer("alice"))
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.json
    assert created["username"] == "dora.wu"
    assert created["organisation_id"] == me(client, bearer, "alice")["organisation"]["id"]
    assert response.headers["Location"] == f"{USERS}/{created['id']}"
    assert "password" not in created
    signed_in = client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": "dora.wu", "password": PASSWORD}
    )
    assert signed_in.status_code == 200
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == created["id"])).one()
    assert entry.action == "created"
    assert "password" not in str(entry.to_state)


def test_a_tenant_admin_cannot_grant_staff_roles_or_reach_another_organisation(
    client: FlaskClient, bearer: Any, session: Any
) -> None:
    before = count(session, User.__table__)
    staff = client.post(USERS, json=UserBody(roles=["park_admin"]), headers=bearer("alice"))
    assert staff.status_code == 403
    carol_org = me(client, bearer, "carol")["organisation"]["id"]
    elsewhere = client.post(USERS, json=UserBody(organisation_id=carol_org), headers=bearer("alice"))
    assert elsewhere.status_code == 404
    carol = client.get(f"{USERS}?q=carol", headers=bearer("admin")).json["items"][0]
    assert client.get(f"{USERS}/{carol['id']}", headers=bearer("alice")).status_code == 404
    patched = client.patch(
        f"{USERS}/{carol['id']}", json={"active": False}, headers=bearer("alice", **{"If-Match": '"1"'})
    )
    assert patched.status_code == 404
    assert count(session, User.__table__) == before


def test_roles_must_fit_the_organisation_kind(client: FlaskClient, bearer: Any) -> None:
    tenant = me(client, bearer, "alice")["organisation"]["id"]
    response = client.post(USERS, json=UserBody(organisation_id=tenant, roles=["desk_staff"]), headers=bearer("admin"))
    assert response.status_code == 422
    assert response.json["type"].endswith("/roles-do-not-fit-organisation")
    bank = me(client, bearer, "bank")["organisation"]["id"]
    partner = client.post(USERS, json=UserBody(organisation_id=bank, roles=["partner_agent"]), headers=bearer("admin"))
    assert partner.status_code == 201


def test_a_taken_username_is_409(client: FlaskClient, bearer: Any) -> None:
    tenant = me(client, bearer, "alice")["organisation"]["id"]
    response = client.post(USERS, json=UserBody(username="BOB", organisation_id=tenant), headers=bearer("admin"))
    assert response.status_code == 409
    assert response.mimetype == PROBLEM
    assert response.json["type"].endswith("/username-taken")


def test_validation_errors_name_each_field(client: FlaskClient, bearer: Any, session: Any) -> None:
    before = count(session, User.__table__)
    response = client.post(
        USERS,
        json={"username": "x", "display_name": "", "password": "short", "roles": ["emperor"], "colour": "red"},
        headers=bearer("admin"),
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"username", "display_name", "password", "roles", "colour"}
    assert count(session, User.__table__) == before


def test_anyone_reads_their_own_account_but_a_member_no_one_else(client: FlaskClient, bearer: Any) -> None:
    bob = me(client, bearer, "bob")
    bob_id = bob["subject"].removeprefix("user:")
    assert client.get(f"{USERS}/{bob_id}", headers=bearer("bob")).status_code == 200
    alice_id = me(client, bearer, "alice")["subject"].removeprefix("user:")
    assert client.get(f"{USERS}/{alice_id}", headers=bearer("bob")).status_code == 404
    assert client.get(f"{USERS}/{bob_id}", headers=bearer("alice")).status_code == 200


def test_a_tenant_admin_promotes_a_member_with_if_match(client: FlaskClient, bearer: Any, session: Any) -> None:
    bob_id = me(client, bearer, "bob")["subject"].removeprefix("user:")
    url = f"{USERS}/{bob_id}"
    assert client.patch(url, json={"roles": ["tenant_admin"]}, headers=bearer("alice")).status_code == 428
    response = client.patch(
        url, json={"roles": ["tenant_admin", "tenant_member"]}, headers=bearer("alice", **{"If-Match": '"1"'})
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["roles"] == ["tenant_admin", "tenant_member"]
    assert response.headers["ETag"] == '"2"'
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == bob_id, AuditEntry.action == "updated")
    ).one()
    assert (entry.from_state["roles"], entry.to_state["roles"]) == (
        ["tenant_member"],
        ["tenant_admin", "tenant_member"],
    )


def test_a_password_reset_takes_effect(client: FlaskClient, bearer: Any, session: Any) -> None:
    user = UserRow(organisation__kind="tenant")
    response = client.patch(
        f"{USERS}/{user.id}", json={"password": "a-brand-new-secret"}, headers=bearer("admin", **{"If-Match": '"1"'})
    )
    assert response.status_code == 200
    token = "/api/v1/auth/token"
    old = client.post(token, data={"grant_type": "password", "username": user.username, "password": PASSWORD})
    assert old.status_code == 400
    new = {"grant_type": "password", "username": user.username, "password": "a-brand-new-secret"}
    assert client.post(token, data=new).status_code == 200
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == user.id, AuditEntry.action == "updated")
    ).one()
    assert entry.to_state["password_changed"] is True


@pytest.mark.parametrize("username", ["bank", "lawyer", "ipagent"])
def test_partner_agents_cannot_read_user_accounts(client: FlaskClient, bearer: Any, username: str) -> None:
    assert client.get(USERS, headers=bearer(username)).status_code == 403


def test_a_member_learns_nothing_about_which_ids_exist(client: FlaskClient, bearer: Any) -> None:
    admin = me(client, bearer, "admin")
    real_user = admin["subject"].removeprefix("user:")
    real_org = admin["organisation"]["id"]
    body = {"username": "probe", "display_name": "Probe", "password": "long-enough-1", "roles": ["tenant_member"]}
    for organisation_id in (real_org, "00000000-0000-4000-8000-000000000000"):
        created = client.post(USERS, json={**body, "organisation_id": organisation_id}, headers=bearer("bob"))
        assert created.status_code == 403
    for user_id in (real_user, "00000000-0000-4000-8000-000000000000"):
        patched = client.patch(
            f"{USERS}/{user_id}", json={"display_name": "x"}, headers=bearer("bob", **{"If-Match": '"1"'})
        )
        assert patched.status_code == 403
