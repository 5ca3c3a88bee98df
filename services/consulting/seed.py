"""The park's consulting catalogue as demo data (docs/PARK.md, "Services the park brokers"), the
business calendar's default hours and official years, and the categories the demo firms serve.

``seed(settings, organisations)`` is idempotent: a category or an item is added only when no row
has its code, a firm's category only when the firm does not declare it yet, the hours only when
park admin never set them, a year only when the calendar does not hold it; what exists is left as
it is (an administrator's changes stay). Item ids are derived from their codes (UUID v5), so they
are the same on every machine: :data:`ITEM_IDS` and the constants below name them for the demo
cases another seed submits. Every item's intake form, SLA policy and fee range go through the
same rules as the API's (:mod:`services.consulting.rules.intake`, :mod:`.rules.catalogue`).

``organisations`` maps the gateway's organisation names to their ids (the CLI reads them from
the gateway's database); a firm missing there is reported and skipped. Firm categories are
written straight to the table: the firms reach consulting's directory through identity's events,
which may still be on their way when the seed runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from services.consulting.commands.cases import ActOnCase, SubmitCase
from services.consulting.commands.messages import PostMessage, UploadedFile
from services.consulting.commands.quotes import AnswerQuote, ProposeQuote
from services.consulting.handlers.calendar import keep_official_years
from services.consulting.handlers.cases import act_on_case, submit_case
from services.consulting.handlers.messages import post_message
from services.consulting.handlers.quotes import answer_quote, propose_quote
from services.consulting.handlers.storage import AttachmentStore, configured_store
from services.consulting.models import (
    CalendarSettings,
    Case,
    Category,
    FirmCategory,
    ServiceItem,
    database,
    directory,
)
from services.consulting.queries.calendar import DEFAULT_HOURS, calendar_warnings, held_years, park_today
from services.consulting.rules.catalogue import PRIORITIES, check_fee_range, check_sla_policy
from services.consulting.rules.intake import check_intake_fields
from services.consulting.worker import participant
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.principal import Principal
from shared.settings import Settings

NAMESPACE = uuid.UUID("5d0c7a3e-2b8f-4f61-9a57-3c1e0b6f2d94")
SEEDER = "system:seed"


def item_id(code: str) -> str:
    """The id of the demo item ``code``: the same on every machine."""
    return str(uuid.uuid5(NAMESPACE, f"consulting-item:{code}"))


# SLA policies -----------------------------------------------------------------------------------

_SCALE = {"low": Decimal(2), "normal": Decimal(1), "high": Decimal("0.5"), "urgent": Decimal("0.25")}


def sla_policy(first_response: int, resolution: int, warn_share: str = "0.8") -> dict[str, Any]:
    """A policy from a normal case's targets in business minutes: low twice as long, high half,
    urgent a quarter. The firm owes the same first response (its clock starts at assignment)
    and a resolution 10 % sooner than the park promises the tenant, the park's margin."""
    targets = {}
    for priority in PRIORITIES:
        first = max(int(first_response * _SCALE[priority]), 15)
        whole = max(int(resolution * _SCALE[priority]), first)
        targets[priority] = {
            "tenant": {"first_response": first, "resolution": whole},
            "firm": {"first_response": first, "resolution": max(int(whole * Decimal("0.9")), first)},
        }
    return check_sla_policy({"warn_share": warn_share, "targets": targets})


DAY = 450  # business minutes of a working day with the default hours (09:00-12:00, 13:30-18:00)
DESK_SERVICE = sla_policy(120, 3 * DAY)
"""The park's own desk services (registration, social insurance): 2 working hours, 3 working days."""
PROFESSIONAL = sla_policy(240, 10 * DAY)
"""Tax, legal and HR work by a firm: 4 working hours, 10 working days."""
LONG_WORK = sla_policy(DAY, 30 * DAY, warn_share="0.75")
"""IP and biomedical outsourcing, where the answer is a study plan or a filing: 1 working day, 30."""


# Intake fields ----------------------------------------------------------------------------------


def field_(code: str, label: str, label_zh: str, kind: str, required: bool = False, **more: Any) -> dict[str, Any]:
    return {"code": code, "label": label, "label_zh": label_zh, "type": kind, "required": required, **more}


def choices(*pairs: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"code": c, "label": label, "label_zh": label_zh} for c, label, label_zh in pairs]


CREDIT_CODE = field_(
    "credit_code",
    "Unified social credit code",
    "统一社会信用代码",
    "credit_code",
    True,
    help="The 18-character code on your business licence.",
    help_zh="营业执照上的18位代码。",
)
CONTACT_PHONE = field_("contact_phone", "Contact phone", "联系电话", "phone", True)
DEADLINE = field_("deadline", "Needed by", "期望完成日期", "date")


# The catalogue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoCategory:
    code: str
    name: str
    name_zh: str
    description: str
    description_zh: str
    routing: str
    position: int


@dataclass(frozen=True)
class DemoItem:
    category: str
    code: str
    name: str
    name_zh: str
    description: str
    description_zh: str
    fee_guidance: str
    fee_guidance_zh: str
    fee_from: str | None
    fee_to: str | None
    quote_required: bool
    sla_policy: dict[str, Any]
    intake_fields: list[dict[str, Any]] = field(default_factory=list)


CATEGORIES = (
    DemoCategory(
        "industry_and_commerce",
        "Industry and commerce",
        "工商服务",
        "Company registration and changes of registration, with the market regulation bureau.",
        "公司注册及变更登记，对接市场监督管理局。",
        "round_robin",
        1,
    ),
    DemoCategory(
        "taxation",
        "Taxation",
        "财税服务",
        "Tax registration, invoicing, annual filings and high-tech enterprise certification.",
        "税务登记、发票、年度汇算清缴及高新技术企业认定。",
        "manual",
        2,
    ),
    DemoCategory(
        "legal",
        "Legal affairs",
        "法律服务",
        "Contract review and legal advice from the park's partner law firms.",
        "园区合作律师事务所提供合同审查和法律咨询。",
        "manual",
        3,
    ),
    DemoCategory(
        "intellectual_property",
        "Intellectual property",
        "知识产权",
        "Patents, trademarks and IP strategy.",
        "专利、商标和知识产权战略。",
        "round_robin",
        4,
    ),
    DemoCategory(
        "human_resources",
        "Human resources",
        "人力资源",
        "Recruiting, social insurance and talent programmes.",
        "招聘、社保及人才计划申报。",
        "manual",
        5,
    ),
    DemoCategory(
        "biomedical",
        "Biomedical R&D and manufacturing",
        "生物医药研发与生产",
        "The whole biomedical chain: CRO research, safety and pharmacology testing, clinical trials, "
        "regulatory filings, CMO/CDMO manufacturing and CSO marketing. Paid fee-for-service (FFS) or "
        "full-time-equivalent (FTE), sometimes with milestone fees.",
        "覆盖生物医药全链条：CRO研究、安全性与药理毒理评价、临床试验、注册申报、CMO/CDMO生产及CSO营销。"
        "按服务收费（FFS）或按全职人力（FTE）计费，部分合同另含里程碑付款。",
        "least_load",
        6,
    ),
)

ITEMS = (
    # Industry and commerce: the park's own desk works with the bureau, free of charge.
    DemoItem(
        "industry_and_commerce",
        "company_registration",
        "Company registration",
        "公司注册",
        "Name check, articles of association and the business licence, with the park's address.",
        "企业名称核准、公司章程及营业执照办理，可使用园区注册地址。",
        "Free of charge for tenants; official fees at cost.",
        "入驻企业免费办理；官方规费按实收取。",
        None,
        None,
        False,
        DESK_SERVICE,
        [
            field_(
                "proposed_names", "Proposed company names (up to three)", "拟用企业名称（最多三个）", "long_text", True
            ),
            field_("business_scope", "Business scope", "经营范围", "long_text", True, max_length=2000),
            field_(
                "registered_capital",
                "Registered capital (10,000 yuan)",
                "注册资本（万元）",
                "number",
                True,
                min="1",
                max="1000000",
            ),
            field_("legal_representative", "Legal representative", "法定代表人", "text", True),
            CONTACT_PHONE,
        ],
    ),
    DemoItem(
        "industry_and_commerce",
        "registration_change",
        "Change of registration",
        "工商变更登记",
        "Changes of name, address, capital, legal representative, scope or shareholders.",
        "名称、地址、注册资本、法定代表人、经营范围或股东变更。",
        "Free of charge for tenants; official fees at cost.",
        "入驻企业免费办理；官方规费按实收取。",
        None,
        None,
        False,
        DESK_SERVICE,
        [
            CREDIT_CODE,
            field_(
                "changes",
                "What changes",
                "变更事项",
                "multi_choice",
                True,
                choices=choices(
                    ("name", "Company name", "企业名称"),
                    ("address", "Registered address", "注册地址"),
                    ("capital", "Registered capital", "注册资本"),
                    ("legal_representative", "Legal representative", "法定代表人"),
                    ("scope", "Business scope", "经营范围"),
                    ("shareholders", "Shareholders", "股东"),
                ),
            ),
            field_("details", "Details", "具体说明", "long_text"),
        ],
    ),
    # Taxation.
    DemoItem(
        "taxation",
        "annual_tax_filing",
        "Annual corporate income tax filing",
        "企业所得税年度汇算清缴",
        "The annual reconciliation, with R&D super deduction and high-tech preferential rates.",
        "年度汇算清缴，含研发费用加计扣除及高新技术企业优惠税率。",
        "3,000 to 15,000 yuan depending on revenue and transactions; quoted first.",
        "按营业收入和业务量收费，3000至15000元，先报价。",
        "3000.00",
        "15000.00",
        True,
        PROFESSIONAL,
        [
            CREDIT_CODE,
            field_("fiscal_year", "Fiscal year", "纳税年度", "integer", True, min=2000, max=2100),
            field_("annual_revenue", "Annual revenue (yuan)", "年度营业收入（元）", "number", True, min="0"),
            field_("high_tech_enterprise", "Certified high-tech enterprise", "已认定高新技术企业", "boolean", True),
            field_("rd_super_deduction", "Claiming R&D super deduction", "申报研发费用加计扣除", "boolean"),
        ],
    ),
    DemoItem(
        "taxation",
        "tax_registration",
        "Tax registration and invoicing set-up",
        "税务登记与发票申领",
        "Taxpayer registration, the tax control device and the first invoices.",
        "税务登记、税控设备及首次发票申领。",
        "800 to 2,000 yuan; quoted first.",
        "800至2000元，先报价。",
        "800.00",
        "2000.00",
        True,
        PROFESSIONAL,
        [
            CREDIT_CODE,
            field_(
                "taxpayer_type",
                "Taxpayer type",
                "纳税人类型",
                "choice",
                True,
                choices=choices(
                    ("small_scale", "Small-scale taxpayer", "小规模纳税人"),
                    ("general", "General taxpayer", "一般纳税人"),
                ),
            ),
            field_("finance_contact_email", "Finance contact email", "财务联系人邮箱", "email", True),
        ],
    ),
    DemoItem(
        "taxation",
        "high_tech_certification",
        "High-tech enterprise certification",
        "高新技术企业认定",
        "The application for the 15 % rate: IP, R&D spending and staff ratios checked first.",
        "申请15%优惠税率：先核查知识产权、研发投入及科技人员占比。",
        "20,000 to 50,000 yuan; quoted after a free pre-assessment.",
        "2万至5万元；免费预评估后报价。",
        "20000.00",
        "50000.00",
        True,
        PROFESSIONAL,
        [
            CREDIT_CODE,
            field_("patents_held", "Invention patents held", "已授权发明专利数", "integer", True, min=0, max=10000),
            field_("rd_staff", "R&D staff", "研发人员数", "integer", True, min=0, max=100000),
            field_("total_staff", "Total staff", "职工总数", "integer", True, min=1, max=100000),
            field_("last_year_revenue", "Last year's revenue (yuan)", "上年度营业收入（元）", "number", min="0"),
        ],
    ),
    # Legal affairs.
    DemoItem(
        "legal",
        "labour_contract_review",
        "Labour contract review",
        "劳动合同审查",
        "Employment contracts, non-compete and confidentiality agreements, staff handbooks.",
        "劳动合同、竞业限制和保密协议、员工手册审查。",
        "1,500 to 6,000 yuan per contract set; quoted first.",
        "每套合同1500至6000元，先报价。",
        "1500.00",
        "6000.00",
        True,
        PROFESSIONAL,
        [
            field_(
                "contract_type",
                "Contract type",
                "合同类型",
                "choice",
                True,
                choices=choices(
                    ("standard", "Standard employment", "标准劳动合同"),
                    ("fixed_term", "Fixed-term", "固定期限"),
                    ("non_compete", "Non-compete", "竞业限制"),
                    ("confidentiality", "Confidentiality", "保密协议"),
                    ("handbook", "Staff handbook", "员工手册"),
                ),
            ),
            field_("pages", "Pages", "页数", "integer", False, min=1, max=500),
            DEADLINE,
        ],
    ),
    DemoItem(
        "legal",
        "commercial_contract_review",
        "Commercial contract review",
        "商务合同审查",
        "Supply, licensing, research collaboration and outsourcing contracts, in Chinese or English.",
        "供货、许可、合作研发及外包合同审查，中英文均可。",
        "2,000 to 20,000 yuan depending on value and length; quoted first.",
        "按合同金额和篇幅收费，2000至20000元，先报价。",
        "2000.00",
        "20000.00",
        True,
        PROFESSIONAL,
        [
            field_("counterparty", "Counterparty", "合同相对方", "text", True),
            field_("contract_value", "Contract value (yuan)", "合同金额（元）", "number", min="0"),
            field_(
                "language",
                "Language",
                "合同语言",
                "choice",
                True,
                choices=choices(
                    ("zh", "Chinese", "中文"), ("en", "English", "英文"), ("both", "Bilingual", "中英双语")
                ),
            ),
            DEADLINE,
        ],
    ),
    DemoItem(
        "legal",
        "legal_consultation",
        "Legal consultation",
        "法律咨询",
        "A first hour with a partner lawyer, free for tenants.",
        "与合作律师的首小时咨询，入驻企业免费。",
        "The first hour is free; further work is quoted.",
        "首小时免费；后续服务另行报价。",
        "0.00",
        "0.00",
        False,
        PROFESSIONAL,
        [field_("question", "Your question", "咨询问题", "long_text", True, max_length=3000)],
    ),
    # Intellectual property.
    DemoItem(
        "intellectual_property",
        "patent_application",
        "Patent application",
        "专利申请",
        "Drafting and filing invention, utility model and design patents with CNIPA, and PCT.",
        "撰写并向国家知识产权局提交发明、实用新型和外观设计专利申请，以及PCT申请。",
        "5,000 to 30,000 yuan per application plus official fees; quoted first.",
        "每件5000至30000元，另加官方规费，先报价。",
        "5000.00",
        "30000.00",
        True,
        LONG_WORK,
        [
            field_(
                "patent_type",
                "Patent type",
                "专利类型",
                "choice",
                True,
                choices=choices(
                    ("invention", "Invention", "发明"),
                    ("utility_model", "Utility model", "实用新型"),
                    ("design", "Design", "外观设计"),
                    ("pct", "PCT international", "PCT国际申请"),
                ),
            ),
            field_("title", "Working title of the invention", "发明名称（暂定）", "text", True),
            field_("inventors", "Inventors", "发明人", "text", True),
            field_(
                "disclosed",
                "Already disclosed (paper, poster, talk)",
                "是否已公开（论文、海报、报告）",
                "boolean",
                True,
            ),
        ],
    ),
    DemoItem(
        "intellectual_property",
        "trademark_registration",
        "Trademark registration",
        "商标注册",
        "Search, filing and follow-up of a trademark in the classes you need.",
        "商标检索、申请及后续跟进。",
        "1,500 to 5,000 yuan per class; quoted first.",
        "每个类别1500至5000元，先报价。",
        "1500.00",
        "5000.00",
        True,
        LONG_WORK,
        [
            field_("mark", "The mark (word or description)", "商标（文字或图形描述）", "text", True),
            field_(
                "mark_type",
                "Kind of mark",
                "商标类型",
                "choice",
                True,
                choices=choices(
                    ("word", "Word", "文字"), ("logo", "Logo", "图形"), ("combined", "Word and logo", "文字加图形")
                ),
            ),
            field_(
                "classes",
                "Nice classes",
                "尼斯分类",
                "multi_choice",
                True,
                choices=choices(
                    ("class_1", "1 Chemicals", "第1类 化学品"),
                    ("class_5", "5 Pharmaceuticals", "第5类 药品"),
                    ("class_10", "10 Medical devices", "第10类 医疗器械"),
                    ("class_42", "42 Scientific services", "第42类 科学技术服务"),
                    ("class_44", "44 Medical services", "第44类 医疗服务"),
                ),
            ),
        ],
    ),
    DemoItem(
        "intellectual_property",
        "ip_strategy",
        "IP strategy and freedom to operate",
        "知识产权战略与自由实施分析",
        "Patent landscape, freedom-to-operate opinion and a filing strategy for your markets.",
        "专利地图、自由实施（FTO）意见及目标市场的布局策略。",
        "30,000 to 150,000 yuan; quoted after a scoping call.",
        "3万至15万元；沟通范围后报价。",
        "30000.00",
        "150000.00",
        True,
        LONG_WORK,
        [
            field_("technology", "The technology", "技术简介", "long_text", True),
            field_(
                "markets",
                "Markets",
                "目标市场",
                "multi_choice",
                True,
                choices=choices(
                    ("cn", "China", "中国"),
                    ("us", "United States", "美国"),
                    ("eu", "Europe", "欧洲"),
                    ("jp", "Japan", "日本"),
                ),
            ),
        ],
    ),
    DemoItem(
        "intellectual_property",
        "ip_valuation",
        "IP valuation",
        "知识产权评估",
        "An appraisal firm values the patents an IP-pledge loan pledges, with a signed report. Opened "
        "for you by the park's finance desk when your application asks for it.",
        "评估机构对知识产权质押贷款所质押的专利进行价值评估并出具评估报告。由园区金融服务台在您的申请需要时代为发起。",
        "Usually 0.3 to 1 % of the appraised value; agreed with the bank.",
        "通常为评估值的0.3%至1%，与银行协商确定。",
        None,
        None,
        False,
        PROFESSIONAL,
        [],
    ),
    # Human resources.
    DemoItem(
        "human_resources",
        "recruitment",
        "Recruitment of specialists",
        "专业人才招聘",
        "Search for scientists, QA/QC, regulatory and management staff.",
        "科研、质量、注册及管理人才寻访。",
        "Usually 15 to 25 % of the first year's salary; quoted first.",
        "通常为首年年薪的15%至25%，先报价。",
        None,
        None,
        True,
        PROFESSIONAL,
        [
            field_("position", "Position", "职位", "text", True),
            field_("headcount", "Headcount", "人数", "integer", True, min=1, max=100),
            field_("annual_salary", "Annual salary budget (yuan)", "年薪预算（元）", "number", min="0"),
            DEADLINE,
        ],
    ),
    DemoItem(
        "human_resources",
        "social_insurance",
        "Social insurance and housing fund accounts",
        "社保和公积金开户",
        "Opening the company's accounts and registering its staff.",
        "企业社保和住房公积金开户及员工参保登记。",
        "Free of charge for tenants.",
        "入驻企业免费办理。",
        None,
        None,
        False,
        DESK_SERVICE,
        [CREDIT_CODE, field_("employees", "Employees to register", "参保人数", "integer", True, min=1, max=10000)],
    ),
    DemoItem(
        "human_resources",
        "talent_programme",
        "Talent programme application",
        "人才计划申报",
        "Applications to the city's, the province's and national talent programmes.",
        "市级、省级及国家级人才计划申报。",
        "Free of charge for tenants.",
        "入驻企业免费办理。",
        None,
        None,
        False,
        DESK_SERVICE,
        [
            field_(
                "programme",
                "Programme",
                "人才计划",
                "choice",
                True,
                choices=choices(
                    ("city", "Chengdu city programme", "成都市人才计划"),
                    ("province", "Sichuan provincial programme", "四川省人才计划"),
                    ("national", "National programme", "国家级人才计划"),
                ),
            ),
            field_("candidate", "Candidate", "申报人", "text", True),
            DEADLINE,
        ],
    ),
    # Biomedical research and manufacturing.
    DemoItem(
        "biomedical",
        "cro_research",
        "Target research and lead screening (CRO)",
        "靶点研究与先导化合物筛选（CRO）",
        "Target validation, assay development, screening and hit-to-lead chemistry.",
        "靶点验证、方法开发、筛选及苗头化合物到先导化合物优化。",
        "Fee-for-service per study or full-time-equivalent teams; quoted per study.",
        "按项目收费（FFS）或按全职人力（FTE）计费；按项目报价。",
        None,
        None,
        True,
        LONG_WORK,
        [
            field_("target", "Target or pathway", "靶点或通路", "text", True),
            field_(
                "modality",
                "Modality",
                "药物类型",
                "choice",
                True,
                choices=choices(
                    ("small_molecule", "Small molecule", "小分子"),
                    ("antibody", "Antibody", "抗体"),
                    ("cell_therapy", "Cell therapy", "细胞治疗"),
                    ("gene_therapy", "Gene therapy", "基因治疗"),
                    ("other", "Other", "其他"),
                ),
            ),
            field_(
                "contract_model",
                "Contract model",
                "合作模式",
                "choice",
                True,
                choices=choices(
                    ("ffs", "Fee for service", "按项目收费"), ("fte", "Full-time equivalent", "按全职人力")
                ),
            ),
            field_("scope", "Scope and timeline", "研究范围和时间安排", "long_text"),
        ],
    ),
    DemoItem(
        "biomedical",
        "safety_pharmacology",
        "Safety and pharmacology testing",
        "安全性与药理毒理评价",
        "GLP toxicology, safety pharmacology and pharmacokinetics for an IND.",
        "支持IND申报的GLP毒理、安全药理及药代动力学研究。",
        "Quoted per study package.",
        "按研究包报价。",
        None,
        None,
        True,
        LONG_WORK,
        [
            field_(
                "studies",
                "Studies",
                "研究项目",
                "multi_choice",
                True,
                choices=choices(
                    ("acute_toxicity", "Acute toxicity", "急性毒性"),
                    ("repeat_dose", "Repeat-dose toxicity", "重复给药毒性"),
                    ("genotoxicity", "Genotoxicity", "遗传毒性"),
                    ("safety_pharmacology", "Safety pharmacology", "安全药理"),
                    ("pharmacokinetics", "Pharmacokinetics", "药代动力学"),
                ),
            ),
            field_(
                "species",
                "Species",
                "动物种属",
                "choice",
                True,
                choices=choices(
                    ("rodent", "Rodent", "啮齿类"), ("non_rodent", "Non-rodent", "非啮齿类"), ("both", "Both", "两者")
                ),
            ),
            field_("glp", "GLP compliance needed", "需要GLP合规", "boolean", True),
            field_("start", "Earliest start", "最早开始日期", "date"),
        ],
    ),
    DemoItem(
        "biomedical",
        "clinical_trial",
        "Clinical trial management",
        "临床试验管理",
        "Protocol, site selection, monitoring and data management, phases I to IV.",
        "I至IV期临床试验的方案设计、中心筛选、监查及数据管理。",
        "Quoted per trial; milestone fees usual.",
        "按试验报价，通常按里程碑付款。",
        None,
        None,
        True,
        LONG_WORK,
        [
            field_(
                "phase",
                "Phase",
                "试验分期",
                "choice",
                True,
                choices=choices(
                    ("phase_1", "Phase I", "I期"),
                    ("phase_2", "Phase II", "II期"),
                    ("phase_3", "Phase III", "III期"),
                    ("phase_4", "Phase IV", "IV期"),
                ),
            ),
            field_("indication", "Indication", "适应症", "text", True),
            field_("subjects", "Subjects planned", "计划受试者人数", "integer", min=1, max=100000),
            field_("sites", "Sites planned", "计划中心数", "integer", min=1, max=1000),
        ],
    ),
    DemoItem(
        "biomedical",
        "regulatory_filing",
        "Regulatory filing and audit support",
        "注册申报与核查支持",
        "IND, NDA and device registration dossiers with the NMPA, and GMP audit readiness.",
        "向国家药监局提交IND、NDA及医疗器械注册资料，并做好GMP核查准备。",
        "Quoted per dossier.",
        "按申报资料报价。",
        None,
        None,
        True,
        LONG_WORK,
        [
            field_(
                "filing",
                "Filing",
                "申报类型",
                "choice",
                True,
                choices=choices(
                    ("ind", "IND", "临床试验申请（IND）"),
                    ("nda", "NDA", "上市申请（NDA）"),
                    ("device", "Medical device registration", "医疗器械注册"),
                    ("gmp_audit", "GMP audit", "GMP核查"),
                ),
            ),
            field_("product", "Product", "产品", "text", True),
            DEADLINE,
        ],
    ),
    DemoItem(
        "biomedical",
        "cdmo_sourcing",
        "CMO/CDMO manufacturing sourcing",
        "CMO/CDMO生产外包",
        "Process development and GMP manufacturing of intermediates, APIs and finished dosage forms.",
        "中间体、原料药及制剂的工艺开发和GMP生产。",
        "Fee-for-service or FTE, with milestone fees from 500,000 to 50 million yuan; quoted per project.",
        "按项目（FFS）或全职人力（FTE）计费，里程碑付款50万至5000万元；按项目报价。",
        "500000.00",
        "50000000.00",
        True,
        LONG_WORK,
        [
            field_(
                "stage",
                "What is to be made",
                "生产内容",
                "choice",
                True,
                choices=choices(
                    ("intermediate", "Intermediate", "中间体"),
                    ("api", "Active pharmaceutical ingredient", "原料药"),
                    ("finished_dosage", "Finished dosage form", "制剂"),
                ),
            ),
            field_("dosage_form", "Dosage form", "剂型", "text"),
            field_("quantity_kg", "Quantity (kg)", "数量（公斤）", "number", min="0.001"),
            field_("gmp", "GMP grade needed", "需要GMP级别", "boolean", True),
        ],
    ),
    DemoItem(
        "biomedical",
        "cso_marketing",
        "Contract sales and marketing (CSO)",
        "合同销售组织（CSO）",
        "Market access and sales teams for a launched product.",
        "已上市产品的市场准入和销售团队服务。",
        "A share of sales, usually under 8 %; quoted per product.",
        "按销售额提成，通常低于8%；按产品报价。",
        None,
        None,
        True,
        LONG_WORK,
        [
            field_("product", "Product", "产品", "text", True),
            field_(
                "channels",
                "Channels",
                "渠道",
                "multi_choice",
                True,
                choices=choices(
                    ("hospital", "Hospitals", "医院"),
                    ("pharmacy", "Retail pharmacies", "零售药店"),
                    ("online", "Online", "线上"),
                ),
            ),
        ],
    ),
)
ITEM_IDS: Mapping[str, str] = {item.code: item_id(item.code) for item in ITEMS}
"""Each demo item's code → its id."""
COMPANY_REGISTRATION = ITEM_IDS["company_registration"]
ANNUAL_TAX_FILING = ITEM_IDS["annual_tax_filing"]
LABOUR_CONTRACT_REVIEW = ITEM_IDS["labour_contract_review"]
LEGAL_CONSULTATION = ITEM_IDS["legal_consultation"]
PATENT_APPLICATION = ITEM_IDS["patent_application"]
TRADEMARK_REGISTRATION = ITEM_IDS["trademark_registration"]
RECRUITMENT = ITEM_IDS["recruitment"]
CDMO_SOURCING = ITEM_IDS["cdmo_sourcing"]
SAFETY_PHARMACOLOGY = ITEM_IDS["safety_pharmacology"]

LAW_FIRM = "Tianfu Bridge Law Firm"
ACCOUNTING_FIRM = "Jinjiang Certified Public Accountants"
IP_AGENCY = "Rongzhi IP Agency Co., Ltd."
HR_AGENCY = "Shuguang Talent HR Services Co., Ltd."
CRO = "Jincheng Pharmacology and Safety Testing Co., Ltd."
CDMO = "Xiling BioPharma CDMO Co., Ltd."
FIRM_CATEGORIES: Mapping[str, tuple[str, ...]] = {
    LAW_FIRM: ("legal", "industry_and_commerce"),
    ACCOUNTING_FIRM: ("taxation", "industry_and_commerce"),
    IP_AGENCY: ("intellectual_property",),
    HR_AGENCY: ("human_resources",),
    CRO: ("biomedical",),
    CDMO: ("biomedical",),
}
"""The gateway's demo organisations (by name) and the categories each serves."""


def seed(
    settings: Settings,
    organisations: Mapping[str, str],
    users: Mapping[str, Principal] | None = None,
    identity_events: Sequence[str | Mapping[str, Any]] = (),
) -> list[str]:
    """Load the catalogue, the calendar and the firms' categories into the (migrated) consulting
    database; with ``users`` (the demo users by username, as their tokens name them), also the
    demo desk's cases (:func:`seed_cases`), after handing ``identity_events`` (the gateway's
    ``identity.organisation.*`` envelopes) to consulting's inbox so the firms are in its
    directory. Returns the lines to print."""
    db = database(settings)
    lines = ["Consulting:"]
    with db.unit_of_work(correlationid="seed-consulting") as uow:
        session = uow.session
        now = utcnow()
        added_categories = 0
        for demo in CATEGORIES:
            if session.get(Category, demo.code) is None:
                session.add(
                    Category(
                        code=demo.code,
                        name=demo.name,
                        name_zh=demo.name_zh,
                        description=demo.description,
                        description_zh=demo.description_zh,
                        routing=demo.routing,
                        position=demo.position,
                        active=True,
                        updated_at=now,
                    )
                )
                added_categories += 1
        session.flush()
        codes = set(session.scalars(select(ServiceItem.code)))
        added_items = 0
        for position, item in enumerate(ITEMS, start=1):
            if item.code in codes:
                continue
            fee_from = Decimal(item.fee_from) if item.fee_from is not None else None
            fee_to = Decimal(item.fee_to) if item.fee_to is not None else None
            check_fee_range(fee_from, fee_to)
            session.add(
                ServiceItem(
                    id=item_id(item.code),
                    category_code=item.category,
                    code=item.code,
                    name=item.name,
                    name_zh=item.name_zh,
                    description=item.description,
                    description_zh=item.description_zh,
                    intake_fields=check_intake_fields(item.intake_fields),
                    fee_guidance=item.fee_guidance,
                    fee_guidance_zh=item.fee_guidance_zh,
                    fee_from=fee_from,
                    fee_to=fee_to,
                    quote_required=item.quote_required,
                    sla_policy=item.sla_policy,
                    position=position,
                    active=True,
                    updated_at=now,
                )
            )
            added_items += 1
        lines.append(
            f"  catalogue: {len(CATEGORIES)} categories ({added_categories} new), "
            f"{len(ITEMS)} items ({added_items} new)"
        )

        if session.get(CalendarSettings, 1) is None:
            session.add(CalendarSettings(id=1, hours=DEFAULT_HOURS, updated_by=SEEDER, updated_at=now))
        session.flush()
        loaded = keep_official_years(uow=uow)
        lines.append(f"  business calendar: default hours; {loaded} official year(s) loaded")
        lines.extend(f"  warning: {text}" for text in calendar_warnings(held_years(session), park_today()))

        for name, categories in FIRM_CATEGORIES.items():
            org_id = organisations.get(name)
            if org_id is None:
                lines.append(f"  firm {name!r} is not in the directory: its categories are not declared")
                continue
            held = set(session.scalars(select(FirmCategory.category_code).where(FirmCategory.firm_org_id == org_id)))
            for code in categories:
                if code not in held:
                    session.add(
                        FirmCategory(firm_org_id=org_id, category_code=code, declared_by=SEEDER, declared_at=now)
                    )
            lines.append(f"  {name} serves {', '.join(categories)}")
        uow.commit()
    if users is not None:
        _deliver_directory(settings, identity_events)
        lines.extend(seed_cases(settings, organisations, users))
    return lines


# The demo desk: cases in every state ------------------------------------------------------------
#
# Each case is played through the handlers the API runs (submit, the lifecycle's actions, quotes,
# messages), one unit of work per step committed as a view commits it, at a time in the past
# (the commands' ``at``): the audit trail, the SLA clocks, the events and the case counter are
# what the live service would have written. Times are chosen so that only the forgotten case
# (:data:`FORGOTTEN`) has used up a target when the seed runs: the others' clocks run for less
# wall time than their targets' business time.

KANGCHENG_CREDIT_CODE = "91510100MA6CKC2N1L"
SHURUI_CREDIT_CODE = "91510100MA62XR4T52"
FORGOTTEN = "Social insurance accounts for six new lab technicians"
"""The subject of the case nobody triaged: submitted six days ago, past the desk's first response
(2 working hours) and resolution (3 working days), so the breach job escalates it."""


@dataclass(frozen=True)
class DemoStep:
    """One thing done to a demo case ``ago`` before the seed runs, by the demo user ``by``:
    a lifecycle action (``rules.CALLER_ACTIONS``), ``quote`` (the firm proposes ``fee``),
    ``accept_quote``/``reject_quote`` (the latest quote) or ``message`` (``visibility``, ``body``,
    ``files``: names of :data:`DEMO_FILES`). ``fields`` are the command's own (``firm`` names a
    firm of :data:`FIRM_CATEGORIES`)."""

    ago: timedelta
    by: str
    action: str
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoCase:
    """A case the demo user ``by`` submitted ``ago`` before the seed runs, then its ``steps``."""

    ago: timedelta
    by: str
    item: str
    subject: str
    description: str
    answers: Mapping[str, Any]
    priority: str = "normal"
    steps: tuple[DemoStep, ...] = ()


def demo_pdf(title: str) -> bytes:
    """A small, well-formed one-page PDF saying ``title`` (ASCII), with a correct cross-reference
    table, so any reader opens it."""
    text = title.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 72 770 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


DEMO_FILES: Mapping[str, bytes] = {
    "prior-art-search.pdf": demo_pdf("Prior art search: CAR-T manufacturing closed system (demo)"),
}


def _hours(n: float) -> timedelta:
    return timedelta(hours=n)


def _days(n: float, hours: float = 0) -> timedelta:
    return timedelta(days=n, hours=hours)


def _in_days(n: int) -> str:
    """A date ``n`` days after the park's today, as an intake form's date answer."""
    return (park_today() + timedelta(days=n)).isoformat()


def demo_cases() -> tuple[DemoCase, ...]:
    """The demo desk, oldest submission first (so the numbers follow the dates)."""
    return (
        DemoCase(
            _days(20),
            "bob",
            "legal_consultation",
            "Can a departing scientist take his lab notebooks?",
            "A senior scientist resigns next month. He asks to keep copies of his lab notebooks.",
            {"question": "Who owns lab notebooks written at work, and what may a departing employee copy?"},
            steps=(
                DemoStep(_days(20) - _hours(1), "desk", "triage"),
                DemoStep(_days(20) - _hours(1.2), "desk", "assign", {"firm": LAW_FIRM}),
                DemoStep(_days(20) - _hours(2), "lawyer", "accept"),
                DemoStep(_days(20) - _hours(2.1), "lawyer", "start"),
                DemoStep(
                    _days(18),
                    "lawyer",
                    "propose_solution",
                    {
                        "solution": "The notebooks belong to Kangcheng (work made in the course of employment). "
                        "He may keep nothing without written consent; remind him of his confidentiality duty."
                    },
                ),
                DemoStep(
                    _days(17),
                    "bob",
                    "accept_solution",
                    {"stars": 5, "comment": "Clear answer within two days, thank you."},
                ),
            ),
        ),
        DemoCase(
            _days(10),
            "carol",
            "company_registration",
            "Register a subsidiary for our imaging cloud",
            "A second company for the cloud service, at the park's address.",
            {
                "proposed_names": "Shurui Cloud Imaging Co., Ltd.",
                "business_scope": "Medical imaging software and cloud services.",
                "registered_capital": "500",
                "legal_representative": "Carol Zhang",
                "contact_phone": "13800138000",
            },
            steps=(DemoStep(_days(10) - _hours(0.5), "carol", "cancel"),),
        ),
        DemoCase(
            _days(6),
            "alice",
            "social_insurance",
            FORGOTTEN,
            "Six technicians start on Monday; their social insurance must be registered first.",
            {"credit_code": KANGCHENG_CREDIT_CODE, "employees": 6},
        ),
        DemoCase(
            _days(6, 2),
            "bob",
            "patent_application",
            "Patent for our closed-system CAR-T manufacturing process",
            "An invention from our process development team; we want to file before a conference in spring.",
            {
                "patent_type": "invention",
                "title": "Closed-system manufacturing of CAR-T cells",
                "inventors": "Bob Li, Wei Chen",
                "disclosed": False,
            },
            priority="high",
            steps=(
                # Intellectual property is routed round robin: triage hands it to the IP agency.
                DemoStep(_days(6, 1.5), "desk", "triage"),
                DemoStep(_days(6, 1), "ipagent", "accept"),
                DemoStep(
                    _days(5, 20),
                    "ipagent",
                    "quote",
                    {
                        "fee": "18000.00",
                        "description": "Drafting and filing one invention patent; official fees apart.",
                    },
                ),
                DemoStep(_days(5, 3), "bob", "accept_quote"),
                DemoStep(_days(5, 2), "ipagent", "start"),
                DemoStep(
                    _days(4),
                    "ipagent",
                    "message",
                    {
                        "visibility": "tenant",
                        "body": "Our prior-art search is attached: two close documents, neither discloses the "
                        "closed system. We can draft the claims around it.",
                        "files": ("prior-art-search.pdf",),
                    },
                ),
                DemoStep(
                    _days(3, 22),
                    "ipagent",
                    "message",
                    {"visibility": "firm", "body": "Draft claims 1-8 by Friday; check the 2021 WO application."},
                ),
                DemoStep(
                    _days(3, 20),
                    "desk",
                    "message",
                    {"visibility": "desk", "body": "High priority: the conference deadline is real. Follow up weekly."},
                ),
                DemoStep(
                    _days(3, 4),
                    "bob",
                    "message",
                    {"visibility": "tenant", "body": "Thank you. Our inventors can meet you on Thursday afternoon."},
                ),
            ),
        ),
        DemoCase(
            _days(4),
            "carol",
            "annual_tax_filing",
            "Corporate income tax filing for last year",
            "Our first year as a high-tech enterprise; we claim the R&D super deduction.",
            {
                "credit_code": SHURUI_CREDIT_CODE,
                "fiscal_year": park_today().year - 1,
                "annual_revenue": "12500000",
                "high_tech_enterprise": True,
                "rd_super_deduction": True,
            },
            steps=(
                DemoStep(_days(4) - _hours(1), "desk", "triage"),
                DemoStep(_days(4) - _hours(1.1), "desk", "assign", {"firm": ACCOUNTING_FIRM}),
                DemoStep(_days(4) - _hours(2), "cpa", "accept"),
                DemoStep(
                    _days(3, 20),
                    "cpa",
                    "quote",
                    {"fee": "9800.00", "description": "Annual filing with the R&D super deduction schedule."},
                ),
                DemoStep(_days(3, 4), "carol", "accept_quote"),
                DemoStep(_days(3, 3), "cpa", "start"),
                DemoStep(
                    _days(1, 5),
                    "cpa",
                    "wait",
                    {"reason": "Please send the general ledger and the R&D expense ledger for the year."},
                ),
            ),
        ),
        DemoCase(
            _days(3),
            "alice",
            "legal_consultation",
            "May we use patient images from a partner hospital for training?",
            "Anonymised CT images from a hospital partner, for training our segmentation model.",
            {"question": "What consent and data agreements do we need to train on a hospital's anonymised images?"},
            steps=(
                DemoStep(_days(3) - _hours(1), "desk", "triage"),
                DemoStep(_days(3) - _hours(1.1), "desk", "assign", {"firm": LAW_FIRM}),
                DemoStep(_days(3) - _hours(3), "lawyer", "accept"),
                DemoStep(_days(3) - _hours(3.1), "lawyer", "start"),
                DemoStep(
                    _days(1),
                    "lawyer",
                    "propose_solution",
                    {
                        "solution": "A data processing agreement with the hospital, its ethics committee's "
                        "approval, and de-identification to the national standard; templates attached to "
                        "our letter."
                    },
                ),
            ),
        ),
        DemoCase(
            _days(2),
            "alice",
            "commercial_contract_review",
            "Review of a research collaboration agreement with a university",
            "The university's draft gives it all the IP; we need a fair split and a publication clause.",
            {
                "counterparty": "Sichuan University",
                "contract_value": "1200000",
                "language": "zh",
                "deadline": _in_days(21),
            },
            steps=(
                DemoStep(_days(2) - _hours(1), "desk", "triage", {"priority": "high"}),
                DemoStep(_days(2) - _hours(1.2), "desk", "assign", {"firm": LAW_FIRM}),
                DemoStep(_days(2) - _hours(3), "lawyer", "accept"),
                DemoStep(
                    _days(1, 2),
                    "lawyer",
                    "quote",
                    {"fee": "6500.00", "description": "Review and one round of negotiation comments."},
                ),
            ),
        ),
        DemoCase(
            _hours(5),
            "alice",
            "recruitment",
            "Two QC analysts for the GMP lab",
            "Experience with flow cytometry and sterility testing.",
            {"position": "QC analyst", "headcount": 2, "annual_salary": "180000", "deadline": _in_days(45)},
            steps=(DemoStep(_hours(4), "desk", "triage"),),
        ),
        DemoCase(
            _hours(3),
            "bob",
            "labour_contract_review",
            "Non-compete agreements for the process development team",
            "Twelve engineers; we want a two-year non-compete with fair compensation.",
            {"contract_type": "non_compete", "pages": 6, "deadline": _in_days(14)},
            steps=(
                DemoStep(_hours(2.8), "desk", "triage"),
                DemoStep(_hours(2.7), "desk", "assign", {"firm": LAW_FIRM}),
            ),
        ),
        DemoCase(
            _hours(1),
            "carol",
            "high_tech_certification",
            "High-tech enterprise certification this year",
            "Pre-assessment first: we hold three invention patents.",
            {
                "credit_code": SHURUI_CREDIT_CODE,
                "patents_held": 3,
                "rd_staff": 28,
                "total_staff": 60,
                "last_year_revenue": "12500000",
            },
        ),
    )


DEMO_USERS = ("alice", "bob", "carol", "desk", "lawyer", "ipagent", "cpa")
"""The demo users the demo cases need (the gateway's usernames)."""


def _deliver_directory(settings: Settings, identity_events: Sequence[str | Mapping[str, Any]]) -> None:
    """Hand identity's events to consulting's inbox, as the bus will: the firms are in the
    directory before a case is assigned to one, and the bus's own delivery later finds them
    handled (a duplicate)."""
    inbox = participant(settings).inbox  # the worker's own inbox, built by the kernel
    assert inbox is not None, "consulting's participant has an inbox"
    for envelope in identity_events:
        inbox.deliver(envelope)


def _missing_for_cases(settings: Settings, organisations: Mapping[str, str], users: Mapping[str, Principal]) -> str:
    """Why the demo cases cannot be played now, or ``""``."""
    missing = [name for name in DEMO_USERS if name not in users]
    if missing:
        return f"demo users missing: {', '.join(missing)}"
    with database(settings).reading() as session:
        for name in (LAW_FIRM, ACCOUNTING_FIRM, IP_AGENCY):
            org_id = organisations.get(name)
            status = session.execute(select(directory.c.status).where(directory.c.id == org_id)).scalar()
            if status != "active":
                return f"firm {name!r} is not active in consulting's directory yet"
    return ""


def seed_cases(
    settings: Settings,
    organisations: Mapping[str, str],
    users: Mapping[str, Principal],
    *,
    now: datetime | None = None,
) -> list[str]:
    """Play :func:`demo_cases` through the handlers, unless a demo case exists already (a second
    seed adds none); ``users`` are the demo users as their tokens name them (username →
    principal). Returns the lines to print."""
    db = database(settings)
    cases = sorted(demo_cases(), key=lambda case: case.ago, reverse=True)  # numbers follow the dates
    with db.reading() as session:
        existing = session.scalar(
            select(func.count()).select_from(Case).where(Case.subject.in_([c.subject for c in cases]))
        )
    if existing:
        return [f"  demo cases: {existing} there already, none added"]
    why_not = _missing_for_cases(settings, organisations, users)
    if why_not:
        return [f"  demo cases not added: {why_not}"]
    now = now or utcnow()
    store = configured_store(settings)
    numbers = []
    for demo in cases:
        with db.unit_of_work(correlationid="seed-consulting-cases") as uow:
            case = submit_case(
                SubmitCase(
                    users[demo.by],
                    ITEM_IDS[demo.item],
                    demo.subject,
                    demo.description,
                    dict(demo.answers),
                    demo.priority,
                    at=now - demo.ago,
                ),
                uow=uow,
            )
            uow.commit()
        quote_id = ""
        for step in demo.steps:
            with db.unit_of_work(correlationid="seed-consulting-cases") as uow:
                answer = _play(
                    uow,
                    step,
                    case_id=case["id"],
                    quote_id=quote_id,
                    users=users,
                    organisations=organisations,
                    store=store,
                    at=now - step.ago,
                )
                uow.commit()
            if step.action == "quote":
                quote_id = answer["id"]
        numbers.append(case["number"])
    return [f"  demo cases: {len(numbers)} added ({numbers[0]} to {numbers[-1]})"]


def _play(
    uow: UnitOfWork,
    step: DemoStep,
    *,
    case_id: str,
    quote_id: str,
    users: Mapping[str, Principal],
    organisations: Mapping[str, str],
    store: AttachmentStore,
    at: datetime,
) -> dict[str, Any]:
    actor = users[step.by]
    fields = dict(step.fields)
    if step.action == "quote":
        return propose_quote(ProposeQuote(actor, case_id, fields["fee"], fields["description"], at=at), uow=uow)
    if step.action in ("accept_quote", "reject_quote"):
        action = step.action.removesuffix("_quote")
        return answer_quote(AnswerQuote(actor, case_id, quote_id, action, reason=fields.get("reason"), at=at), uow=uow)
    if step.action == "message":
        files = tuple(UploadedFile(name, DEMO_FILES[name]) for name in fields.get("files", ()))
        command = PostMessage(actor, case_id, fields["body"], fields["visibility"], files, at=at)
        return post_message(command, uow=uow, store=store)
    firm = fields.pop("firm", None)
    return act_on_case(
        ActOnCase(actor, case_id, step.action, firm_org_id=organisations[firm] if firm else None, at=at, **fields),
        uow=uow,
    )
