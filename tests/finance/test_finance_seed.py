"""Finance's demo seed: the park's products (a subsidy call open now, a guaranteed loan of two
banks with the guarantee company, a guide fund, a lease, an IP-pledge loan) with their providers,
and the demo tenants' company profiles, through the API's handlers; a second run changes nothing;
a provider the gateway does not hold skips its product whole. With the demo users, the demo
applications in every state, played once through the handlers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from gateway.seed import DEMO, TENANTS
from services.finance.handlers.products import PROVIDER_KINDS
from services.finance.models import (
    Application,
    ApplicationTransition,
    CompanyProfile,
    Disbursement,
    Offer,
    Product,
    ProductProvider,
    database,
    directory,
)
from services.finance.queries.products import product_views, stored_window
from services.finance.rules.products import window_state
from services.finance.seed import DEMO_APPLICATIONS, RONGCHENG_BANK, SHUDU_BANK, seed
from shared.principal import Principal
from shared.settings import Settings

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
ORGANISATIONS = {demo.name: str(uuid.uuid5(uuid.NAMESPACE_URL, demo.name)) for demo in DEMO}
"""The gateway's demo organisations by name, as the CLI reads them from its database."""
KINDS = {ORGANISATIONS[demo.name]: demo.kind for demo in DEMO}


def snapshot(settings: Settings) -> dict[str, Any]:
    with database(settings).reading() as session:
        return {
            "products": sorted((p.code, p.version, p.window is not None) for p in session.scalars(select(Product))),
            "providers": sorted(
                (p.product_id, p.partner_org_id, p.role or "") for p in session.scalars(select(ProductProvider))
            ),
            "profiles": sorted((p.org_id, p.version) for p in session.scalars(select(CompanyProfile))),
        }


def test_the_seed_loads_the_park_s_products_and_profiles(settings: Settings) -> None:
    lines = seed(settings, ORGANISATIONS, now=NOW)
    assert "  products: 5 added" in lines
    assert f"  company profiles: {len(TENANTS)} added" in lines
    with database(settings).reading() as session:
        products = {p.kind: p for p in session.scalars(select(Product))}
        providers = [(p.product_id, p.partner_org_id, p.role) for p in session.scalars(select(ProductProvider))]
        views = {view["kind"]: view for view in product_views(session, list(products.values()))}
        profiles = [(p.org_id, p.sector, p.credit_code, p.moved_in_on) for p in session.scalars(select(CompanyProfile))]
        ids = {kind: product.id for kind, product in products.items()}
        windows = {kind: product.window for kind, product in products.items()}
    assert set(products) == {"subsidy", "guaranteed_loan", "guide_fund", "leasing", "ip_pledge_loan"}
    # every provider is a financing partner of the gateway's directory: no tenant, no firm
    assert {KINDS[org] for _, org, _ in providers} <= set(PROVIDER_KINDS)
    loan = {org: role for product, org, role in providers if product == ids["guaranteed_loan"]}
    assert loan[ORGANISATIONS[SHUDU_BANK]] == loan[ORGANISATIONS[RONGCHENG_BANK]] == "lender"
    assert sorted(KINDS[org] for org in loan) == ["bank", "bank", "guarantee"]
    subsidy_window = stored_window(windows["subsidy"])
    assert subsidy_window is not None and window_state(subsidy_window, NOW) == "open"
    assert [KINDS[org] for product, org, _ in providers if product == ids["subsidy"]] == ["government"]
    # the loans and the lease compare by their all-in cost; the subsidy and the fund have none
    for kind in ("guaranteed_loan", "leasing", "ip_pledge_loan"):
        assert float(views[kind]["example_cost"]["annual_rate"]) > float(views[kind]["rate"]["min"])
    assert views["subsidy"]["example_cost"] is None and views["guide_fund"]["example_cost"] is None
    tenants = {ORGANISATIONS[t.name] for t in TENANTS}
    assert {org for org, *_ in profiles} == tenants
    assert all(sector and code and moved_in_on for _, sector, code, moved_in_on in profiles)


def test_seeding_twice_changes_nothing_and_keeps_what_was_changed(settings: Settings) -> None:
    seed(settings, ORGANISATIONS, now=NOW)
    with database(settings).unit_of_work() as uow:  # park admin deactivated a product meanwhile
        lease = uow.session.scalar(select(Product).where(Product.kind == "leasing"))
        assert lease is not None
        lease.active = False
        uow.commit()
    before = snapshot(settings)
    lines = seed(settings, ORGANISATIONS, now=NOW)
    assert "  products: 0 added" in lines and "  company profiles: 0 added" in lines
    assert snapshot(settings) == before
    with database(settings).reading() as session:
        assert session.scalar(select(Product.active).where(Product.kind == "leasing")) is False


def test_a_missing_provider_skips_its_product_whole(settings: Settings) -> None:
    without = {name: org for name, org in ORGANISATIONS.items() if name != RONGCHENG_BANK}
    lines = seed(settings, without, now=NOW)
    assert "  products: 4 added" in lines
    assert any(line.startswith("  product skipped: sme_guaranteed_loan") for line in lines)
    with database(settings).reading() as session:
        assert session.scalar(select(Product.id).where(Product.kind == "guaranteed_loan")) is None
    assert "  products: 1 added" in seed(settings, ORGANISATIONS, now=NOW)


USERS = {
    user.username: Principal(
        subject=f"user:{user.username}",
        org_id=ORGANISATIONS[organisation.name],
        org_kind=organisation.kind,
        roles=frozenset(user.roles),
        name=user.display_name,
    )
    for organisation in DEMO
    for user in organisation.users
}
"""The demo users as their tokens name them (the CLI reads them from the gateway's database)."""


def put_in_directory(settings: Settings) -> None:
    """The demo organisations in finance's directory, as identity's events put them."""
    with database(settings).unit_of_work() as uow:
        for organisation in DEMO:
            uow.session.execute(
                directory.insert().values(
                    id=ORGANISATIONS[organisation.name],
                    name=organisation.name,
                    name_zh=organisation.name_zh,
                    kind=organisation.kind,
                    status="active",
                    version=1,
                    updated_at=datetime.now(UTC),
                )
            )
        uow.commit()


def applications(settings: Settings) -> list[tuple[str, str, int]]:
    with database(settings).reading() as session:
        return sorted((a.purpose, a.status, a.version) for a in session.scalars(select(Application)))


def test_the_demo_applications_are_played_once_through_the_handlers(settings: Settings) -> None:
    put_in_directory(settings)
    lines = seed(settings, ORGANISATIONS, USERS)
    assert f"  applications: {len(DEMO_APPLICATIONS)} added" in lines
    played = applications(settings)
    assert sorted(purpose for purpose, _, _ in played) == sorted(a.purpose for a in DEMO_APPLICATIONS)
    assert {status for _, status, _ in played} == {
        "draft",
        "submitted",
        "pre_review",
        "routed",
        "disbursing",
        "disbursed",
        "withdrawn",
        "closed",
    }
    with database(settings).reading() as session:
        # the handlers' own records: numbered, an audit line per step, the maker-checker's two people
        numbers = sorted(session.scalars(select(Application.number)))
        assert len(set(numbers)) == len(DEMO_APPLICATIONS)
        audit = session.scalar(select(func.count()).select_from(ApplicationTransition)) or 0
        assert audit > 5 * len(DEMO_APPLICATIONS)
        tranches = list(session.scalars(select(Disbursement).where(Disbursement.status == "approved")))
        assert len(tranches) == 3 and all(t.recorded_by != t.approved_by for t in tranches)
        assert sorted(o.status for o in session.scalars(select(Offer))) == ["accepted"] * 3 + ["made"] * 2

    assert "  applications: 0 added" in seed(settings, ORGANISATIONS, USERS)
    assert applications(settings) == played


def test_without_a_demo_user_no_application_is_played(settings: Settings) -> None:
    without = {name: user for name, user in USERS.items() if name != "bureau2"}
    lines = seed(settings, ORGANISATIONS, without)
    assert "  applications skipped: no bureau2" in lines
    assert applications(settings) == []
    assert "  applications skipped: no bureau2" not in seed(settings, ORGANISATIONS)  # no users: no line
