"""Every service verifies tokens itself: forged, stale or misdirected tokens get a 401 problem
from the service, whatever the gateway in front of it did."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.keys import load_signing_key
from shared.settings import SERVICES
from tests.park import Park

Forge = Callable[[dict[str, Any], dict[str, Any]], str]


def claims(park: Park, **overrides: Any) -> dict[str, Any]:
    settings = park.platform.settings
    now = int(time.time())
    return {
        "sub": "user:desk",
        "org": str(uuid.uuid4()),
        "org_kind": "operator",
        "roles": ["desk_staff"],
        "name": "Desk",
        "type": "access",
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        **overrides,
    }


def sign(park: Park, payload: dict[str, Any], **header: Any) -> str:
    key = load_signing_key(park.platform.settings)
    return jwt.encode(payload, key.private_pem, algorithm="RS256", headers={"kid": key.kid, **header})


def other_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def tampered(park: Park) -> str:
    header, _payload, signature = sign(park, claims(park, roles=["tenant_member"])).split(".")
    return ".".join([header, b64(claims(park, roles=["park_admin"])), signature])


def unsigned(park: Park) -> str:
    return ".".join(
        [b64({"alg": "none", "typ": "JWT", "kid": load_signing_key(park.platform.settings).kid}), b64(claims(park)), ""]
    )


FORGERIES: dict[str, Callable[[Park], str]] = {
    "expired": lambda park: sign(park, claims(park, iat=int(time.time()) - 900, exp=int(time.time()) - 60)),
    "tampered": tampered,
    "wrong key, same kid": lambda park: jwt.encode(
        claims(park), other_key_pem(), algorithm="RS256", headers={"kid": load_signing_key(park.platform.settings).kid}
    ),
    "unknown kid": lambda park: sign(park, claims(park), kid="not-our-key"),
    "alg none": unsigned,
    "refresh type": lambda park: sign(park, claims(park, type="refresh")),
    "other audience": lambda park: sign(park, claims(park, aud="some-other-api")),
    "other issuer": lambda park: sign(park, claims(park, iss="https://evil.example")),
    "garbage": lambda park: "not.a.token",
}


@pytest.mark.parametrize("service", SERVICES)
def test_a_genuine_token_is_accepted_by_every_service(park: Park, service: str) -> None:
    response = park.client.get(
        f"/api/v1/{service}/directory/organisations", headers={"Authorization": f"Bearer {sign(park, claims(park))}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize("service", SERVICES)
def test_a_bad_token_gets_401_from_every_service(park: Park, service: str, forgery: str) -> None:
    token = FORGERIES[forgery](park)
    response = park.client.get(
        f"/api/v1/{service}/directory/organisations", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401, (forgery, response.get_data(as_text=True))
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_tenant_member_gets_403_on_admin_endpoints(park: Park) -> None:
    partner = park.as_user("admin", "GET", "/api/v1/organisations?kind=bank").json["items"][0]["id"]
    for method, path, body in [
        ("GET", "/api/v1/organisations", None),
        ("POST", "/api/v1/organisations", {"name": "Sneaky Tenant Holdings", "kind": "tenant"}),
        ("POST", "/api/v1/api-clients", {"name": "Sneaky client", "organisation_id": partner}),
        ("GET", "/api/v1/booking/dead-letters", None),
        ("POST", "/api/v1/notify/dead-letters/1/replay", None),
        ("GET", "/api/v1/finance/directory/organisations", None),
    ]:
        response = park.as_user("bob", method, path, json=body)
        assert response.status_code == 403, (method, path, response.get_data(as_text=True))
        assert response.content_type == "application/problem+json"


def test_a_rotated_key_keeps_earlier_tokens_valid_through_its_grace(seeded_platform, tmp_path) -> None:
    from gateway.keys import rotate_signing_key
    from tests.park import running_park

    for park in running_park(seeded_platform, tmp_path / "before"):
        before = park.token("desk")
        settings = park.platform.settings
    old, new = rotate_signing_key(settings)
    assert old != new
    for park in running_park(tmp_path / "before" / "var", tmp_path / "after"):
        after = park.token("desk")
        assert jwt.get_unverified_header(after)["kid"] == new
        kids = [key["kid"] for key in park.client.get("/.well-known/jwks.json").json["keys"]]
        assert kids == [new, old]
        for token in (before, after):
            for path in ("/api/v1/me", "/api/v1/booking/directory/organisations"):
                response = park.client.get(path, headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 200, (path, response.get_data(as_text=True))


def test_a_retired_key_leaves_the_jwks_after_its_grace(tmp_path) -> None:
    import os

    from gateway.keys import load_signing_key, retired_public_keys, rotate_signing_key
    from shared.settings import Settings, SettingsError
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "var", PARKHUB_ACCESS_TTL="60")
    old, _new = rotate_signing_key(settings)
    assert list(retired_public_keys(settings)) == [old]
    [retired] = (settings.keys_dir / "retired").glob("*.pem")
    stale = retired.stat().st_mtime - 361  # the 60 s token lifetime plus 5 minutes have passed
    os.utime(retired, (stale, stale))
    assert retired_public_keys(settings) == {}
    assert not retired.exists()

    given = Settings.from_env(
        {
            "PARKHUB_VAR_DIR": str(tmp_path / "given"),
            "PARKHUB_SIGNING_KEY": load_signing_key(settings).private_pem.decode(),
        }
    )
    with pytest.raises(SettingsError):
        rotate_signing_key(given)
