"""Finance's test rig: the app over freshly migrated databases, tokens for tenants, partners and
staff (booking's signing rig: its key, JWKS and :class:`tests.booking.conftest.Api`), the test
organisations in the directory, and a small set of products written straight into the tables, so
that tests of applications, offers and payouts do not depend on the products' API.

Users: ``alice`` (tenant admin) and ``bob`` (member) of ORG_A; ``carol`` (admin) and ``dave``
(member) of ORG_B; ``bank`` and ``bank2`` of BANK; ``banker`` of a second bank BANK2; ``guarantor``
of the guarantee company GUARANTEE; ``bureau`` and ``bureau2`` of the science and technology
bureau BUREAU (two people, for maker-checker); ``lawyer`` of a law firm (a partner finance never
routes to); ``desk`` and ``desk2`` (desk staff), ``admin`` (park admin) of the operator.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from services.finance.app import create_app
from services.finance.models import CompanyProfile, Product, ProductProvider, directory
from services.finance.models import database as finance_database
from shared.db import Database
from shared.settings import Settings
from tests import service_rig
from tests.booking.conftest import BANK, OPERATOR, ORG_A, ORG_B, Api, User, signing_key, write_jwks

__all__ = ["signing_key"]

BANK2 = str(uuid.UUID("00000000-0000-4000-8000-0000000002b2"))
GUARANTEE = str(uuid.UUID("00000000-0000-4000-8000-0000000002c1"))
BUREAU = str(uuid.UUID("00000000-0000-4000-8000-0000000002d1"))
LAW = str(uuid.UUID("00000000-0000-4000-8000-0000000001a1"))

USERS = {
    "alice": User("user:alice", ORG_A, "tenant", ("tenant_admin",), "Alice Wang"),
    "bob": User("user:bob", ORG_A, "tenant", ("tenant_member",), "Bob Li"),
    "carol": User("user:carol", ORG_B, "tenant", ("tenant_admin",), "Carol Zhang"),
    "dave": User("user:dave", ORG_B, "tenant", ("tenant_member",), "Dave Chen"),
    "bank": User("user:bank", BANK, "bank", ("partner_agent",), "Grace Chen"),
    "bank2": User("user:bank2", BANK, "bank", ("partner_agent",), "Wei Sun"),
    "banker": User("user:banker", BANK2, "bank", ("partner_agent",), "Jun Gao"),
    "guarantor": User("user:guarantor", GUARANTEE, "guarantee", ("partner_agent",), "Ming Xu"),
    "bureau": User("user:bureau", BUREAU, "government", ("partner_agent",), "Li Na"),
    "bureau2": User("user:bureau2", BUREAU, "government", ("partner_agent",), "Zhao Lei"),
    "lawyer": User("user:lawyer", LAW, "law_firm", ("partner_agent",), "Henry Zhou"),
    "desk": User("user:desk", OPERATOR, "operator", ("desk_staff",), "Desk Staff"),
    "desk2": User("user:desk2", OPERATOR, "operator", ("desk_staff",), "Second Desk"),
    "admin": User("user:admin", OPERATOR, "operator", ("park_admin",), "Park Admin"),
}

ORGANISATIONS = (
    (ORG_A, "Chengdu Cell Therapeutics", "成都细胞治疗", "tenant"),
    (ORG_B, "Tianfu Genomics", "天府基因", "tenant"),
    (OPERATOR, "Tianfu Life Science Park", "天府生命科技园", "operator"),
    (BANK, "Shudu Commercial Bank", "蜀都商业银行", "bank"),
    (BANK2, "Jincheng Rural Bank", "锦城农商银行", "bank"),
    (GUARANTEE, "Chengdu Hi-Tech Financing Guarantee", "成都高新融资担保", "guarantee"),
    (BUREAU, "Hi-Tech Zone Science and Technology Bureau", "高新区科技创新局", "government"),
    (LAW, "Tianfu Bridge Law Firm", "天府桥律师事务所", "law_firm"),
)


class Products:
    """The test products' ids: ``loan`` (a guaranteed loan of BANK and BANK2 with GUARANTEE,
    100,000–5,000,000 yuan, 6–36 months, a business licence and financial statements required),
    ``subsidy`` (a subsidy call of BUREAU, window open now), ``ip_loan`` (an IP-pledge loan of BANK,
    at least one granted patent)."""

    loan = str(uuid.UUID("00000000-0000-4000-8000-00000000f001"))
    subsidy = str(uuid.UUID("00000000-0000-4000-8000-00000000f002"))
    ip_loan = str(uuid.UUID("00000000-0000-4000-8000-00000000f003"))


CHECKLIST = [
    {"type": "business_licence", "name": "Business licence", "name_zh": "营业执照", "required": True},
    {"type": "financial_statements", "name": "Financial statements", "name_zh": "财务报表", "required": True},
    {"type": "business_plan", "name": "Business plan", "name_zh": "商业计划书", "required": False},
]
LOAN_FEES = [{"kind": "guarantee", "basis": "percent_per_year", "value": "1.5", "timing": "upfront"}]


def register_organisations(database: Database) -> None:
    """The test organisations in finance's directory, as identity's events would put them."""
    service_rig.register_organisations(database, directory, ORGANISATIONS)


def load_products(database: Database) -> None:
    """Three products and their providers; ORG_A's company profile (eligible for all three)."""
    now = datetime.now(UTC)
    window = {
        "opens_at": (now - timedelta(days=10)).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat(),
        "grace_days": 3,
    }
    with database.unit_of_work() as uow:
        s = uow.session
        common: dict[str, Any] = {"version": 1, "updated_at": now, "active": True}
        s.add(
            Product(
                id=Products.loan,
                code="sme_guaranteed_loan",
                kind="guaranteed_loan",
                name="SME guaranteed loan",
                name_zh="中小企业担保贷款",
                amount_min=Decimal("100000"),
                amount_max=Decimal("5000000"),
                term_min=6,
                term_max=36,
                rate_min=Decimal("3.45"),
                rate_max=Decimal("6.0"),
                repayment_method="equal_instalments",
                fees=LOAN_FEES,
                eligibility={"min_years_in_park": 1},
                checklist=CHECKLIST,
                window=None,
                position=1,
                **common,
            )
        )
        s.add(
            Product(
                id=Products.subsidy,
                code="rd_subsidy_2026",
                kind="subsidy",
                name="R&D subsidy call 2026",
                name_zh="2026年研发补贴申报",
                amount_min=Decimal("10000"),
                amount_max=Decimal("500000"),
                term_min=1,
                term_max=12,
                rate_min=None,
                rate_max=None,
                repayment_method=None,
                fees=[],
                eligibility={"sectors": ["biomedicine", "medical_devices"]},
                checklist=CHECKLIST[:1],
                window=window,
                position=2,
                **common,
            )
        )
        s.add(
            Product(
                id=Products.ip_loan,
                code="ip_pledge_loan",
                kind="ip_pledge_loan",
                name="IP-pledge loan",
                name_zh="知识产权质押贷款",
                amount_min=Decimal("100000"),
                amount_max=Decimal("3000000"),
                term_min=6,
                term_max=24,
                rate_min=Decimal("3.0"),
                rate_max=Decimal("5.5"),
                repayment_method="interest_only",
                fees=[],
                eligibility={"min_granted_patents": 1},
                checklist=CHECKLIST[:1],
                window=None,
                position=3,
                **common,
            )
        )
        s.flush()
        for product, partner, role in (
            (Products.loan, BANK, "lender"),
            (Products.loan, BANK2, "lender"),
            (Products.loan, GUARANTEE, "guarantor"),
            (Products.subsidy, BUREAU, None),
            (Products.ip_loan, BANK, "lender"),
        ):
            s.add(ProductProvider(product_id=product, partner_org_id=partner, role=role))
        s.add(
            CompanyProfile(
                org_id=ORG_A,
                sector="biomedicine",
                moved_in_on=date(2021, 3, 1),
                annual_revenue=Decimal("12000000"),
                employees=80,
                granted_patents=3,
                credit_code=None,
                version=1,
                updated_by="user:alice",
                updated_at=now,
            )
        )
        uow.commit()


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = finance_database(settings)
    register_organisations(database)
    load_products(database)
    yield database


@pytest.fixture
def app(settings: Settings, signing_key: rsa.RSAPrivateKey, db: Database) -> Flask:
    write_jwks(settings, signing_key)
    return create_app(settings)


@pytest.fixture
def api(app: Flask, settings: Settings, signing_key: rsa.RSAPrivateKey) -> Api:
    client = Api(app.test_client(), settings, signing_key, prefix="/api/v1/finance")
    client.users = USERS
    return client


def outbox(db: Database, type_prefix: str = "finance.") -> list[dict[str, Any]]:
    return service_rig.published(db, type_prefix)
