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

With ``users`` (the demo users by username, as their tokens name them), the seed also plays demo
applications in every state through the handlers the API runs (:func:`seed_applications`): one
unit of work per step, committed as a view commits it, so the numbers, audit trail, events,
decisions and maker-checker records are what the live service writes. ``identity_events`` (the
gateway's ``identity.organisation.*`` envelopes) are handed to finance's inbox first, so the
tenants' names are in finance's directory (a patent's holder is checked against them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from services.finance.commands.applications import ActOnApplication, DraftApplication
from services.finance.commands.documents import AddPatent, UploadDocument, UploadedFile
from services.finance.commands.offers import AnswerOffer, ApproveSubsidy, MakeOffer
from services.finance.commands.payouts import ApproveDisbursement, CloseApplication, RecordDisbursement, SignContract
from services.finance.commands.products import SaveProduct, SaveProfile
from services.finance.commands.reviews import ActOnReview
from services.finance.handlers.applications import act_on_application, draft_application
from services.finance.handlers.documents import add_patent, upload_document
from services.finance.handlers.offers import answer_offer, approve_subsidy, make_offer
from services.finance.handlers.payouts import (
    approve_disbursement,
    close_application,
    record_disbursement,
    sign_contract,
)
from services.finance.handlers.products import save_product, save_profile
from services.finance.handlers.reviews import act_on_review
from services.finance.models import Application, CompanyProfile, DocumentBlob, Product, ProductProvider, database
from services.finance.worker import participant
from shared.clock import PARK_TZ, utcnow
from shared.files.store import configured_store
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


def seed(
    settings: Settings,
    organisations: Mapping[str, str],
    users: Mapping[str, Principal] | None = None,
    identity_events: Sequence[str | Mapping[str, Any]] = (),
    *,
    now: datetime | None = None,
) -> list[str]:
    """Load the products and the profiles into the (migrated) finance database, and with
    ``users`` the demo applications (:func:`seed_applications`); returns the lines to print."""
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
    if users is not None:
        inbox = participant(settings).inbox  # the worker's own inbox: the bus later finds them handled
        assert inbox is not None, "finance's participant has an inbox"
        for envelope in identity_events:
            inbox.deliver(envelope)
        lines.extend(seed_applications(settings, organisations, users))
    return lines


# The demo applications: one in every state ---------------------------------------------------------
#
# Each is played through the handlers the API runs, one unit of work per step, by the demo users
# who would take the step (a tenant drafts and submits, the desk pre-reviews and routes, the banks
# review and offer, the tenant's administrator accepts, a second person approves a tranche). The
# steps run now: the document, patent and payout handlers take no time of their own.

DEMO_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
DEMO_USERS = ("alice", "bob", "carol", "desk", "bank", "banker", "guarantor", "bureau", "bureau2")
KANGCHENG_ZH = "成都康晟细胞治疗有限公司"


@dataclass(frozen=True)
class DemoApplication:
    """A demo application: its ``purpose`` (unique: the seed's mark that it exists), the tenant
    user who drafts it, its product's code, amount and term, and the state it is played to."""

    purpose: str
    user: str
    product: str
    amount: str
    term_months: int
    state: str


DEMO_APPLICATIONS = (
    DemoApplication("Working capital for the CAR-T pilot line", "bob", "sme_guaranteed_loan", "800000.00", 24, "draft"),
    DemoApplication("A CT reconstruction GPU cluster", "carol", "lab_equipment_lease", "1200000.00", 36, "submitted"),
    DemoApplication("Hiring for the imaging AI launch", "carol", "sme_guaranteed_loan", "2000000.00", 24, "pre_review"),
    DemoApplication("A second GMP cleanroom", "alice", "sme_guaranteed_loan", "3000000.00", 36, "info_requested"),
    DemoApplication("Raw materials for clinical batches", "alice", "sme_guaranteed_loan", "1500000.00", 24, "offered"),
    DemoApplication("Scaling the imaging cloud", "carol", "sme_guaranteed_loan", "1000000.00", 12, "disbursing"),
    DemoApplication("Last year's cell-therapy R&D", "alice", "rd_subsidy_call", "300000.00", 1, "disbursed"),
    DemoApplication("Pledging the CAR-T expansion patent", "alice", "ip_pledge_loan", "2000000.00", 24, "routed"),
    DemoApplication("A sequencer for the AI lab", "carol", "lab_equipment_lease", "600000.00", 24, "withdrawn"),
    DemoApplication("Bridge to the Series B", "alice", "sme_guaranteed_loan", "500000.00", 12, "closed"),
)


class _Player:
    """Plays steps through the handlers, each in its own committed unit of work."""

    def __init__(self, settings: Settings, users: Mapping[str, Principal], organisations: Mapping[str, str]):
        self.settings = settings
        self.db = database(settings)
        self.users = users
        self.organisations = organisations
        self.store = configured_store(settings.finance_files, settings.var_dir, DocumentBlob)

    def step(self, handler: Callable[..., Any], command: Any, **more: Any) -> Any:
        with self.db.unit_of_work(correlationid="seed-finance") as uow:
            answer = handler(command, uow=uow, **more)
            uow.commit()
        return answer

    def upload(self, user: str, application_id: str, doc_type: str) -> None:
        file = UploadedFile(f"{doc_type}.pdf", DEMO_PDF)
        self.step(upload_document, UploadDocument(self.users[user], application_id, doc_type, file), store=self.store)

    def act(self, user: str, application_id: str, action: str, **fields: Any) -> None:
        self.step(act_on_application, ActOnApplication(self.users[user], application_id, action, **fields))

    def review(self, user: str, application_id: str, bank: str, action: str, **fields: Any) -> None:
        partner = self.organisations[bank]
        self.step(act_on_review, ActOnReview(self.users[user], application_id, partner, action, **fields))

    def offer(self, user: str, application_id: str, demo: DemoApplication, *, rate: str, fees: tuple[Any, ...]) -> str:
        expires = utcnow() + timedelta(days=21)
        command = MakeOffer(
            self.users[user],
            application_id,
            demo.amount,
            rate,
            demo.term_months,
            "equal_instalments",
            expires,
            fees,
            CONDITIONS,
        )
        return str(self.step(make_offer, command)["id"])

    def pay(self, maker: str, checker: str, application_id: str, amount: str, reference: str) -> None:
        today = utcnow().astimezone(PARK_TZ).date()
        tranche = self.step(
            record_disbursement, RecordDisbursement(self.users[maker], application_id, amount, today, reference)
        )
        self.step(approve_disbursement, ApproveDisbursement(self.users[checker], application_id, str(tranche["id"])))


CONDITIONS = "Guaranteed by the Hi-Tech guarantee company; the loan pays suppliers directly."
GUARANTEE_FEE = ({"kind": "guarantee", "basis": "percent_per_year", "value": "1.2", "timing": "upfront"},)


def _play(player: _Player, demo: DemoApplication, product_id: str) -> None:
    """Drive one application from its draft to ``demo.state``."""
    tenant = player.users[demo.user]
    admin = "alice" if demo.user in ("alice", "bob") else "carol"
    draft = DraftApplication(tenant, product_id, demo.amount, demo.term_months, demo.purpose)
    application_id = str(player.step(draft_application, draft)["id"])
    if demo.state == "draft":
        player.upload(demo.user, application_id, "business_licence")  # the rest still to come
        return
    with player.db.reading() as session:
        product = session.get(Product, product_id)
        assert product is not None
        required = [item["type"] for item in product.checklist or [] if item.get("required")]
    for doc_type in required:
        player.upload(demo.user, application_id, doc_type)
    if demo.product == "ip_pledge_loan":
        today = utcnow().astimezone(PARK_TZ).date()
        patent = {
            "number": "ZL202010566088.9",
            "title": "A method of expanding CAR-T cells",
            "holder": KANGCHENG_ZH,
            "granted_on": today - timedelta(days=700),
            "expires_on": today + timedelta(days=3650),
            "fees_paid_until": today + timedelta(days=200),
            "existing_pledges": 0,
        }
        player.step(add_patent, AddPatent(tenant, application_id, patent))
    player.act(admin, application_id, "submit")
    if demo.state == "submitted":
        return
    if demo.state == "withdrawn":
        player.act(admin, application_id, "withdraw", reason="The supplier's price changed; we will apply again.")
        return
    player.act("desk", application_id, "start_pre_review")
    if demo.state == "pre_review":
        return
    if demo.product == "rd_subsidy_call":
        player.act("desk", application_id, "route", partner_org_ids=(player.organisations[BUREAU],))
        player.review("bureau", application_id, BUREAU, "start_review")
        player.step(approve_subsidy, ApproveSubsidy(player.users["bureau"], application_id, "280000.00"))
        player.pay("bureau", "bureau2", application_id, "280000.00", "CDHT-SUB-2026-0117")
        return
    partners = [SHUDU_BANK] if demo.product == "ip_pledge_loan" else [SHUDU_BANK, RONGCHENG_BANK]
    if demo.state == "info_requested":  # the guarantee company weighs the big one beside the banks
        partners.append(GUARANTEE)
    player.act("desk", application_id, "route", partner_org_ids=tuple(player.organisations[p] for p in partners))
    player.review("bank", application_id, SHUDU_BANK, "start_review")
    if demo.state == "routed":
        return
    player.review("banker", application_id, RONGCHENG_BANK, "start_review")
    if demo.state == "info_requested":
        questions = ("What share of the cleanroom's cost do you finance yourselves?",)
        player.review("bank", application_id, SHUDU_BANK, "request_info", questions=questions)
        player.review("guarantor", application_id, GUARANTEE, "start_review")
        return
    shudu = player.offer("bank", application_id, demo, rate="4.35", fees=GUARANTEE_FEE)
    if demo.state == "offered":
        player.offer("banker", application_id, demo, rate="3.95", fees=())
        return
    player.review("banker", application_id, RONGCHENG_BANK, "decline", reason_code="credit_history")
    player.step(answer_offer, AnswerOffer(player.users[admin], shudu, "accept"))
    today = utcnow().astimezone(PARK_TZ).date()
    contract = f"SDB-KJD-{today.year}-{demo.amount[:4]}"
    player.step(sign_contract, SignContract(player.users["bank"], application_id, contract, today))
    if demo.state == "disbursing":
        player.pay("bank", "desk", application_id, "400000.00", "SDB-LN-0001")
        return
    player.pay("bank", "desk", application_id, demo.amount, "SDB-LN-0002")
    player.step(close_application, CloseApplication(player.users["desk"], application_id))


def seed_applications(
    settings: Settings, organisations: Mapping[str, str], users: Mapping[str, Principal]
) -> list[str]:
    """Play :data:`DEMO_APPLICATIONS` that are not there yet (by purpose) through the handlers;
    skipped whole, with a line, when a demo user, a product or a partner is missing."""
    missing = [name for name in DEMO_USERS if name not in users]
    missing += [name for name in (SHUDU_BANK, RONGCHENG_BANK, GUARANTEE, BUREAU) if name not in organisations]
    if missing:
        return [f"  applications skipped: no {', '.join(missing)}"]
    player = _Player(settings, users, organisations)
    with player.db.reading() as session:
        ids = {code: product_id for code, product_id in session.execute(select(Product.code, Product.id))}
        there = set(session.scalars(select(Application.purpose)))
    added = 0
    for demo in DEMO_APPLICATIONS:
        if demo.purpose in there or demo.product not in ids:
            continue
        _play(player, demo, ids[demo.product])
        added += 1
    return [f"  applications: {added} added"]
