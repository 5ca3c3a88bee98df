"""Booking's test rig: its own signing key and JWKS (the gateway may not exist yet), tokens for
the demo roles, the app over freshly migrated databases, and factories bound to its database."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select

from migrations import upgrade
from services.booking.app import create_app
from services.booking.models import database as booking_database
from services.booking.models import directory
from shared.clock import PARK_TZ
from shared.db import Database
from shared.settings import Settings
from tests.booking import factories
from tests.conftest import make_settings
from tests.servers import PostgresDatabases

KID = "booking-test-key"
ORG_A = str(uuid.UUID("00000000-0000-4000-8000-00000000000a"))
ORG_B = str(uuid.UUID("00000000-0000-4000-8000-00000000000b"))
OPERATOR = str(uuid.UUID("00000000-0000-4000-8000-000000000001"))
BANK = str(uuid.UUID("00000000-0000-4000-8000-0000000000ba"))


@dataclass(frozen=True)
class User:
    sub: str
    org: str
    org_kind: str
    roles: tuple[str, ...]
    name: str


USERS = {
    "alice": User("user:alice", ORG_A, "tenant", ("tenant_admin",), "Alice Wang"),
    "bob": User("user:bob", ORG_A, "tenant", ("tenant_member",), "Bob Li"),
    "carol": User("user:carol", ORG_B, "tenant", ("tenant_admin",), "Carol Zhang"),
    "dave": User("user:dave", ORG_B, "tenant", ("tenant_member",), "Dave Chen"),
    "desk": User("user:desk", OPERATOR, "operator", ("desk_staff",), "Desk Staff"),
    "admin": User("user:admin", OPERATOR, "operator", ("park_admin",), "Park Admin"),
    "bank": User("user:bank", BANK, "bank", ("partner_agent",), "Bank Agent"),
}


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write_jwks(settings: Settings, key: rsa.RSAPrivateKey) -> None:
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    public.update(kid=KID, use="sig", alg="RS256")
    settings.keys_dir.mkdir(parents=True, exist_ok=True)
    (settings.keys_dir / "jwks.json").write_text(json.dumps({"keys": [public]}))


def mint(settings: Settings, key: rsa.RSAPrivateKey, user: User, *, ttl: int = 600) -> str:
    now = int(time.time())
    claims = {
        "sub": user.sub,
        "org": user.org,
        "org_kind": user.org_kind,
        "roles": list(user.roles),
        "name": user.name,
        "type": "access",
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})


def register_organisations(database: Database) -> None:
    """Put the test organisations in booking's directory, as identity's events would."""
    with database.unit_of_work() as uow:
        for org_id, name, kind in (
            (ORG_A, "Chengdu Cell Therapeutics", "tenant"),
            (ORG_B, "Tianfu Genomics", "tenant"),
            (OPERATOR, "Tianfu Life Science Park", "operator"),
            (BANK, "Bank of Chengdu", "bank"),
        ):
            uow.session.execute(
                directory.insert().values(
                    id=org_id, name=name, kind=kind, status="active", version=1, updated_at=datetime.now(UTC)
                )
            )
        uow.commit()


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = booking_database(settings)
    session = database.session()
    factories.bind(session)
    register_organisations(database)
    yield database
    factories.bind(None)
    session.close()


@pytest.fixture
def app(settings: Settings, signing_key: rsa.RSAPrivateKey, db: Database) -> Flask:
    write_jwks(settings, signing_key)
    return create_app(settings)


class Api:
    """A test client that speaks as one of :data:`USERS`."""

    def __init__(
        self, client: FlaskClient, settings: Settings, key: rsa.RSAPrivateKey, *, prefix: str = "/api/v1/booking"
    ) -> None:
        self.client = client
        self.settings = settings
        self.key = key
        self.prefix = prefix
        self.users = USERS

    def _url(self, path: str) -> str:
        return path if path.startswith("/api/") else f"{self.prefix}{path}"

    def headers(self, user: str | None, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if user is not None:
            headers["Authorization"] = f"Bearer {mint(self.settings, self.key, self.users[user])}"
        return headers

    def get(self, path: str, user: str | None = "alice", **kwargs: Any) -> Any:
        return self.client.get(self._url(path), headers=self.headers(user, **kwargs.pop("headers", {})), **kwargs)

    def post(self, path: str, json: Any = None, user: str | None = "alice", **headers: str) -> Any:
        return self.client.post(self._url(path), json=json, headers=self.headers(user, **headers))

    def patch(self, path: str, json: Any = None, user: str | None = "admin", **headers: str) -> Any:
        return self.client.patch(self._url(path), json=json, headers=self.headers(user, **headers))

    def put(self, path: str, json: Any = None, user: str | None = "alice", **headers: str) -> Any:
        return self.client.put(self._url(path), json=json, headers=self.headers(user, **headers))

    def delete(self, path: str, user: str | None = "admin", **headers: str) -> Any:
        return self.client.delete(self._url(path), headers=self.headers(user, **headers))

    def book(self, space_id: str, start: datetime, end: datetime, user: str = "alice", **fields: Any) -> Any:
        body = {
            "space_id": space_id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "title": fields.pop("title", "Team meeting"),
            "attendees": fields.pop("attendees", 6),
            **fields,
        }
        return self.post("/reservations", body, user=user)

    def act(self, reservation: dict[str, Any], action: str, user: str = "alice", **body: Any) -> Any:
        return self.post(
            f"/reservations/{reservation['id']}/{action}",
            body or None,
            user=user,
            **{"If-Match": f'"{reservation["version"]}"'},
        )


@pytest.fixture
def api(app: Flask, settings: Settings, signing_key: rsa.RSAPrivateKey) -> Api:
    return Api(app.test_client(), settings, signing_key)


def park_day(days_ahead: int) -> date:
    return datetime.now(PARK_TZ).date() + timedelta(days=days_ahead)


def at(day: date, clock: str) -> datetime:
    """``clock`` (HH:MM) on ``day`` in park time."""
    hours, minutes = (int(x) for x in clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=PARK_TZ)


@pytest.fixture
def slot() -> Callable[..., tuple[datetime, datetime]]:
    """``slot(days_ahead, "10:00", "11:00")`` in park time."""

    def make(days_ahead: int = 3, start: str = "10:00", end: str = "11:00") -> tuple[datetime, datetime]:
        day = park_day(days_ahead)
        return at(day, start), at(day, end)

    return make


def outbox(db: Database, type_prefix: str = "booking.") -> list[dict[str, Any]]:
    table = db.messaging.outbox
    with db.reading() as session:
        query = select(table.c.envelope).where(table.c.type.startswith(type_prefix)).order_by(table.c.id)
        rows = session.execute(query)
        return [json.loads(r.envelope) for r in rows]


def booking_on_postgres(
    tmp_path: Path, postgres_databases: PostgresDatabases, key: rsa.RSAPrivateKey
) -> Iterator[tuple[Flask, Database, Settings]]:
    """Booking's app over a fresh PostgreSQL database built by the migrations, with the test
    tenants in its directory and the factories bound to it (the body of each file's ``pg`` fixture)."""
    url = postgres_databases.new_set().format(name="booking")
    upgrade("booking", url)
    settings = make_settings(tmp_path / "var", PARKHUB_DB_BOOKING=url)
    write_jwks(settings, key)
    database = booking_database(settings)
    register_organisations(database)
    session = database.session()
    factories.bind(session)
    try:
        yield create_app(settings), database, settings
    finally:
        factories.bind(None)
        session.close()
