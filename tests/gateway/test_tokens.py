"""POST /api/v1/auth/token and /auth/revoke, as RFC 6749 / RFC 7009 clients see them."""

from __future__ import annotations

import base64
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from gateway.app import create_app
from gateway.models import AuditEntry, RefreshToken
from shared.http.auth import KeySet
from shared.settings import Settings

PROBLEM = "application/problem+json"
TOKEN = "/api/v1/auth/token"


def sign_in(client: FlaskClient, username: str, password: str = "parkhub-demo") -> TestResponse:
    return client.post(TOKEN, data={"grant_type": "password", "username": username, "password": password})


def refresh(client: FlaskClient, token: str) -> TestResponse:
    return client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": token})


def claims(access_token: str, settings: Settings) -> dict[str, Any]:
    """Verify the token the way a service does: with the key from the jwks.json file."""
    header = jwt.get_unverified_header(access_token)
    key = KeySet(settings.jwks_source).key(header["kid"])
    return jwt.decode(access_token, key, algorithms=["RS256"], audience=settings.audience, issuer=settings.issuer)


def assert_oauth_error(response: TestResponse, status: int, error: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert response.json["error"] == error
    assert response.json["error_description"]
    assert response.json["status"] == status
    assert response.headers["Cache-Control"] == "no-store"


def test_password_grant_issues_a_verifiable_access_token_and_a_refresh_token(
    client: FlaskClient, gateway_settings: Settings
) -> None:
    response = sign_in(client, "alice")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == gateway_settings.access_ttl_seconds
    assert body["refresh_token"].startswith("rt_")
    decoded = claims(body["access_token"], gateway_settings)
    assert decoded["sub"].startswith("user:")
    assert decoded["org_kind"] == "tenant"
    assert decoded["roles"] == ["tenant_admin"]
    assert decoded["name"].startswith("Alice")
    assert decoded["type"] == "access"
    assert decoded["exp"] - decoded["iat"] == gateway_settings.access_ttl_seconds
    assert decoded["jti"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json["username"] == "alice"
    assert me.json["organisation"]["name"] == "Kangcheng Cell Therapeutics Co., Ltd."


def test_usernames_are_case_insensitive(client: FlaskClient) -> None:
    assert sign_in(client, "  Alice ").status_code == 200


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong-password"), ("nobody", "parkhub-demo")], ids=["wrong", "unknown"]
)
def test_wrong_credentials_are_one_invalid_grant(client: FlaskClient, username: str, password: str) -> None:
    assert_oauth_error(sign_in(client, username, password), 400, "invalid_grant")


def test_client_credentials_in_the_form_or_http_basic_get_no_refresh_token(
    client: FlaskClient, gateway_settings: Settings
) -> None:
    form = client.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": "shudu-bank-demo",
            "client_secret": "parkhub-demo-bank-secret",
        },
    )
    assert form.status_code == 200, form.get_data(as_text=True)
    assert "refresh_token" not in form.json
    decoded = claims(form.json["access_token"], gateway_settings)
    assert decoded["sub"] == "client:shudu-bank-demo"
    assert decoded["org_kind"] == "bank"
    assert decoded["roles"] == ["partner_agent"]

    basic = base64.b64encode(b"tianfu-bridge-law-demo:parkhub-demo-law-secret").decode()
    response = client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert claims(response.json["access_token"], gateway_settings)["org_kind"] == "law_firm"


def test_a_wrong_client_secret_is_401_invalid_client_with_a_basic_challenge(client: FlaskClient) -> None:
    basic = base64.b64encode(b"shudu-bank-demo:not-the-secret").decode()
    response = client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_client_credentials_in_both_places_are_an_invalid_request(client: FlaskClient) -> None:
    basic = base64.b64encode(b"shudu-bank-demo:parkhub-demo-bank-secret").decode()
    response = client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": "shudu-bank-demo"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "password", "username": "alice"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
    ],
)
def test_malformed_requests_get_rfc6749_errors(client: FlaskClient, form: dict[str, str], error: str) -> None:
    assert_oauth_error(client.post(TOKEN, data=form), 400, error)


def test_refresh_rotates_and_reusing_a_spent_token_revokes_the_family(
    client: FlaskClient, gateway_settings: Settings, session: Any
) -> None:
    first = sign_in(client, "bob").json["refresh_token"]
    rotated = refresh(client, first)
    assert rotated.status_code == 200, rotated.get_data(as_text=True)
    second = rotated.json["refresh_token"]
    assert second != first
    assert claims(rotated.json["access_token"], gateway_settings)["roles"] == ["tenant_member"]
    third = refresh(client, second).json["refresh_token"]

    assert_oauth_error(refresh(client, first), 400, "invalid_grant")  # replayed: someone else has it

    # The family is gone: neither the live token nor anything rotated from it works any more.
    assert_oauth_error(refresh(client, third), 400, "invalid_grant")
    family = session.scalars(select(RefreshToken)).all()
    assert len(family) == 3
    assert {t.revoked_reason for t in family} == {"reuse_detected"}
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "refresh_token_family")).one()
    assert (entry.action, entry.reason, entry.actor) == ("revoked", "reuse_detected", "system")


def test_a_new_sign_in_is_a_new_family_untouched_by_another_familys_revocation(client: FlaskClient) -> None:
    laptop = sign_in(client, "bob").json["refresh_token"]
    phone = sign_in(client, "bob").json["refresh_token"]
    refresh(client, laptop)
    refresh(client, laptop)  # reuse: revokes the laptop's family only
    assert refresh(client, phone).status_code == 200


def test_revoke_logs_out_the_whole_family_and_always_answers_200(client: FlaskClient) -> None:
    first = sign_in(client, "carol").json["refresh_token"]
    second = refresh(client, first).json["refresh_token"]
    response = client.post("/api/v1/auth/revoke", data={"token": second})
    assert response.status_code == 200
    assert_oauth_error(refresh(client, second), 400, "invalid_grant")
    assert client.post("/api/v1/auth/revoke", data={"token": second}).status_code == 200
    assert client.post("/api/v1/auth/revoke", data={"token": "rt_never-issued"}).status_code == 200
    assert_oauth_error(client.post("/api/v1/auth/revoke", data={}), 400, "invalid_request")


def test_an_expired_refresh_token_is_refused(gateway_settings: Settings) -> None:
    expired = Settings.from_env(
        {
            "PARKHUB_VAR_DIR": str(gateway_settings.var_dir),
            "PARKHUB_SIGNING_KEY": gateway_settings.signing_key_pem,
            "PARKHUB_REFRESH_TTL": "-1",
        }
    )
    client = create_app(expired).test_client()
    token = sign_in(client, "bob").json["refresh_token"]
    assert_oauth_error(refresh(client, token), 400, "invalid_grant")


def test_the_gateway_worker_purges_refresh_tokens_a_day_past_expiry(gateway_settings: Settings) -> None:
    from datetime import timedelta

    from sqlalchemy import func, select, update

    from gateway.models import RefreshToken
    from gateway.worker import participant
    from shared.clock import utcnow

    client = create_app(gateway_settings).test_client()
    sign_in(client, "bob")
    sign_in(client, "carol")
    gateway = participant(gateway_settings)
    with gateway.database.unit_of_work() as uow:
        oldest = uow.session.scalar(select(func.min(RefreshToken.issued_at)))
        uow.session.execute(
            update(RefreshToken).where(RefreshToken.issued_at == oldest).values(expires_at=utcnow() - timedelta(days=2))
        )
        uow.commit()
    [purge] = [job for job in gateway.all_jobs() if job.name == "purge-refresh-tokens"]
    assert purge.run() == 1
    assert purge.run() == 0
    with gateway.database.reading() as session:
        assert session.scalar(select(func.count()).select_from(RefreshToken)) >= 1


def test_inactive_users_and_suspended_organisations_get_no_tokens(
    client: FlaskClient, bearer: Any, session: Any
) -> None:
    refresh_token = sign_in(client, "bob").json["refresh_token"]
    bob = client.get("/api/v1/users?q=bob", headers=bearer("admin")).json["items"][0]
    deactivated = client.patch(
        f"/api/v1/users/{bob['id']}", json={"active": False}, headers=bearer("admin", **{"If-Match": '"1"'})
    )
    assert deactivated.status_code == 200, deactivated.get_data(as_text=True)
    assert_oauth_error(sign_in(client, "bob"), 400, "invalid_grant")
    assert_oauth_error(refresh(client, refresh_token), 400, "invalid_grant")

    carol_org = client.get("/api/v1/me", headers=bearer("carol")).json["organisation"]["id"]
    suspended = client.patch(
        f"/api/v1/organisations/{carol_org}",
        json={"status": "suspended"},
        headers=bearer("admin", **{"If-Match": '"1"'}),
    )
    assert suspended.status_code == 200, suspended.get_data(as_text=True)
    assert_oauth_error(sign_in(client, "carol"), 400, "invalid_grant")


def test_a_deactivated_api_client_is_an_invalid_client(client: FlaskClient, bearer: Any) -> None:
    response = client.patch(
        "/api/v1/api-clients/shudu-bank-demo", json={"active": False}, headers=bearer("admin", **{"If-Match": '"1"'})
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    denied = client.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": "shudu-bank-demo",
            "client_secret": "parkhub-demo-bank-secret",
        },
    )
    assert_oauth_error(denied, 401, "invalid_client")


def test_jwks_is_public_and_names_the_signing_key(client: FlaskClient, gateway_settings: Settings) -> None:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    (key,) = response.json["keys"]
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    assert "d" not in key  # the public half only
    access = sign_in(client, "desk").json["access_token"]
    assert jwt.get_unverified_header(access)["kid"] == key["kid"]
    assert jwt.decode(access, jwt.PyJWK(key).key, algorithms=["RS256"], audience=gateway_settings.audience)[
        "roles"
    ] == ["desk_staff"]


def test_jwks_takes_any_query_string(client: FlaskClient) -> None:
    # Its URL is handed to programs we do not control (JWKS clients, caches that bust with a
    # parameter): like an iCal feed, it answers whatever they append.
    plain = client.get("/.well-known/jwks.json")
    for query in ("x=1", "v=20270101&cache=no", "x"):
        busted = client.get(f"/.well-known/jwks.json?{query}")
        assert busted.status_code == 200, (query, busted.get_data(as_text=True))
        assert busted.json == plain.json


def test_a_json_token_request_is_told_to_use_a_form(client: FlaskClient) -> None:
    response = client.post("/api/v1/auth/token", json={"grant_type": "password", "username": "bob"})
    assert_oauth_error(response, 400, "invalid_request")
    assert "form-encoded" in response.json["detail"]
    huge = client.post("/api/v1/auth/token", data={"grant_type": "x" * 100_000})
    assert_oauth_error(huge, 400, "unsupported_grant_type")
    assert len(huge.json["detail"]) < 200


def test_tokens_are_signed_with_the_loaded_key_not_a_pem_parsed_for_each_token(
    app: Flask, client: FlaskClient, gateway_settings: Settings
) -> None:
    # Handed a PEM, PyJWT parses and checks the RSA key again for every token it signs: that
    # cost 30-300 ms a token, more than everything else the token endpoint does.
    assert isinstance(app.config["JWT_PRIVATE_KEY"], rsa.RSAPrivateKey)
    response = sign_in(client, "desk")
    assert response.status_code == 200
    assert claims(response.json["access_token"], gateway_settings)["roles"] == ["desk_staff"]


@pytest.mark.parametrize(
    "body",
    [
        b"grant_type=password&username=\xff\xfe&password=parkhub-demo",  # raw Latin-1 / binary bytes
        b"grant_type=password&username=al%E9ce&password=parkhub-demo",  # a Latin-1 escape
        b"grant_type=%FF",
    ],
    ids=["raw", "escaped", "grant-type"],
)
@pytest.mark.parametrize("endpoint", [TOKEN, "/api/v1/auth/revoke"])
def test_a_form_that_is_not_utf8_is_told_so(client: FlaskClient, endpoint: str, body: bytes) -> None:
    response = client.post(endpoint, data=body, content_type="application/x-www-form-urlencoded")
    assert_oauth_error(response, 400, "invalid_request")
    assert "UTF-8" in response.json["detail"]
    assert "grant_type" not in response.json["detail"]


def test_a_utf8_form_with_chinese_still_signs_in(client: FlaskClient, bearer: Any) -> None:
    created = client.post(
        "/api/v1/users",
        json={
            "username": "wang.li",
            "display_name": "王丽",
            "password": "密码-parkhub-2026",
            "roles": ["tenant_member"],
        },
        headers=bearer("alice"),
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    body = b"grant_type=password&username=wang.li&password=%E5%AF%86%E7%A0%81-parkhub-2026"
    response = client.post(TOKEN, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.get_data(as_text=True)
    raw = "grant_type=password&username=wang.li&password=密码-parkhub-2026".encode()
    assert client.post(TOKEN, data=raw, content_type="application/x-www-form-urlencoded").status_code == 200
