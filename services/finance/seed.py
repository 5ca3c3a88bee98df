"""The park's financing products as demo data (docs/PARK.md, "Financing the park brokers") and the
demo tenants' company profiles.

``seed(settings, organisations)`` is idempotent: a product is added only when no product has its
code, a profile only when the tenant has none; what exists is left as it is (an administrator's
or a tenant's changes stay). Products and profiles go through the same handlers as the API
(:func:`services.finance.handlers.products.save_product`, ``save_profile``), so their terms, fees,
eligibility rules, checklists, windows and values are checked as the API checks them.

``organisations`` maps the gateway's organisation names to their ids (the CLI reads them from
the gateway's database); a product whose provider is missing there is reported and skipped, as is
the profile of a missing tenant. Providers are written straight to their table: the partners reach
finance's directory through identity's events, which may still be on their way when the seed runs.
The subsidy call's window is placed around the day of the first seed: open for six weeks more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from services.finance.commands.products import SaveProduct, SaveProfile
from services.finance.handlers.products import save_product, save_profile
from services.finance.models import CompanyProfile, Product, ProductProvider, database
from shared.clock import PARK_TZ, utcnow
from shared.principal import Principal
from shared.settings import Settings

SEEDER = Principal(subject="system:seed", org_id="", org_kind="operator", roles=frozenset({"park_admin"}))

SHUDU_BANK = "Shudu Commercial Bank, Tianfu Science City Sub-branch"
RONGCHENG_BANK = "Rongcheng Rural Commercial Bank, Hi-Tech Sub-branch"
GUARANTEE = "Chengdu Hi-Tech Financing Guarantee Co., Ltd."
BUREAU = "Chengdu Hi-Tech Zone Science and Technology Bureau"
GUIDE_FUND = "Tianfu Biomedical Industry Guide Fund"
LESSOR = "Sichuan Medical Equipment Leasing Co., Ltd."

KANGCHENG = "Kangcheng Cell Therapeutics Co., Ltd."
SHURUI = "Shurui AI Imaging Diagnostics Co., Ltd."
JINSHA = "Jinsha Health Big Data Co., Ltd."
RONGXIN = "Rongxin IVD Reagents Co., Ltd."
QINGCHENG = "Qingcheng Synthetic Biology Ltd."

BUSINESS_LICENCE = {"type": "business_licence", "name": "Business licence", "name_zh": "营业执照", "required": True}
STATEMENTS = {
    "type": "financial_statements",
    "name": "Audited financial statements (last two years)",
    "name_zh": "近两年经审计的财务报表",
    "required": True,
}
TAX_RECORDS = {"type": "tax_records", "name": "Tax payment records", "name_zh": "纳税记录", "required": True}
BUSINESS_PLAN = {"type": "business_plan", "name": "Business plan", "name_zh": "商业计划书", "required": False}
SECTORS = ["biomedicine", "medical_devices", "ivd", "health_it", "synthetic_biology"]


@dataclass(frozen=True)
class DemoProduct:
    """A product as ``POST /products`` takes it (without providers) and its providers by
    organisation name with their roles."""

    body: Mapping[str, Any]
    providers: tuple[tuple[str, str | None], ...] = ()


def subsidy_window(now: datetime) -> dict[str, Any]:
    """Opened two weeks before ``now`` at 09:00 park time, closing six weeks after at 17:00, five
    days of grace."""
    today = now.astimezone(PARK_TZ).date()
    opens = datetime.combine(today - timedelta(days=14), time(9), tzinfo=PARK_TZ)
    closes = datetime.combine(today + timedelta(days=42), time(17), tzinfo=PARK_TZ)
    return {"opens_at": opens.isoformat(), "closes_at": closes.isoformat(), "grace_days": 5}


def products(now: datetime) -> tuple[DemoProduct, ...]:
    """The park's products: a subsidy call, a guaranteed loan, a guide fund, a lease, an IP-pledge loan."""
    return (
        DemoProduct(
            {
                "code": "rd_subsidy_call",
                "kind": "subsidy",
                "name": "Hi-Tech Zone R&D subsidy call",
                "name_zh": "高新区研发费用补贴申报",
                "description": "Up to 500,000 yuan towards last year's R&D spending, for life-science companies "
                "with two years in the zone.",
                "description_zh": "对入区满两年的生命科学企业，按上年度研发投入给予最高50万元补贴。",
                "amount_min": "50000.00",
                "amount_max": "500000.00",
                "term_min": 1,
                "term_max": 1,
                "eligibility": {"sectors": SECTORS, "min_years_in_park": 2},
                "checklist": [BUSINESS_LICENCE, STATEMENTS, TAX_RECORDS],
                "window": subsidy_window(now),
                "position": 1,
            },
            ((BUREAU, "grantor"),),
        ),
        DemoProduct(
            {
                "code": "sme_guaranteed_loan",
                "kind": "guaranteed_loan",
                "name": "Science-and-technology SME guaranteed loan",
                "name_zh": "科技型中小企业担保贷款",
                "description": "A working-capital loan of a partner bank, backed by the Hi-Tech guarantee company.",
                "description_zh": "合作银行发放的流动资金贷款，由高新融资担保公司提供担保。",
                "amount_min": "300000.00",
                "amount_max": "10000000.00",
                "term_min": 6,
                "term_max": 36,
                "rate_min": "3.45",
                "rate_max": "5.8",
                "repayment_method": "equal_instalments",
                "fees": [{"kind": "guarantee", "basis": "percent_per_year", "value": "1.2", "timing": "upfront"}],
                "eligibility": {"min_years_in_park": 1, "revenue": {"min": "2000000.00"}},
                "checklist": [BUSINESS_LICENCE, STATEMENTS, TAX_RECORDS, BUSINESS_PLAN],
                "position": 2,
            },
            ((SHUDU_BANK, "lender"), (RONGCHENG_BANK, "lender"), (GUARANTEE, "guarantor")),
        ),
        DemoProduct(
            {
                "code": "biomedical_guide_fund",
                "kind": "guide_fund",
                "name": "Biomedical industry guide fund",
                "name_zh": "生物医药产业引导基金",
                "description": "Equity for clinical-stage companies, beside private investors.",
                "description_zh": "与社会资本共同投资临床阶段企业的股权资金。",
                "amount_min": "2000000.00",
                "amount_max": "30000000.00",
                "term_min": 36,
                "term_max": 84,
                "eligibility": {"sectors": ["biomedicine", "medical_devices"], "employees": {"min": 20}},
                "checklist": [BUSINESS_LICENCE, STATEMENTS, {**BUSINESS_PLAN, "required": True}],
                "position": 3,
            },
            ((GUIDE_FUND, "investor"),),
        ),
        DemoProduct(
            {
                "code": "lab_equipment_lease",
                "kind": "leasing",
                "name": "Laboratory equipment finance lease",
                "name_zh": "实验室设备融资租赁",
                "description": "Sequencers, imaging and GMP equipment leased over up to five years.",
                "description_zh": "测序仪、影像设备及GMP设备融资租赁，期限最长五年。",
                "amount_min": "200000.00",
                "amount_max": "8000000.00",
                "term_min": 12,
                "term_max": 60,
                "rate_min": "5.2",
                "rate_max": "7.5",
                "repayment_method": "equal_instalments",
                "fees": [{"kind": "service", "basis": "percent", "value": "1.5", "timing": "upfront"}],
                "eligibility": {"min_years_in_park": 1},
                "checklist": [
                    BUSINESS_LICENCE,
                    STATEMENTS,
                    {
                        "type": "equipment_quote",
                        "name": "Supplier's quotation",
                        "name_zh": "设备供应商报价单",
                        "required": True,
                    },
                ],
                "position": 4,
            },
            ((LESSOR, "lessor"),),
        ),
        DemoProduct(
            {
                "code": "ip_pledge_loan",
                "kind": "ip_pledge_loan",
                "name": "IP-pledge loan",
                "name_zh": "知识产权质押贷款",
                "description": "A loan secured by granted patents, valued by an appraisal agency.",
                "description_zh": "以经评估的已授权专利质押担保的贷款。",
                "amount_min": "500000.00",
                "amount_max": "5000000.00",
                "term_min": 12,
                "term_max": 36,
                "rate_min": "3.6",
                "rate_max": "5.2",
                "repayment_method": "interest_only",
                "fees": [{"kind": "arrangement", "basis": "flat", "value": "5000.00", "timing": "upfront"}],
                "eligibility": {"min_granted_patents": 1},
                "checklist": [
                    BUSINESS_LICENCE,
                    STATEMENTS,
                    {
                        "type": "patent_certificates",
                        "name": "Patent certificates",
                        "name_zh": "专利证书",
                        "required": True,
                    },
                ],
                "position": 5,
            },
            ((SHUDU_BANK, "lender"),),
        ),
    )


@dataclass(frozen=True)
class DemoProfile:
    organisation: str
    details: Mapping[str, Any] = field(default_factory=dict)


PROFILES = (
    DemoProfile(
        KANGCHENG,
        {
            "sector": "biomedicine",
            "moved_in_on": "2021-05-10",
            "annual_revenue": "18600000.00",
            "employees": 95,
            "granted_patents": 6,
            "credit_code": "91510100MA6CKC2N1L",
        },
    ),
    DemoProfile(
        SHURUI,
        {
            "sector": "health_it",
            "moved_in_on": "2023-09-01",
            "annual_revenue": "4200000.00",
            "employees": 38,
            "granted_patents": 2,
            "credit_code": "91510100MA62XR4T52",
        },
    ),
    DemoProfile(
        JINSHA,
        {
            "sector": "health_it",
            "moved_in_on": "2022-03-15",
            "annual_revenue": "9800000.00",
            "employees": 60,
            "granted_patents": 0,
            "credit_code": "91510100MA6CJH2B3U",
        },
    ),
    DemoProfile(
        RONGXIN,
        {
            "sector": "ivd",
            "moved_in_on": "2020-11-20",
            "annual_revenue": "26500000.00",
            "employees": 140,
            "granted_patents": 11,
            "credit_code": "91510100MA6CRX3C4J",
        },
    ),
    DemoProfile(
        QINGCHENG,
        {
            "sector": "synthetic_biology",
            "moved_in_on": "2026-05-06",  # new in the park: not a year yet
            "annual_revenue": "800000.00",
            "employees": 12,
            "granted_patents": 1,
            "credit_code": "91510100MA6CQC4E5T",
        },
    ),
)


def seed(settings: Settings, organisations: Mapping[str, str], *, now: datetime | None = None) -> list[str]:
    """Load the products and the profiles into the (migrated) finance database; returns the
    lines to print."""
    db = database(settings)
    now = now or utcnow()
    lines = ["Finance:"]
    added, skipped = 0, []
    for demo in products(now):
        code = demo.body["code"]
        with db.reading() as session:
            if session.scalar(select(Product.id).where(Product.code == code)) is not None:
                continue
        missing = [name for name, _role in demo.providers if name not in organisations]
        if missing:
            skipped.append(f"{code} (no {', '.join(missing)})")
            continue
        with db.unit_of_work(correlationid="seed-finance") as uow:
            product = save_product(SaveProduct(SEEDER, dict(demo.body)), uow=uow)
            uow.session.add_all(
                ProductProvider(product_id=product["id"], partner_org_id=organisations[name], role=role)
                for name, role in demo.providers
            )
            uow.commit()
        added += 1
    lines.append(f"  products: {added} added")
    lines.extend(f"  product skipped: {why}" for why in skipped)
    profiles = 0
    for demo_profile in PROFILES:
        org_id = organisations.get(demo_profile.organisation)
        if org_id is None:
            lines.append(f"  profile skipped: no {demo_profile.organisation}")
            continue
        with db.reading() as session:
            if session.get(CompanyProfile, org_id) is not None:
                continue
        owner = Principal(subject=SEEDER.subject, org_id=org_id, org_kind="tenant", roles=frozenset({"tenant_admin"}))
        details = {**demo_profile.details, "moved_in_on": date.fromisoformat(demo_profile.details["moved_in_on"])}
        with db.unit_of_work(correlationid="seed-finance") as uow:
            save_profile(SaveProfile(owner, org_id, details), uow=uow)
            uow.commit()
        profiles += 1
    lines.append(f"  company profiles: {profiles} added")
    return lines
