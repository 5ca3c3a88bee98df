"""factory-boy factories: JSON bodies for the API, and rows for arranging a test quickly.

Rows made here skip the handlers (no audit, no events) and share one precomputed password hash,
so arranging a test costs no scrypt; anything a test asserts about goes through the API.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session

from gateway.models import ApiClient, Organisation, User
from gateway.passwords import hash_secret

PASSWORD = "correct-horse-battery"
_session: list[Session | None] = [None]


def use_session(session: Session | None) -> None:
    _session[0] = session


def _current_session() -> Session:
    session = _session[0]
    if session is None:
        raise RuntimeError("request the `session` fixture before using row factories")
    return session


@cache
def password_hash() -> str:
    return hash_secret(PASSWORD)


# -- JSON bodies ----------------------------------------------------------------------------


class OrganisationBody(factory.DictFactory):
    name = factory.Sequence(lambda n: f"Minjiang Gene Editing {n} Co., Ltd.")
    name_zh = factory.Sequence(lambda n: f"岷江基因编辑{n}有限公司")
    kind = "tenant"
    contact_email = factory.Sequence(lambda n: f"office{n}@minjiang-gene.example.cn")


class UserBody(factory.DictFactory):
    username = factory.Sequence(lambda n: f"member{n}")
    display_name = factory.Sequence(lambda n: f"Lab Member {n} 实验员")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.cn")
    password = PASSWORD
    roles = factory.LazyFunction(lambda: ["tenant_member"])


# -- rows -----------------------------------------------------------------------------------


class _Row(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = _current_session
        sqlalchemy_session_persistence = "commit"


def _now() -> datetime:
    return datetime.now(UTC)


class OrganisationRow(_Row):
    class Meta:
        model = Organisation

    id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    name = factory.Sequence(lambda n: f"Longquan Medical Devices {n} Ltd.")
    name_zh = factory.Sequence(lambda n: f"龙泉医疗器械{n}有限公司")
    kind = "tenant"
    status = "active"
    contact_email = None
    version = 1
    created_at = factory.LazyFunction(_now)
    updated_at = factory.LazyFunction(_now)


class UserRow(_Row):
    class Meta:
        model = User

    id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    username = factory.Sequence(lambda n: f"row-user{n}")
    display_name = factory.Sequence(lambda n: f"Row User {n}")
    email = None
    password_hash = factory.LazyFunction(password_hash)
    organisation = factory.SubFactory(OrganisationRow)
    roles = factory.LazyFunction(lambda: ["tenant_member"])
    active = True
    version = 1
    created_at = factory.LazyFunction(_now)
    updated_at = factory.LazyFunction(_now)


class ApiClientRow(_Row):
    class Meta:
        model = ApiClient

    client_id = factory.Sequence(lambda n: f"test-client-{n}")
    secret_hash = factory.LazyFunction(password_hash)
    name = factory.Sequence(lambda n: f"Partner system {n}")
    organisation = factory.SubFactory(OrganisationRow, kind="bank")
    roles = factory.LazyFunction(lambda: ["partner_agent"])
    active = True
    version = 1
    created_at = factory.LazyFunction(_now)
    updated_at = factory.LazyFunction(_now)
    secret_rotated_at = None
