"""Forged and stale tokens are refused with a 401 problem; the signing key is made and kept safely."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.keys import JWKS_FILE, PRIVATE_KEY_FILE, load_signing_key
from shared.http.auth import KeySet
from shared.settings import Settings, SettingsError

PROBLEM = "application/problem+json"


@pytest.fixture
def good_claims(client: FlaskClient, bearer: Any, gateway_settings: Settings) -> dict[str, Any]:
    """The claims of a real token of alice's, to be tampered with."""
    token = bearer("alice")["Authorization"].removeprefix("Bearer ")
    return jwt.decode(token, options={"verify_signature": False})


def private_pem(settings: Settings) -> bytes:
    return settings.signing_key_pem.encode()


def kid(app: Flask) -> str:
    return str(app.extensions["parkhub.signing_key"].kid)


def me(client: FlaskClient, token: str) -> Any:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def assert_401(response: Any) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert response.json["status"] == 401
    assert response.json["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_genuine_token_is_accepted(
    client: FlaskClient, app: Flask, good_claims: dict[str, Any], gateway_settings: Settings
) -> None:
    token = jwt.encode(good_claims, private_pem(gateway_settings), algorithm="RS256", headers={"kid": kid(app)})
    assert me(client, token).status_code == 200


def test_an_expired_token_is_401(
    client: FlaskClient, app: Flask, good_claims: dict[str, Any], gateway_settings: Settings
) -> None:
    stale = {
        **good_claims,
        "iat": int(time.time()) - 3600,
        "nbf": int(time.time()) - 3600,
        "exp": int(time.time()) - 60,
    }
    token = jwt.encode(stale, private_pem(gateway_settings), algorithm="RS256", headers={"kid": kid(app)})
    response = me(client, token)
    assert_401(response)
    assert "expired" in response.json["detail"]


def test_a_tampered_token_is_401(client: FlaskClient, bearer: Any) -> None:
    header, payload, signature = bearer("bob")["Authorization"].removeprefix("Bearer ").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["park_admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert_401(me(client, f"{header}.{forged}.{signature}"))


def test_a_token_signed_by_another_key_under_our_kid_is_401(
    client: FlaskClient, app: Flask, good_claims: dict[str, Any]
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(good_claims, other, algorithm="RS256", headers={"kid": kid(app)})
    assert_401(me(client, token))


def test_a_token_with_an_unknown_kid_is_401(
    client: FlaskClient, good_claims: dict[str, Any], gateway_settings: Settings
) -> None:
    token = jwt.encode(good_claims, private_pem(gateway_settings), algorithm="RS256", headers={"kid": "retired-key"})
    assert_401(me(client, token))


def test_alg_none_is_401(client: FlaskClient, app: Flask, good_claims: dict[str, Any]) -> None:
    token = jwt.encode(good_claims, None, algorithm="none", headers={"kid": kid(app)})
    assert_401(me(client, token))


def test_hs256_keyed_with_the_public_key_is_401(client: FlaskClient, app: Flask, good_claims: dict[str, Any]) -> None:
    # The classic algorithm-confusion forgery: HMAC "signed" with the published public key.
    public = app.extensions["parkhub.signing_key"].public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid(app)}).encode())
    body = base64.urlsafe_b64encode(json.dumps(good_claims).encode())
    signing_input = header.rstrip(b"=") + b"." + body.rstrip(b"=")
    mac = base64.urlsafe_b64encode(hmac.new(public, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    assert_401(me(client, (signing_input + b"." + mac).decode()))


@pytest.mark.parametrize(
    "change",
    [{"aud": "someone-else"}, {"iss": "https://evil.example"}, {"type": "refresh"}],
    ids=["audience", "issuer", "type"],
)
def test_wrong_audience_issuer_or_type_is_401(
    client: FlaskClient, app: Flask, good_claims: dict[str, Any], gateway_settings: Settings, change: dict[str, str]
) -> None:
    token = jwt.encode(
        {**good_claims, **change}, private_pem(gateway_settings), algorithm="RS256", headers={"kid": kid(app)}
    )
    assert_401(me(client, token))


@pytest.mark.parametrize("authorization", ["", "Bearer", "Bearer not.a.jwt", "Basic YWxpY2U6cGFya2h1Yg=="])
def test_missing_or_garbled_authorization_is_401(client: FlaskClient, authorization: str) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    assert_401(client.get("/api/v1/me", headers=headers))


def test_a_key_is_generated_on_first_start_kept_private_and_reused(empty_settings: Settings) -> None:
    settings = Settings.from_env({"PARKHUB_VAR_DIR": str(empty_settings.var_dir)})  # no key given
    first = load_signing_key(settings)
    private = settings.keys_dir / PRIVATE_KEY_FILE
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.keys_dir.stat().st_mode) == 0o700
    document = json.loads((settings.keys_dir / JWKS_FILE).read_text())
    assert [k["kid"] for k in document["keys"]] == [first.kid]
    assert "d" not in document["keys"][0]
    assert load_signing_key(settings).kid == first.kid  # the second start keeps the key


def test_services_verify_gateway_tokens_with_the_jwks_file(empty_settings: Settings) -> None:
    settings = Settings.from_env({"PARKHUB_VAR_DIR": str(empty_settings.var_dir)})
    app = create_app(settings)
    key = app.extensions["parkhub.signing_key"]
    with app.app_context():
        from flask_jwt_extended import create_access_token

        token = create_access_token("user:x", additional_headers={"kid": key.kid})
    service_key = KeySet(settings.jwks_source).key(key.kid)
    assert jwt.decode(token, service_key, algorithms=["RS256"], audience=settings.audience)["sub"] == "user:x"


def test_a_signing_key_from_the_environment_is_used_and_a_bad_one_refused(
    gateway_settings: Settings, tmp_path: Path
) -> None:
    key = load_signing_key(gateway_settings)
    assert key.private_pem == gateway_settings.signing_key_pem.encode()
    assert not (gateway_settings.keys_dir / PRIVATE_KEY_FILE).exists()
    with pytest.raises(SettingsError):
        load_signing_key(
            Settings.from_env({"PARKHUB_VAR_DIR": str(tmp_path / "other"), "PARKHUB_SIGNING_KEY": "not a key"})
        )
