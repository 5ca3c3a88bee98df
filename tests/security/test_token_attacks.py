"""Every token attack against every door of the platform: a 401 problem, and a security event.

The cross-cutting matrix: each forged, stale or misdirected access token is sent to each
service's own API (the embedded edge hands ``/api/v1/<service>/...`` straight to that service's
app, so the service itself verifies and refuses it) and to the gateway's ``/api/v1/me``. Each
must answer 401 ``application/problem+json`` with a Bearer challenge, and leave one warning
``security.token_refused`` in the log, from that service, with a fixed reason code, the request
id, the client's address and the path, and what the token claims of itself (``kid``, ``jti``,
``sub``) — never the token's text nor its signature. The refresh-token attacks (a revoked one, a
replayed rotated one) are the gateway's token endpoint's, and logged the same way.

tests/test_service_tokens.py and tests/gateway/test_token_verification.py check the refusals one
by one; this file checks that every door refuses every attack alike and says so in the log.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.test import TestResponse

from gateway.keys import SigningKey, load_signing_key
from shared.http.token_refusals import EVENT
from shared.settings import SERVICES
from tests.park import Park, running_park
from tests.test_service_tokens import claims as service_token_claims

PROBLEM = "application/problem+json"
TOKEN = "/api/v1/auth/token"
DOORS = {
    **{service: f"/api/v1/{service}/directory/organisations" for service in SERVICES},
    "gateway": "/api/v1/me",
}
"""One endpoint that needs a token, per app: the service verifies the token itself."""


@pytest.fixture(scope="module")
def park(seeded_platform: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Park]:
    """One running platform for the whole matrix: refusing a token changes nothing."""
    yield from running_park(seeded_platform, tmp_path_factory.mktemp("token-attacks"))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(park: Park, **overrides: Any) -> dict[str, Any]:
    """A desk clerk's valid claims (the service-token tests' own), with a jti that says what it is."""
    return service_token_claims(park, **{"jti": f"attack-{uuid.uuid4()}", **overrides})


@functools.cache
def signing_key(park: Park) -> SigningKey:
    """The gateway's signing key, read once (loading and checking an RSA key takes a second)."""
    return load_signing_key(park.platform.settings)


@functools.cache
def another_key() -> bytes:
    """A private key that is not the platform's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def kid(park: Park) -> str:
    return signing_key(park).kid


def sign(park: Park, payload: dict[str, Any], **header: Any) -> str:
    key = signing_key(park)
    return jwt.encode(payload, key.private_pem, algorithm="RS256", headers={"kid": key.kid, **header})


def tampered(park: Park) -> str:
    header, _payload, signature = sign(park, claims(park, roles=["tenant_member"])).split(".")
    return ".".join([header, b64(json.dumps(claims(park, roles=["park_admin"])).encode()), signature])


def alg_none(park: Park) -> str:
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid(park)}).encode())
    return f"{header}.{b64(json.dumps(claims(park)).encode())}."


def hs256_with_the_public_key(park: Park) -> str:
    """The classic algorithm confusion: HMAC "signed" with the key the JWKS publishes."""
    public = signing_key(park).public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = (
        b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid(park)}).encode())
        + "."
        + b64(json.dumps(claims(park)).encode())
    )
    mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def refresh_token(park: Park) -> str:
    """A genuine refresh token of the gateway (opaque), sent as if it were an access token."""
    response = park.client.post(TOKEN, data={"grant_type": "password", "username": "bob", "password": "parkhub-demo"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.json["refresh_token"])


ATTACKS: dict[str, tuple[Callable[[Park], str], str]] = {
    "expired": (
        lambda park: sign(park, claims(park, iat=int(time.time()) - 900, exp=int(time.time()) - 60)),
        "expired",
    ),
    "nbf in the future": (lambda park: sign(park, claims(park, nbf=int(time.time()) + 600)), "not_yet_valid"),
    "iat in the future": (lambda park: sign(park, claims(park, iat=int(time.time()) + 600)), "not_yet_valid"),
    "tampered payload": (tampered, "bad_signature"),
    "other key, our kid": (
        lambda park: jwt.encode(claims(park), another_key(), algorithm="RS256", headers={"kid": kid(park)}),
        "bad_signature",
    ),
    "unknown kid": (lambda park: sign(park, claims(park), kid="not-a-key-of-ours"), "unknown_key"),
    "no kid": (
        lambda park: jwt.encode(claims(park), signing_key(park).private_pem, algorithm="RS256"),
        "unknown_key",
    ),
    "alg none": (alg_none, "algorithm_refused"),
    "HS256 keyed with the public key": (hs256_with_the_public_key, "algorithm_refused"),
    "wrong audience": (lambda park: sign(park, claims(park, aud="some-other-api")), "wrong_audience"),
    "wrong issuer": (lambda park: sign(park, claims(park, iss="https://evil.example")), "wrong_issuer"),
    "refresh-type JWT": (lambda park: sign(park, claims(park, type="refresh")), "not_an_access_token"),
    "the gateway's refresh token": (refresh_token, "malformed"),
    "garbage": (lambda _park: "not.a.token", "malformed"),
}


def security_events(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The security events logged so far: structlog hands the standard library its event dict."""
    return [
        record.msg
        for record in caplog.records
        if record.name == "parkhub.security" and isinstance(record.msg, dict) and record.msg.get("event") == EVENT
    ]


def assert_401(response: TestResponse) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    assert response.json["status"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def assert_no_token_text(token: str, caplog: pytest.LogCaptureFixture, written: str) -> None:
    """Neither the token nor its signature is in what was logged: the records, nor the JSON
    lines the platform's handler wrote to stderr."""
    secrets = [token, *(part for part in token.split(".")[2:] if len(part) > 8)]
    logged = written + "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in secrets:
        assert secret not in logged


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("attack", ATTACKS)
def test_every_attack_is_a_401_and_a_security_event_at_every_door(
    park: Park, attack: str, door: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    forge, reason = ATTACKS[attack]
    token = forge(park)
    caplog.set_level(logging.WARNING, logger="parkhub.security")
    capsys.readouterr()
    request_id = f"attack-{uuid.uuid4().hex[:12]}"

    response = park.client.get(
        DOORS[door],
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )

    assert_401(response)
    assert response.json["request_id"] == request_id
    (event,) = [e for e in security_events(caplog) if e.get("request_id") == request_id]
    assert event["reason"] == reason
    assert event["service"] == door  # the app that refused it logged it, bound to its name
    assert event["client"] == "198.51.100.7"
    assert event["path"] == DOORS[door]
    assert event["method"] == "GET"
    assert event["level"] == "warning"
    if token.count(".") == 2 and reason not in ("malformed",):
        # What the token claims of itself, read without trusting it.
        unverified = jwt.decode(token, options={"verify_signature": False})
        assert event["token_jti"] == unverified["jti"]
        assert event["token_sub"] == unverified["sub"]
        assert event.get("token_kid") == jwt.get_unverified_header(token).get("kid")
    written = capsys.readouterr().err
    lines = [json.loads(line) for line in written.splitlines() if line.startswith("{") and EVENT in line]
    assert [line["request_id"] for line in lines if line["event"] == EVENT] == [request_id]
    assert_no_token_text(token, caplog, written)


def test_a_hostile_token_cannot_write_what_it_likes_into_the_log(
    park: Park, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """A forger chooses every claim: the log keeps a short, plain version of the few it names,
    and a token too large to be real is not even read."""
    caplog.set_level(logging.WARNING, logger="parkhub.security")
    capsys.readouterr()
    injection = '"}\n{"event":"security.all_clear","level":"info"}\x1b[2J' + "A" * 1_000
    forged = sign(park, claims(park, jti=injection, sub={"nested": injection}), kid=injection)
    huge = "x" * 200_000
    for token in (forged, huge, f"{forged} {forged}"):
        assert_401(
            park.client.get("/api/v1/booking/directory/organisations", headers={"Authorization": f"Bearer {token}"})
        )
    events = security_events(caplog)
    assert len(events) == 3
    forged_event = events[0]
    assert forged_event["reason"] == "unknown_key"
    assert len(forged_event["token_jti"]) <= 65 and len(forged_event["token_kid"]) <= 65
    assert "\n" not in forged_event["token_jti"] and "\x1b" not in forged_event["token_jti"]
    assert "token_sub" not in forged_event  # not a string: not logged at all
    assert "token_jti" not in events[1]  # 200 kB: not decoded
    written = capsys.readouterr().err
    lines = [line for line in written.splitlines() if EVENT in line]
    assert len(lines) == 3
    assert all(len(line) < 2_000 for line in lines), [len(line) for line in lines]
    for line in written.splitlines():
        if line.startswith("{"):
            assert json.loads(line)["event"] != "security.all_clear"
    assert_no_token_text(forged, caplog, written)


def test_a_missing_token_is_a_401_but_not_a_security_event(park: Park, caplog: pytest.LogCaptureFixture) -> None:
    """No token is a caller not signed in, not an attack: the log is not filled with it."""
    caplog.set_level(logging.WARNING, logger="parkhub.security")
    for path in DOORS.values():
        assert_401(park.client.get(path))
    assert security_events(caplog) == []


def token_request(park: Park, **form: str) -> TestResponse:
    return park.client.post(TOKEN, data=form, environ_base={"REMOTE_ADDR": "203.0.113.9"})


def test_a_replayed_rotated_refresh_token_revokes_its_family_and_is_logged(
    park: Park, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """OAuth 2.0 Security BCP §4.14: reuse of a rotated refresh token revokes the whole family.
    The token endpoint answers 400 ``invalid_grant`` (RFC 6749 §5.2 says 400 for it, not 401)."""
    caplog.set_level(logging.WARNING, logger="parkhub.security")
    signed_in = token_request(park, grant_type="password", username="carol", password="parkhub-demo")
    first = signed_in.json["refresh_token"]
    rotated = token_request(park, grant_type="refresh_token", refresh_token=first)
    assert rotated.status_code == 200
    second = rotated.json["refresh_token"]
    capsys.readouterr()

    replay = token_request(park, grant_type="refresh_token", refresh_token=first)
    assert replay.status_code == 400 and replay.content_type == PROBLEM
    assert replay.json["error"] == "invalid_grant"
    # The live successor is revoked with the family: whoever holds it must sign in again.
    after = token_request(park, grant_type="refresh_token", refresh_token=second)
    assert after.status_code == 400 and after.json["error"] == "invalid_grant"

    events = [e for e in security_events(caplog) if e["reason"].startswith("refresh_")]
    assert [e["reason"] for e in events] == ["refresh_reused", "refresh_revoked"]
    carol = park.client.get("/api/v1/me", headers={"Authorization": f"Bearer {park.token('carol')}"}).json
    assert {e["token_sub"] for e in events} == {carol["subject"]}
    assert len({e["token_family"] for e in events}) == 1
    assert all(e["client"] == "203.0.113.9" and e["path"] == TOKEN for e in events)
    written = capsys.readouterr().err
    for token in (first, second, first[3:], second[3:]):
        assert_no_token_text(token, caplog, written)


def test_a_revoked_refresh_token_is_refused_and_logged(
    park: Park, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.WARNING, logger="parkhub.security")
    refresh = token_request(park, grant_type="password", username="alice", password="parkhub-demo").json[
        "refresh_token"
    ]
    assert park.client.post("/api/v1/auth/revoke", data={"token": refresh}).status_code == 200
    capsys.readouterr()
    refused = token_request(park, grant_type="refresh_token", refresh_token=refresh)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
    unknown = token_request(park, grant_type="refresh_token", refresh_token="rt_" + "never-issued" * 3)
    assert unknown.status_code == 400 and unknown.json["error"] == "invalid_grant"
    reasons = [e["reason"] for e in security_events(caplog)]
    assert reasons == ["refresh_revoked", "refresh_unknown"]
    # The revoked token, presented as a bearer anywhere, is a malformed access token.
    for path in DOORS.values():
        assert_401(park.client.get(path, headers={"Authorization": f"Bearer {refresh}"}))
    assert_no_token_text(refresh, caplog, capsys.readouterr().err)
