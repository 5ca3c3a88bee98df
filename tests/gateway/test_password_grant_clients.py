"""The password grant and client authentication: a client that names itself is verified (RFC 6749
§3.2.1, 401 ``invalid_client``) — with a secret, or without one: an id that names no registered
client is unknown, one that names an API client is confidential and must prove it. A caller that
names no client (the portal; Swagger UI's blank ``Basic Og==``) signs its user in as before."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from gateway.models import RefreshToken
from shared.db import Database
from tests.gateway.test_tokens import TOKEN, assert_oauth_error

ALICE = {"grant_type": "password", "username": "alice", "password": "parkhub-demo"}


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def refresh_tokens(db: Database) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(RefreshToken)) or 0)


def assert_refused(response: TestResponse, db: Database) -> None:
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert "access_token" not in response.json
    assert refresh_tokens(db) == 0  # no session started


@pytest.mark.parametrize(
    ("form", "headers"),
    [
        ({}, basic("shudu-bank-demo", "not-the-secret")),
        ({"client_id": "shudu-bank-demo", "client_secret": "not-the-secret"}, {}),
        ({"client_id": "no-such-client", "client_secret": "whatever-it-is"}, {}),
        ({}, basic("no-such-client", "whatever-it-is")),
        ({"client_id": "shudu-bank-demo"}, {}),  # a confidential client that does not prove it
        ({}, basic("shudu-bank-demo", "")),
        ({"client_secret": "parkhub-demo-bank-secret"}, {}),  # a secret, but whose?
        ({"client_id": "nosuch"}, {}),  # an id alone that names no client
        ({}, basic("nosuch", "")),
    ],
    ids=[
        "basic-wrong-secret",
        "form-wrong-secret",
        "form-unknown-client",
        "basic-unknown-client",
        "form-no-secret",
        "basic-no-secret",
        "secret-without-id",
        "form-unknown-id-alone",
        "basic-unknown-id-alone",
    ],
)
def test_a_client_that_fails_to_authenticate_gets_no_token(
    client: FlaskClient, db: Database, form: dict[str, str], headers: dict[str, str]
) -> None:
    assert_refused(client.post(TOKEN, data=ALICE | form, headers=headers), db)


def test_a_deactivated_client_cannot_sign_users_in(client: FlaskClient, db: Database, bearer: Any) -> None:
    admin = bearer("admin", **{"If-Match": '"1"'})
    assert client.patch("/api/v1/api-clients/shudu-bank-demo", json={"active": False}, headers=admin).status_code == 200
    form = ALICE | {"client_id": "shudu-bank-demo", "client_secret": "parkhub-demo-bank-secret"}
    assert_refused(client.post(TOKEN, data=form), db)


@pytest.mark.parametrize(
    ("form", "headers"),
    [
        ({"client_id": "shudu-bank-demo", "client_secret": "parkhub-demo-bank-secret"}, {}),
        ({}, basic("shudu-bank-demo", "parkhub-demo-bank-secret")),
        ({}, basic("", "")),  # Swagger UI's Authorize dialog with its client fields left blank
        ({"client_id": ""}, {}),
        ({}, {}),  # no client at all: the portal
    ],
    ids=["form", "basic", "blank-basic", "blank-form", "none"],
)
def test_an_authenticated_or_public_client_signs_the_user_in(
    client: FlaskClient, form: dict[str, str], headers: dict[str, str]
) -> None:
    response = client.post(TOKEN, data=ALICE | form, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["refresh_token"]


def test_the_client_is_checked_before_the_user(client: FlaskClient, db: Database) -> None:
    # A wrong client is 401 whatever the user's credentials: nothing tells a guesser whether
    # the password was right.
    form = ALICE | {"password": "wrong-password", "client_id": "shudu-bank-demo", "client_secret": "nope"}
    assert_refused(client.post(TOKEN, data=form), db)
