"""Demo data of the park's identity: the operator, tenants, partner firms, their users and API clients.

Everything goes through the same command handlers as the API, so each organisation's
``identity.organisation.registered`` event reaches every service's directory. Idempotent: what
exists (by organisation name, username, client id) is left exactly as it is, so running it
again changes nothing and keeps any data added since. Company names are fictional; sectors and
kinds follow the park's brochure (docs/PARK.md). Demo passwords only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from gateway import commands, handlers
from gateway.client_secrets import ClientSecrets, load_client_secrets
from gateway.models import ApiClient, Organisation, User, database
from shared.db import Database, UnitOfWork
from shared.principal import Principal
from shared.settings import Settings

DEMO_PASSWORD = "parkhub-demo"
SEEDER = Principal(subject="system:seed", org_id="", org_kind="operator", roles=frozenset({"park_admin"}))


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class DemoClient:
    client_id: str
    name: str
    secret: str


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    name_zh: str
    kind: str
    contact_email: str
    users: tuple[DemoUser, ...] = ()
    clients: tuple[DemoClient, ...] = ()


OPERATOR = DemoOrganisation(
    "Tianfu Life Science Park Operations",
    "天府生命科技园运营中心",
    "operator",
    "service@tianfu-lifescience.cn",
    users=(
        DemoUser("admin", "Park Administrator 园区管理员", ("park_admin",)),
        DemoUser("desk", "Service Desk 服务台", ("desk_staff",)),
        DemoUser("desk2", "Second Desk 服务台二号", ("desk_staff",)),
    ),
)
TENANTS = (
    DemoOrganisation(
        "Kangcheng Cell Therapeutics Co., Ltd.",
        "成都康晟细胞治疗有限公司",
        "tenant",
        "office@kangcheng-cell.cn",
        users=(
            DemoUser("alice", "Alice Wang 王爱丽", ("tenant_admin",)),
            DemoUser("bob", "Bob Li 李博", ("tenant_member",)),
        ),
    ),
    DemoOrganisation(
        "Shurui AI Imaging Diagnostics Co., Ltd.",
        "成都数睿智能影像诊断有限公司",
        "tenant",
        "hello@shurui-ai.cn",
        users=(DemoUser("carol", "Carol Zhang 张卡洛", ("tenant_admin",)),),
    ),
    DemoOrganisation("Jinsha Health Big Data Co., Ltd.", "金沙健康大数据有限公司", "tenant", "contact@jinsha-hbd.cn"),
    DemoOrganisation("Rongxin IVD Reagents Co., Ltd.", "蓉芯体外诊断试剂有限公司", "tenant", "sales@rongxin-ivd.cn"),
    DemoOrganisation(
        "Qingcheng Synthetic Biology Ltd.", "青城合成生物科技有限公司", "tenant", "lab@qingcheng-synbio.cn"
    ),
)
PARTNERS = (
    DemoOrganisation(
        "Shudu Commercial Bank, Tianfu Science City Sub-branch",
        "蜀都商业银行天府科学城支行",
        "bank",
        "sme@shudu-bank.cn",
        users=(DemoUser("bank", "Grace Chen 陈桂芳 (SME credit)", ("partner_agent",)),),
        clients=(DemoClient("shudu-bank-demo", "Shudu Bank loan system", "parkhub-demo-bank-secret"),),
    ),
    DemoOrganisation(
        "Rongcheng Rural Commercial Bank, Hi-Tech Sub-branch",
        "蓉城农村商业银行高新支行",
        "bank",
        "kejidai@rongcheng-rcb.cn",
        users=(DemoUser("banker", "Jun Gao 高俊 (technology loans)", ("partner_agent",)),),
    ),
    DemoOrganisation(
        "Tianfu Bridge Law Firm",
        "天府桥律师事务所",
        "law_firm",
        "desk@tianfu-bridge-law.cn",
        users=(DemoUser("lawyer", "Henry Zhou 周恒 (counsel)", ("partner_agent",)),),
        clients=(DemoClient("tianfu-bridge-law-demo", "Tianfu Bridge case system", "parkhub-demo-law-secret"),),
    ),
    DemoOrganisation(
        "Rongzhi IP Agency Co., Ltd.",
        "蓉智知识产权代理有限公司",
        "ip_agency",
        "patents@rongzhi-ip.cn",
        users=(DemoUser("ipagent", "Ivy Liu 刘艺 (patent agent)", ("partner_agent",)),),
    ),
    DemoOrganisation(
        "Chengdu Hi-Tech Financing Guarantee Co., Ltd.",
        "成都高新融资担保有限公司",
        "guarantee",
        "credit@gx-guarantee.cn",
        users=(DemoUser("guarantor", "Ming Xu 徐明 (guarantee officer)", ("partner_agent",)),),
    ),
    DemoOrganisation(
        "Chengdu Hi-Tech Zone Science and Technology Bureau",
        "成都高新区科技创新局",
        "government",
        "subsidy@cdht-science.gov.cn",
        users=(
            DemoUser("bureau", "Li Na 李娜 (subsidy programmes)", ("partner_agent",)),
            DemoUser("bureau2", "Zhao Lei 赵磊 (subsidy payments)", ("partner_agent",)),
        ),
    ),
    DemoOrganisation(
        "Xiling BioPharma CDMO Co., Ltd.",
        "西岭生物医药合同研发生产有限公司",
        "cro_cdmo",
        "bd@xiling-cdmo.cn",
        users=(DemoUser("cdmo", "Daniel Xu 徐达 (CDMO business development)", ("partner_agent",)),),
    ),
    DemoOrganisation(
        "Jincheng Pharmacology and Safety Testing Co., Ltd.",
        "成都锦城药理安全评价有限公司",
        "cro_cdmo",
        "studies@jincheng-cro.cn",
        users=(DemoUser("cro", "Rachel Tang 唐睿 (study director)", ("partner_agent",)),),
    ),
    DemoOrganisation(
        "Jinjiang Certified Public Accountants",
        "锦江会计师事务所",
        "accounting_firm",
        "tax@jinjiang-cpa.cn",
        users=(DemoUser("cpa", "Frank He 何帆 (tax partner)", ("partner_agent",)),),
    ),
    DemoOrganisation(
        "Shuguang Talent HR Services Co., Ltd.",
        "曙光人才人力资源服务有限公司",
        "hr_firm",
        "talent@shuguang-hr.cn",
        users=(DemoUser("hr", "Helen Luo 罗慧 (HR consultant)", ("partner_agent",)),),
    ),
    DemoOrganisation(
        "Tianfu Biomedical Industry Guide Fund",
        "天府生物医药产业引导基金",
        "fund",
        "invest@tianfu-biofund.cn",
        users=(DemoUser("fund", "Yun Deng 邓芸 (investment manager)", ("partner_agent",)),),
    ),
    DemoOrganisation(
        "Sichuan Medical Equipment Leasing Co., Ltd.", "四川医疗设备融资租赁有限公司", "lessor", "lease@sc-medlease.cn"
    ),
)
DEMO = (OPERATOR, *TENANTS, *PARTNERS)


def seed(settings: Settings) -> list[str]:
    """Load the demo data into the (migrated) gateway database; return the lines to print."""
    db = database(settings)
    lines = [f"Demo logins (password {DEMO_PASSWORD!r}; demo data only):"]
    client_lines = ["Partner API clients (grant_type=client_credentials):"]
    client_secrets = load_client_secrets(settings)
    for demo in DEMO:
        organisation = _organisation(db, demo)
        for demo_user in demo.users:
            _user(db, organisation, demo_user)
            lines.append(f"  {demo_user.username:<8} {', '.join(demo_user.roles):<14} {demo.name}")
        for demo_client in demo.clients:
            _client(db, organisation, demo_client, client_secrets)
            client_lines.append(
                f"  client_id={demo_client.client_id}  client_secret={demo_client.secret}  ({demo.name})"
            )
    return lines + client_lines


def _uow(db: Database) -> UnitOfWork:
    return db.unit_of_work(correlationid=f"seed-{uuid.uuid4()}")


def _organisation(db: Database, demo: DemoOrganisation) -> Organisation:
    session = db.session()
    try:
        existing = session.scalar(select(Organisation).where(Organisation.name == demo.name))
    finally:
        session.close()  # closing detaches without expiring: the row stays readable
    if existing is not None:
        return existing
    command = commands.RegisterOrganisation(SEEDER, demo.name, demo.kind, demo.name_zh, demo.contact_email)
    with _uow(db) as uow:
        organisation = handlers.register_organisation(command, uow=uow)
        uow.commit()
    return organisation


def _user(db: Database, organisation: Organisation, demo: DemoUser) -> None:
    with db.reading() as session:
        if session.scalar(select(User.id).where(User.username == demo.username)) is not None:
            return
    command = commands.CreateUser(SEEDER, demo.username, demo.display_name, DEMO_PASSWORD, organisation.id, demo.roles)
    with _uow(db) as uow:
        handlers.create_user(command, uow=uow)
        uow.commit()


def _client(db: Database, organisation: Organisation, demo: DemoClient, client_secrets: ClientSecrets) -> None:
    with db.reading() as session:
        if session.get(ApiClient, demo.client_id) is not None:
            return
    command = commands.CreateApiClient(
        SEEDER, demo.name, organisation.id, ("partner_agent",), demo.client_id, demo.secret
    )
    with _uow(db) as uow:
        handlers.create_api_client(command, uow=uow, client_secrets=client_secrets)
        uow.commit()
