"""Partner client secrets are kept as a keyed hash (HMAC-SHA256 under the gateway's key), not
scrypt; secrets hashed with scrypt before keep working and are upgraded on their next use."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.app import create_app
from gateway.models import ApiClient, AuditEntry
from shared.settings import Settings, SettingsError
from tests.gateway import factories
from tests.gateway.conftest import gateway_settings_for

CLIENTS = "/api/v1/api-clients"
TOKEN = "/api/v1/auth/token"
SCHEME = "hmac-sha256"  # the stored form docs/identity.md promises: hmac-sha256$<key id>$<digest>
KEY_FILE = "client-secret.key"


def client_token(client: FlaskClient, client_id: str, secret: str) -> int:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return client.post(TOKEN, data=form).status_code


def stored_hash(session: Any, client_id: str) -> str:
    session.rollback()  # see what the app committed since, not the row this session remembers
    found = session.get(ApiClient, client_id, populate_existing=True)
    assert found is not None
    return str(found.secret_hash)


def test_a_new_client_secret_is_a_keyed_hash_not_scrypt(client: FlaskClient, bearer: Any, session: Any) -> None:
    bank_org = client.get("/api/v1/me", headers=bearer("bank")).json["organisation"]["id"]
    created = client.post(CLIENTS, json={"name": "Loan desk", "organisation_id": bank_org}, headers=bearer("admin"))
    assert created.status_code == 201, created.get_data(as_text=True)
    client_id, secret = created.json["client_id"], created.json["client_secret"]
    assert len(secret) >= 43  # 256 random bits, base64url
    kept = stored_hash(session, client_id)
    assert kept.startswith(f"{SCHEME}$")
    assert not kept.startswith("scrypt")
    assert secret not in kept
    assert client_token(client, client_id, secret) == 200
    assert client_token(client, client_id, secret + "x") == 401

    rotated = client.post(f"{CLIENTS}/{client_id}/rotate-secret", headers=bearer("admin"))
    assert rotated.status_code == 200
    assert stored_hash(session, client_id).startswith(f"{SCHEME}$")
    assert client_token(client, client_id, rotated.json["client_secret"]) == 200


def test_the_demo_clients_are_seeded_with_the_keyed_hash(session: Any) -> None:
    assert stored_hash(session, "shudu-bank-demo").startswith(f"{SCHEME}$")


def test_a_secret_hashed_with_scrypt_still_works_and_is_upgraded_on_use(client: FlaskClient, session: Any) -> None:
    legacy = factories.ApiClientRow()  # its secret_hash is werkzeug's scrypt of factories.PASSWORD
    assert stored_hash(session, legacy.client_id).startswith("scrypt:")

    assert client_token(client, legacy.client_id, "not-the-secret") == 401
    assert stored_hash(session, legacy.client_id).startswith("scrypt:")  # a wrong secret changes nothing

    assert client_token(client, legacy.client_id, factories.PASSWORD) == 200
    assert stored_hash(session, legacy.client_id).startswith(f"{SCHEME}$")
    assert client_token(client, legacy.client_id, factories.PASSWORD) == 200
    assert client_token(client, legacy.client_id, "not-the-secret") == 401
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == legacy.client_id)).one()
    assert (entry.action, entry.actor) == ("secret_rehashed", "system")


def test_the_key_is_generated_once_under_var_keys_and_kept_private(gateway_settings: Settings) -> None:
    path = gateway_settings.keys_dir / KEY_FILE
    assert path.exists()  # the seeded database's clients were hashed under it
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_bytes()
    create_app(gateway_settings)
    assert path.read_bytes() == before


def test_a_key_from_the_environment_is_used_and_must_be_long(tmp_path: Path, signing_pem: bytes) -> None:
    with pytest.raises(SettingsError, match="at least 32"):
        create_app(gateway_settings_for(tmp_path, signing_pem, PARKHUB_CLIENT_SECRET_KEY="too-short"))
    app = create_app(gateway_settings_for(tmp_path, signing_pem, PARKHUB_CLIENT_SECRET_KEY="k" * 32))
    assert app.extensions["parkhub.client_secrets"].hash("s") != create_app(
        gateway_settings_for(tmp_path, signing_pem, PARKHUB_CLIENT_SECRET_KEY="l" * 32)
    ).extensions["parkhub.client_secrets"].hash("s")
    assert not (tmp_path / "keys" / KEY_FILE).exists()


def test_every_gateway_container_of_the_distributed_mode_gets_both_keys_from_the_environment() -> None:
    """Gateway replicas on several hosts must agree on the signing key and on the key that hashes
    client secrets (so must the seed, which registers the demo clients): docker-compose passes
    both through from the operator's environment."""
    import yaml  # schemathesis (a test extra) brings it

    compose = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())
    hashing = {name: s for name, s in compose["services"].items() if s.get("command", [None])[0] in ("gateway", "seed")}
    assert set(hashing) == {"gateway", "seed"}
    for name, service in hashing.items():
        environment = service["environment"]
        assert environment.get("PARKHUB_SIGNING_KEY") == "${PARKHUB_SIGNING_KEY:-}", name
        assert environment.get("PARKHUB_CLIENT_SECRET_KEY") == "${PARKHUB_CLIENT_SECRET_KEY:-}", name
