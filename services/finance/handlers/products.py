"""Park admin's products and the tenants' company profiles. That the caller manages products is
the view's guard (``manage_products``); a profile's writer is checked here on the organisation
(``edit_profile``). No events: products and profiles are read where they are (an application
copies the profile when it is submitted).

A product's terms are checked whole after the change is applied (``rules.products.check_terms``:
ranges, rates, fees, eligibility rules), so a change of one bound is checked against the other;
its checklist, window and providers by this module (codes in :func:`save_product`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.finance.commands.products import SaveProduct, SaveProfile
from services.finance.handlers.common import new_id
from services.finance.models import CompanyProfile, Product, ProductProvider, directory
from services.finance.permissions import RIGHTS
from services.finance.queries.products import get_profile, product_views, stored_window
from services.finance.rules.money import parse_amount
from services.finance.rules.products import check_terms, check_window
from shared.clock import PARK_TZ, utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound, RuleViolation, check_version
from shared.i18n import _
from shared.identifiers import credit_code_valid

PROVIDER_KINDS = ("bank", "guarantee", "fund", "lessor", "government")
"""The directory's kinds of organisation that provide financing: banks, guarantee companies,
funds, lessors and government bureaus (not tenants, not the operator, not the consulting firms)."""
RATED_KINDS = ("guaranteed_loan", "leasing", "ip_pledge_loan")
"""Kinds lent at a rate: their rate range is required (the all-in cost needs it)."""

DEFAULTS: Mapping[str, Any] = {
    "description": "",
    "description_zh": "",
    "rate_min": None,
    "rate_max": None,
    "repayment_method": None,
    "fees": [],
    "eligibility": {},
    "checklist": [],
    "window": None,
    "active": True,
    "position": 0,
}


def save_product(cmd: SaveProduct, *, uow: UnitOfWork) -> dict[str, Any]:
    """Create a product or change one under ``If-Match`` (404 unknown, 412 stale); returns it as
    staff read it. Refusals (422 unless said): the terms' codes of ``rules.products.check_terms``
    and ``rules.cost``/``rules.eligibility``; ``rule/rate-required`` (a loan or lease without its
    rate range), ``rule/rate-not-applicable`` (a rate for a subsidy, fund or venture capital);
    ``rule/window-required`` (a subsidy call without a window), ``rule/window-not-applicable``
    (a window for anything else) and the window's codes; ``rule/checklist-duplicate`` (a document
    type twice); ``rule/not-a-provider`` (an organisation the directory does not hold as a bank,
    guarantee company, fund, lessor or government bureau), ``rule/provider-duplicate``; 409
    ``rule/product-code-taken``."""
    session: Session = uow.session
    details = dict(cmd.details)
    providers = details.pop("providers", None)
    if "window" in details and details["window"] is not None:
        raw = details["window"]
        window = check_window(
            _moment(raw.get("opens_at"), "window.opens_at"),
            _moment(raw.get("closes_at"), "window.closes_at"),
            raw.get("grace_days", 0),
        )
        details["window"] = {
            "opens_at": window.opens_at.isoformat(),
            "closes_at": window.closes_at.isoformat(),
            "grace_days": window.grace_days,
        }
    if "checklist" in details:
        details["checklist"] = _checklist(details["checklist"])
    for name in ("amount_min", "amount_max"):
        if name in details:
            details[name] = parse_amount(details[name], where=name)
    if cmd.product_id is None:
        if session.scalar(select(Product.id).where(Product.code == details["code"])) is not None:
            raise _code_taken(details["code"])
        product = Product(id=new_id(), **{**DEFAULTS, **details})
        session.add(product)
    else:
        found = session.get(Product, cmd.product_id)
        if found is None:
            raise NotFound(_("There is no financing product {id}.", id=cmd.product_id), code="not-found")
        product = found
        check_version(product.version, cmd.expected_versions)
        for name, value in details.items():
            setattr(product, name, value)
    _check_terms(product)
    product.updated_at = utcnow()
    try:
        session.flush()
    except IntegrityError:
        raise _code_taken(product.code) from None
    if providers is not None:
        _replace_providers(session, product, providers)
    return product_views(session, [product])[0]


def _moment(value: Any, where: str) -> datetime | None:
    """A window's time from its JSON (RFC 3339); None when it is not one (``check_window`` refuses it)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _check_terms(product: Product) -> None:
    """The product's terms whole, as stored after the change (the module docstring)."""
    rated = product.rate_min is not None or product.rate_max is not None
    if product.kind in RATED_KINDS and (product.rate_min is None or product.rate_max is None):
        raise RuleViolation(
            _("A loan or a lease states its rate range: rate_min and rate_max."),
            code="rule/rate-required",
            where="rate_min",
        )
    if product.kind not in RATED_KINDS and rated:
        raise RuleViolation(
            _("Only loans and leases have a rate; leave rate_min and rate_max out."),
            code="rule/rate-not-applicable",
            where="rate_min",
        )
    if product.kind == "subsidy" and product.window is None:
        raise RuleViolation(
            _("A subsidy call states its application window."), code="rule/window-required", where="window"
        )
    if product.kind != "subsidy" and product.window is not None:
        raise RuleViolation(
            _("Only a subsidy call has an application window."), code="rule/window-not-applicable", where="window"
        )
    terms = check_terms(
        product.kind,
        amount_min=product.amount_min,
        amount_max=product.amount_max,
        term_min=product.term_min,
        term_max=product.term_max,
        rate_min=product.rate_min if rated else 0,
        rate_max=product.rate_max if rated else 0,
        fees=product.fees,
        window=stored_window(product.window),
        eligibility=product.eligibility,
    )
    product.amount_min, product.amount_max = terms.amount_min, terms.amount_max
    if rated:
        product.rate_min, product.rate_max = terms.rate_min, terms.rate_max
    product.fees = [fee.to_json() for fee in terms.fees]
    product.eligibility = terms.eligibility.to_json()


def _checklist(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The checklist as stored; a document type listed twice is ``rule/checklist-duplicate``."""
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item["type"] in seen:
            raise RuleViolation(
                _("The checklist names the document type {type} twice.", type=item["type"]),
                code="rule/checklist-duplicate",
                where=f"checklist[{index}].type",
            )
        seen.add(item["type"])
    return [
        {"type": item["type"], "name": item["name"], "name_zh": item["name_zh"], "required": item["required"]}
        for item in items
    ]


def _replace_providers(session: Session, product: Product, providers: Sequence[Mapping[str, Any]]) -> None:
    ids = [provider["org_id"] for provider in providers]
    duplicates = sorted({org_id for org_id in ids if ids.count(org_id) > 1})
    if duplicates:
        raise RuleViolation(
            _("The providers name {id} twice.", id=", ".join(duplicates)),
            code="rule/provider-duplicate",
            where="providers",
        )
    rows = session.execute(select(directory.c.id, directory.c.kind).where(directory.c.id.in_(ids)))
    kinds = {org_id: kind for org_id, kind in rows}
    refused = [org_id for org_id in ids if kinds.get(org_id) not in PROVIDER_KINDS]
    if refused:
        raise RuleViolation(
            _(
                "{id}: a product's providers are banks, guarantee companies, funds, lessors or government "
                "bureaus of the park's directory.",
                id=", ".join(refused),
            ),
            code="rule/not-a-provider",
            where="providers",
            refused=refused,
        )
    session.execute(delete(ProductProvider).where(ProductProvider.product_id == product.id))
    session.add_all(
        ProductProvider(product_id=product.id, partner_org_id=provider["org_id"], role=provider.get("role"))
        for provider in providers
    )
    session.flush()


def _code_taken(code: str) -> Conflict:
    return Conflict(
        _("A financing product with the code {code} exists already.", code=code), code="rule/product-code-taken"
    )


# Company profiles ---------------------------------------------------------------------------------


def save_profile(cmd: SaveProfile, *, uow: UnitOfWork) -> dict[str, Any]:
    """Replace the company profile of the actor's organisation (``edit_profile``: its tenant
    admin, 403 otherwise) under ``If-Match`` (0 while there is none; 412 stale). Refusals (422):
    ``rule/credit-code`` (not 18 characters of GB 32100 with its check character right),
    ``rule/moved-in-future`` (a move-in date after today in the park), the amount codes of
    ``rules.money`` for the revenue. Every field is replaced: one left out is null."""
    session: Session = uow.session
    RIGHTS.require(cmd.actor, "edit_profile", cmd.org_id)
    details = dict(cmd.details)
    code = details.get("credit_code")
    if code is not None:
        code = code.strip().upper()
        if not credit_code_valid(code):
            raise RuleViolation(
                _("A unified social credit code (18 characters, its check character right) is required."),
                code="rule/credit-code",
                where="credit_code",
            )
    revenue = details.get("annual_revenue")
    if revenue is not None:
        revenue = parse_amount(revenue, where="annual_revenue", allow_zero=True)
    moved_in_on = details.get("moved_in_on")
    if moved_in_on is not None and moved_in_on > _park_today():
        raise RuleViolation(
            _("moved_in_on: a company moves in on a day that has come."),
            code="rule/moved-in-future",
            where="moved_in_on",
        )
    profile = session.get(CompanyProfile, cmd.org_id, with_for_update=True)
    check_version(0 if profile is None else profile.version, cmd.expected_versions)
    if profile is None:
        profile = CompanyProfile(org_id=cmd.org_id)
        session.add(profile)
    profile.sector = details.get("sector")
    profile.moved_in_on = moved_in_on
    profile.annual_revenue = None if revenue is None else Decimal(revenue)
    profile.employees = details.get("employees")
    profile.granted_patents = details.get("granted_patents")
    profile.credit_code = code
    profile.updated_by = cmd.actor.subject
    profile.updated_at = utcnow()
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            _("Another change of this profile got there first; read it again."), code="conflict/concurrent-change"
        ) from None
    return get_profile(session, cmd.org_id)


def _park_today() -> date:
    return utcnow().astimezone(PARK_TZ).date()
