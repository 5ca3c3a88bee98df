"""Consulting's test rig: the app over freshly migrated databases, tokens for tenants, firms and
staff (booking's signing rig: its key, JWKS and :class:`tests.booking.conftest.Api`), the test
organisations in the directory, and a small catalogue written straight into the tables, so that
tests of cases, messages and SLAs do not depend on the catalogue's API.

Users: ``alice`` (tenant admin) and ``bob`` (member) of ORG_A; ``carol`` (admin) and ``dave``
(member) of ORG_B; ``lawyer`` and ``lawyer2`` of the law firm LAW; ``lawyer3`` of a second law
firm LAW2; ``ipagent`` of the IP agency IPA; ``bank`` of a bank (a partner serving nothing);
``desk`` (desk staff) and ``admin`` (park admin) of the operator.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from services.consulting.app import create_app
from services.consulting.models import Category, FirmCategory, ServiceItem, directory
from services.consulting.models import database as consulting_database
from shared.db import Database
from shared.settings import Settings
from tests import service_rig
from tests.booking.conftest import BANK, OPERATOR, ORG_A, ORG_B, Api, User, signing_key, write_jwks

__all__ = ["signing_key"]

LAW = str(uuid.UUID("00000000-0000-4000-8000-0000000001a1"))
LAW2 = str(uuid.UUID("00000000-0000-4000-8000-0000000001a2"))
IPA = str(uuid.UUID("00000000-0000-4000-8000-0000000001b1"))

USERS = {
    "alice": User("user:alice", ORG_A, "tenant", ("tenant_admin",), "Alice Wang"),
    "bob": User("user:bob", ORG_A, "tenant", ("tenant_member",), "Bob Li"),
    "carol": User("user:carol", ORG_B, "tenant", ("tenant_admin",), "Carol Zhang"),
    "dave": User("user:dave", ORG_B, "tenant", ("tenant_member",), "Dave Chen"),
    "lawyer": User("user:lawyer", LAW, "law_firm", ("partner_agent",), "Henry Zhou"),
    "lawyer2": User("user:lawyer2", LAW, "law_firm", ("partner_agent",), "Lin Ma"),
    "lawyer3": User("user:lawyer3", LAW2, "law_firm", ("partner_agent",), "Qiu Yan"),
    "ipagent": User("user:ipagent", IPA, "ip_agency", ("partner_agent",), "Ivy Liu"),
    "bank": User("user:bank", BANK, "bank", ("partner_agent",), "Bank Agent"),
    "desk": User("user:desk", OPERATOR, "operator", ("desk_staff",), "Desk Staff"),
    "admin": User("user:admin", OPERATOR, "operator", ("park_admin",), "Park Admin"),
}

ORGANISATIONS = (
    (ORG_A, "Chengdu Cell Therapeutics", "成都细胞治疗", "tenant"),
    (ORG_B, "Tianfu Genomics", "天府基因", "tenant"),
    (OPERATOR, "Tianfu Life Science Park", "天府生命科技园", "operator"),
    (BANK, "Bank of Chengdu", "成都银行", "bank"),
    (LAW, "Tianfu Bridge Law Firm", "天府桥律师事务所", "law_firm"),
    (LAW2, "Jinjiang Law Partners", "锦江律师事务所", "law_firm"),
    (IPA, "Rongzhi IP Agency", "蓉智知识产权代理", "ip_agency"),
)

SLA_POLICY: dict[str, Any] = {
    "warn_share": "0.8",
    "targets": {
        priority: {
            "tenant": {"first_response": first, "resolution": first * 30},
            "firm": {"first_response": first * 2, "resolution": first * 28},
        }
        for priority, first in (("low", 480), ("normal", 240), ("high", 120), ("urgent", 60))
    },
}
"""Targets in business minutes: a normal case's first response within 4 working hours."""

LEGAL_FIELDS: list[dict[str, Any]] = [
    {
        "code": "contract_type",
        "label": "Contract type",
        "label_zh": "合同类型",
        "type": "choice",
        "required": True,
        "choices": [
            {"code": "labour", "label": "Labour", "label_zh": "劳动"},
            {"code": "supply", "label": "Supply", "label_zh": "供货"},
        ],
    },
    {"code": "pages", "label": "Pages", "label_zh": "页数", "type": "integer", "required": False, "min": 1, "max": 500},
]


class Catalogue:
    """The test catalogue's ids: ``legal`` (routing manual; item ``contract`` needs no quote,
    item ``litigation`` requires one), ``ip`` (routing round robin; item ``patent``)."""

    legal = "legal"
    ip = "intellectual_property"
    contract = str(uuid.UUID("00000000-0000-4000-8000-00000000c001"))
    litigation = str(uuid.UUID("00000000-0000-4000-8000-00000000c002"))
    patent = str(uuid.UUID("00000000-0000-4000-8000-00000000c003"))


def register_organisations(database: Database) -> None:
    """The test organisations in consulting's directory, as identity's events would put them."""
    service_rig.register_organisations(database, directory, ORGANISATIONS)


def load_catalogue(database: Database) -> None:
    """Two categories, three items, the law firms serving legal and the IP agency serving IP."""
    now = datetime.now(UTC)
    with database.unit_of_work() as uow:
        s = uow.session
        s.add(
            Category(
                code=Catalogue.legal,
                name="Legal",
                name_zh="法律",
                routing="manual",
                position=1,
                version=1,
                updated_at=now,
            )
        )
        s.add(
            Category(
                code=Catalogue.ip,
                name="Intellectual property",
                name_zh="知识产权",
                routing="round_robin",
                position=2,
                version=1,
                updated_at=now,
            )
        )
        s.flush()
        for item_id, category, code, name, name_zh, fields, quote in (
            (
                Catalogue.contract,
                Catalogue.legal,
                "contract_review",
                "Contract review",
                "合同审查",
                LEGAL_FIELDS,
                False,
            ),
            (Catalogue.litigation, Catalogue.legal, "litigation", "Litigation", "诉讼代理", [], True),
            (Catalogue.patent, Catalogue.ip, "patent_application", "Patent application", "专利申请", [], True),
        ):
            s.add(
                ServiceItem(
                    id=item_id,
                    category_code=category,
                    code=code,
                    name=name,
                    name_zh=name_zh,
                    intake_fields=fields,
                    fee_guidance="From 2,000 yuan",
                    fee_guidance_zh="2000元起",
                    fee_from=Decimal("2000"),
                    fee_to=None,
                    quote_required=quote,
                    sla_policy=SLA_POLICY,
                    version=1,
                    updated_at=now,
                )
            )
        for firm, category in ((LAW, Catalogue.legal), (LAW2, Catalogue.legal), (IPA, Catalogue.ip)):
            s.add(FirmCategory(firm_org_id=firm, category_code=category, declared_by="user:admin", declared_at=now))
        uow.commit()


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = consulting_database(settings)
    register_organisations(database)
    load_catalogue(database)
    yield database


@pytest.fixture
def app(settings: Settings, signing_key: rsa.RSAPrivateKey, db: Database) -> Flask:
    write_jwks(settings, signing_key)
    return create_app(settings)


@pytest.fixture
def api(app: Flask, settings: Settings, signing_key: rsa.RSAPrivateKey) -> Api:
    client = Api(app.test_client(), settings, signing_key, prefix="/api/v1/consulting")
    client.users = USERS
    return client


def outbox(db: Database, type_prefix: str = "consulting.") -> list[dict[str, Any]]:
    return service_rig.published(db, type_prefix)
