"""The products and company profiles as readers see them.

A product answers with its terms (ranges, fees, checklist), its window's state now (a subsidy
call's, in park time), its eligibility in the reader's words, its providers as organisation refs
from finance's directory, and an example of the all-in annual cost (:func:`example_cost`) so a
tenant compares products on one figure. Tenants and partners read the active products only (an
inactive one is a 404 to them); staff read every one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.finance.models import CompanyProfile, Product, ProductProvider, directory
from services.finance.rules.cost import Fee, all_in_cost, check_fee, offer
from services.finance.rules.eligibility import EligibilityRules, check_rules
from services.finance.rules.money import format_amount
from services.finance.rules.products import Window, window_state
from shared.clock import utcnow
from shared.directory import organisation_refs
from shared.errors import NotFound
from shared.i18n import Message, _
from shared.principal import Principal

EXAMPLE_AMOUNT = Decimal(1_000_000)
"""The typical amount of the example: a million yuan, within the product's range (else its nearest end)."""
EXAMPLE_TERM_MONTHS = 12
"""The typical term of the example: a year, within the product's range (else its nearest end)."""
RATE_PLACES = Decimal("0.0001")


def stored_window(raw: Mapping[str, Any] | None) -> Window | None:
    """A product's stored window (ISO times with their offset) as a :class:`Window`."""
    if raw is None:
        return None
    return Window(
        datetime.fromisoformat(raw["opens_at"]), datetime.fromisoformat(raw["closes_at"]), int(raw["grace_days"])
    )


def example_cost(product: Product) -> dict[str, Any] | None:
    """The all-in annual cost of a typical request of a product lent at a rate: a million yuan
    over twelve months (each moved into the product's range), at the middle of its rate range,
    repaid its way, with its fees; None for a product without a rate (a subsidy, a fund)."""
    if product.rate_min is None or product.rate_max is None:
        return None
    amount = min(max(EXAMPLE_AMOUNT, product.amount_min), product.amount_max).quantize(Decimal("0.01"))
    term = min(max(EXAMPLE_TERM_MONTHS, product.term_min), product.term_max)
    rate = ((product.rate_min + product.rate_max) / 2).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    method = product.repayment_method or "equal_instalments"
    terms = offer(amount, term, rate, method, product.fees)
    cost = all_in_cost(terms)
    return {
        "amount": format_amount(amount),
        "currency": "CNY",
        "term_months": term,
        "nominal_rate": _percent(rate),
        "repayment_method": method,
        "annual_rate": f"{cost.annual_rate:.2f}",
        "effective_annual_rate": f"{cost.effective_annual_rate:.2f}",
        "received": format_amount(cost.received),
        "total_interest": format_amount(cost.total_interest),
        "total_fees": format_amount(cost.total_fees),
        "total_cost": format_amount(cost.total_cost),
    }


def eligibility_words(rules: EligibilityRules) -> list[Message]:
    """Each rule of ``rules`` as a sentence a tenant reads, in the order of ``rules.eligibility.RULES``."""
    words: list[Message] = []
    if rules.sectors is not None:
        words.append(_("Companies in the sectors {sectors}.", sectors=", ".join(sorted(rules.sectors))))
    if rules.min_years_in_park is not None:
        words.append(_("At least {years} full years in the park.", years=rules.min_years_in_park))
    if rules.revenue is not None:
        low, high = rules.revenue.min, rules.revenue.max
        if low is not None and high is not None:
            words.append(
                _(
                    "Annual revenue from {min} to {max} yuan.",
                    min=format_amount(low),
                    max=format_amount(high),
                )
            )
        elif low is not None:
            words.append(_("Annual revenue of at least {min} yuan.", min=format_amount(low)))
        else:
            words.append(_("Annual revenue of at most {max} yuan.", max=format_amount(high)))
    if rules.employees is not None:
        fewest, most = rules.employees.min, rules.employees.max
        if fewest is not None and most is not None:
            words.append(_("From {min} to {max} employees.", min=fewest, max=most))
        elif fewest is not None:
            words.append(_("At least {min} employees.", min=fewest))
        else:
            words.append(_("At most {max} employees.", max=most))
    if rules.min_granted_patents is not None:
        words.append(_("At least {patents} granted patent(s).", patents=rules.min_granted_patents))
    return words


def _percent(value: Decimal) -> str:
    """A rate as stored (four places), whether read back or just set."""
    return f"{Decimal(value).quantize(RATE_PLACES)}"


def _fees(stored: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    fees: list[Fee] = [check_fee(dict(raw)) for raw in stored]
    return [fee.to_json() for fee in fees]


def product_view(
    product: Product, providers: Sequence[ProductProvider], refs: Mapping[str, Mapping[str, Any]], now: datetime
) -> dict[str, Any]:
    """``product`` as ``ProductSchema`` dumps it (``refs``: its providers' organisation refs)."""
    window = stored_window(product.window)
    rate = None
    if product.rate_min is not None and product.rate_max is not None:
        rate = {"min": _percent(product.rate_min), "max": _percent(product.rate_max)}
    return {
        "id": product.id,
        "code": product.code,
        "kind": product.kind,
        "name": product.name,
        "name_zh": product.name_zh,
        "description": product.description,
        "description_zh": product.description_zh,
        "amount": {
            "min": format_amount(product.amount_min),
            "max": format_amount(product.amount_max),
            "currency": "CNY",
        },
        "term_months": {"min": product.term_min, "max": product.term_max},
        "rate": rate,
        "repayment_method": product.repayment_method,
        "fees": _fees(product.fees),
        "eligibility": check_rules(product.eligibility).to_json(),
        "eligibility_text": eligibility_words(check_rules(product.eligibility)),
        "checklist": list(product.checklist),
        "window": None
        if window is None
        else {
            "opens_at": window.opens_at,
            "closes_at": window.closes_at,
            "grace_days": window.grace_days,
            "grace_ends_at": window.grace_ends_at,
            "state": window_state(window, now),
        },
        "providers": [
            {**refs[provider.partner_org_id], "role": provider.role}
            for provider in sorted(providers, key=lambda p: (p.role or "", p.partner_org_id))
        ],
        "example_cost": example_cost(product),
        "active": product.active,
        "position": product.position,
        "version": product.version,
        "updated_at": product.updated_at,
    }


def product_views(session: Session, products: Sequence[Product]) -> list[dict[str, Any]]:
    """Each of ``products`` as :func:`product_view` shows it: their providers and the directory in one query each."""
    ids = [product.id for product in products]
    rows = session.scalars(select(ProductProvider).where(ProductProvider.product_id.in_(ids))).all() if ids else []
    by_product: dict[str, list[ProductProvider]] = {}
    for row in rows:
        by_product.setdefault(row.product_id, []).append(row)
    refs = organisation_refs(session, directory, [row.partner_org_id for row in rows])
    now = utcnow()
    return [product_view(product, by_product.get(product.id, []), refs, now) for product in products]


def list_products(session: Session, actor: Principal, args: Mapping[str, Any]) -> dict[str, Any]:
    """The products in the park's order (position, then name): tenants and partners the active
    ones; staff every one, ``active`` narrowing them. ``kind`` narrows to one kind."""
    query = select(Product).order_by(Product.position, Product.name, Product.id)
    if not actor.is_staff:
        query = query.where(Product.active.is_(True))
    elif "active" in args:
        query = query.where(Product.active.is_(args["active"]))
    if "kind" in args:
        query = query.where(Product.kind == args["kind"])
    return {"items": product_views(session, session.scalars(query).all())}


def get_product(session: Session, actor: Principal, product_id: str) -> dict[str, Any]:
    """One product; 404 when there is none, or it is inactive and ``actor`` is not staff."""
    product = session.get(Product, product_id)
    if product is None or not (product.active or actor.is_staff):
        raise NotFound(_("There is no financing product {id}.", id=product_id), code="not-found")
    return product_views(session, [product])[0]


def profile_view(profile: CompanyProfile | None, org_id: str, refs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The company profile of ``org_id`` as ``ProfileSchema`` dumps it; an organisation that never
    wrote one answers every value null at version 0 (``PUT`` with ``If-Match: "0"`` creates it)."""
    organisation = refs.get(org_id) or {"id": org_id, "name": None, "name_zh": None}
    if profile is None:
        empty = dict.fromkeys(
            ("sector", "moved_in_on", "annual_revenue", "employees", "granted_patents", "credit_code")
        )
        return {"organisation": organisation, **empty, "version": 0, "updated_by": None, "updated_at": None}
    return {
        "organisation": organisation,
        "sector": profile.sector,
        "moved_in_on": profile.moved_in_on,
        "annual_revenue": None if profile.annual_revenue is None else format_amount(profile.annual_revenue),
        "employees": profile.employees,
        "granted_patents": profile.granted_patents,
        "credit_code": profile.credit_code,
        "version": profile.version,
        "updated_by": profile.updated_by,
        "updated_at": profile.updated_at,
    }


def get_profile(session: Session, org_id: str, *, staff: bool = False) -> dict[str, Any]:
    """The company profile of ``org_id``. For staff (``GET /profiles/{org_id}``) an id that is no
    tenant of the directory and has no profile is a 404."""
    profile = session.get(CompanyProfile, org_id)
    refs = organisation_refs(session, directory, [org_id])
    if staff and profile is None:
        known = session.execute(select(directory.c.kind).where(directory.c.id == org_id)).scalar()
        if known != "tenant":
            raise NotFound(_("There is no tenant {id}.", id=org_id), code="not-found")
    return profile_view(profile, org_id, refs)


__all__ = [
    "example_cost",
    "eligibility_words",
    "get_product",
    "get_profile",
    "list_products",
    "product_view",
    "product_views",
    "profile_view",
    "stored_window",
]
