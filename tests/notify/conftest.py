"""Notify's test rig: the app over freshly migrated databases, tokens for tenants, partners and
staff (booking's signing rig), the test organisations in the directory, the people of
``USERS`` as identity's user events would put them, and :func:`deliver` to hand an event to
notify's inbox as the bus would.

Users: ``alice`` (tenant admin) and ``bob`` (member) of ORG_A; ``carol`` (admin) and ``dave``
(member) of ORG_B; ``lawyer`` of the law firm LAW; ``bank`` and ``bank2`` of two banks;
``desk`` (desk staff) and ``admin`` (park admin) of the operator.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from services.notify.app import create_app
from services.notify.models import Person, directory
from services.notify.models import database as notify_database
from services.notify.worker import participant
from shared.bus.inbox import Outcome
from shared.db import Database
from shared.events import Event
from shared.settings import Settings
from tests import service_rig
from tests.booking.conftest import BANK, OPERATOR, ORG_A, ORG_B, Api, User, signing_key, write_jwks

__all__ = ["signing_key"]

LAW = str(uuid.UUID("00000000-0000-4000-8000-0000000001a1"))
BANK2 = str(uuid.UUID("00000000-0000-4000-8000-0000000002b2"))

USERS = {
    "alice": User("user:alice", ORG_A, "tenant", ("tenant_admin",), "Alice Wang"),
    "bob": User("user:bob", ORG_A, "tenant", ("tenant_member",), "Bob Li"),
    "carol": User("user:carol", ORG_B, "tenant", ("tenant_admin",), "Carol Zhang"),
    "dave": User("user:dave", ORG_B, "tenant", ("tenant_member",), "Dave Chen"),
    "lawyer": User("user:lawyer", LAW, "law_firm", ("partner_agent",), "Henry Zhou"),
    "bank": User("user:bank", BANK, "bank", ("partner_agent",), "Grace Chen"),
    "bank2": User("user:bank2", BANK2, "bank", ("partner_agent",), "Jun Gao"),
    "desk": User("user:desk", OPERATOR, "operator", ("desk_staff",), "Desk Staff"),
    "admin": User("user:admin", OPERATOR, "operator", ("park_admin",), "Park Admin"),
}

ORGANISATIONS = (
    (ORG_A, "Chengdu Cell Therapeutics", "成都细胞治疗", "tenant"),
    (ORG_B, "Tianfu Genomics", "天府基因", "tenant"),
    (OPERATOR, "Tianfu Life Science Park", "天府生命科技园", "operator"),
    (BANK, "Bank of Chengdu", "成都银行", "bank"),
    (BANK2, "Sichuan Tianfu Bank", "四川天府银行", "bank"),
    (LAW, "Tianfu Bridge Law Firm", "天府桥律师事务所", "law_firm"),
)


def register_people(database: Database) -> None:
    """Every user of ``USERS`` as a person with an e-mail address, as identity's events would."""
    now = datetime.now(UTC)
    with database.unit_of_work() as uow:
        for name, user in USERS.items():
            uow.session.add(
                Person(
                    subject=user.sub,
                    user_id=str(uuid.uuid5(uuid.NAMESPACE_URL, user.sub)),
                    display_name=user.name,
                    email=f"{name}@example.cn",
                    org_id=user.org,
                    roles=list(user.roles),
                    active=True,
                    language=None,
                    updated_at=now,
                )
            )
        uow.commit()


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = notify_database(settings)
    service_rig.register_organisations(database, directory, ORGANISATIONS)
    register_people(database)
    yield database


@pytest.fixture
def app(settings: Settings, signing_key: rsa.RSAPrivateKey, db: Database) -> Flask:
    write_jwks(settings, signing_key)
    return create_app(settings)


@pytest.fixture
def api(app: Flask, settings: Settings, signing_key: rsa.RSAPrivateKey) -> Api:
    client = Api(app.test_client(), settings, signing_key, prefix="/api/v1/notify")
    client.users = USERS
    return client


def deliver(settings: Settings, event: Event) -> Outcome:
    """Hand ``event`` to notify's inbox as the bus would (the same event twice is a redelivery)."""
    return participant(settings).inbox.deliver(event.to_dict())


def event(type: str, data: dict[str, Any], *, orgid: str | None = None, correlationid: str | None = None) -> Event:
    """An event of ``type`` from its service, as that service would publish it."""
    return Event(
        type=type,
        source=f"/parkhub/{type.split('.', 1)[0]}",
        data=data,
        orgid=orgid,
        correlationid=correlationid or f"req-{uuid.uuid4().hex[:8]}",
    )
