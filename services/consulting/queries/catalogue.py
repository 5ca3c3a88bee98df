"""The catalogue and the partner firms as their readers see them.

Who sees what (decisions, docs/CONSULTING.md "The catalogue"):
- the park's staff see everything: inactive categories and items, the firms serving each
  category, an item's whole SLA policy;
- everyone else signed in (tenants, partner agents) sees active categories and the active items
  of active categories only (an inactive one is a 404, as if it did not exist), and no firms;
- a tenant reads an item's targets on the tenant's clock only (what the park promises them), in
  business minutes and in words; a partner agent both clocks (the firm's is what it owes).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from services.consulting.models import Case, Category, FirmCategory, ServiceItem, directory
from services.consulting.permissions import RIGHTS
from services.consulting.queries.calendar import minutes_per_working_day
from services.consulting.queries.organisations import organisation_ref, organisations
from services.consulting.rules import OPEN
from services.consulting.rules.catalogue import CLOCKS, PRIORITIES, TARGETS, business_minutes_words
from shared.errors import NotFound
from shared.events.identity import PARTNER_KINDS
from shared.i18n import _
from shared.principal import Principal


def sees_inactive(actor: Principal) -> bool:
    """Whether ``actor`` reads inactive categories and items, and the firms behind a category:
    the park's staff, who manage and route them."""
    return actor.is_staff


def clocks_shown(actor: Principal) -> tuple[str, ...]:
    """The SLA clocks of an item's targets ``actor`` reads: a tenant the tenant's alone."""
    return CLOCKS if actor.is_staff or actor.is_partner else ("tenant",)


# Categories ------------------------------------------------------------------------------------


def category_view(category: Category, actor: Principal, firms: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A category; ``firms`` (those serving it) for the staff only, None for anyone else."""
    return {
        "code": category.code,
        "name": category.name,
        "name_zh": category.name_zh,
        "description": category.description,
        "description_zh": category.description_zh,
        "routing": category.routing,
        "position": category.position,
        "active": category.active,
        "firms": firms if sees_inactive(actor) else None,
        "version": category.version,
        "updated_at": category.updated_at,
    }


def firms_by_category(session: Session, codes: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The firms serving each category of ``codes`` (as :func:`organisation_ref` shows them, with
    their ``status``; a firm the directory does not hold is shown by its id), by name."""
    wanted = list(codes)
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not wanted:
        return found
    links = session.execute(
        select(FirmCategory.category_code, FirmCategory.firm_org_id).where(FirmCategory.category_code.in_(wanted))
    ).all()
    rows = organisations(session, (firm for _code, firm in links))
    for code, firm in links:
        status = rows[firm]["status"] if firm in rows else None
        found[code].append({**(organisation_ref(rows, firm) or {}), "status": status})
    for firms in found.values():
        firms.sort(key=lambda firm: (firm["name"] is None, firm["name"] or firm["id"]))
    return found


def list_categories(session: Session, actor: Principal, args: Mapping[str, Any]) -> dict[str, Any]:
    """The categories ``actor`` may see in the park's order (``position``, then code); ``active``
    narrows the staff's list."""
    query = select(Category).order_by(Category.position, Category.code)
    if not sees_inactive(actor):
        query = query.where(Category.active.is_(True))
    elif args.get("active") is not None:
        query = query.where(Category.active.is_(args["active"]))
    categories = list(session.scalars(query))
    firms = firms_by_category(session, [c.code for c in categories]) if sees_inactive(actor) else {}
    return {"items": [category_view(c, actor, firms.get(c.code, [])) for c in categories]}


def visible_category(session: Session, actor: Principal, code: str) -> Category:
    """The category ``code`` if ``actor`` may see it; 404 otherwise."""
    category = session.get(Category, code)
    if category is None or not (category.active or sees_inactive(actor)):
        raise NotFound(_("There is no category {code}.", code=code), code="not-found")
    return category


def get_category(session: Session, actor: Principal, code: str) -> dict[str, Any]:
    category = visible_category(session, actor, code)
    return category_view(category, actor, firms_by_category(session, [code]).get(code, []))


# Service items ---------------------------------------------------------------------------------


def targets_view(policy: Mapping[str, Any], clocks: Iterable[str], minutes_per_day: int) -> list[dict[str, Any]]:
    """An SLA policy's targets on ``clocks``: one entry per priority, clock and target with its
    business minutes and the same in words (``text``, a marked message)."""
    entries = []
    targets = policy.get("targets", {})
    for priority in PRIORITIES:
        for clock in clocks:
            for target in TARGETS:
                minutes = targets.get(priority, {}).get(clock, {}).get(target)
                if isinstance(minutes, int):
                    entries.append(
                        {
                            "priority": priority,
                            "clock": clock,
                            "target": target,
                            "minutes": minutes,
                            "text": business_minutes_words(minutes, minutes_per_day),
                        }
                    )
    return entries


def item_view(item: ServiceItem, category: Category, actor: Principal, minutes_per_day: int) -> dict[str, Any]:
    """A service item as ``actor`` reads it: its ``category`` as a case names it (code and
    names), ``sla_policy`` whole for the staff (None for others), ``targets`` on the clocks the
    reader sees (:func:`clocks_shown`)."""
    return {
        "id": item.id,
        "category": {"code": category.code, "name": category.name, "name_zh": category.name_zh},
        "code": item.code,
        "name": item.name,
        "name_zh": item.name_zh,
        "description": item.description,
        "description_zh": item.description_zh,
        "intake_fields": list(item.intake_fields or []),
        "fee_guidance": item.fee_guidance,
        "fee_guidance_zh": item.fee_guidance_zh,
        "fee_from": item.fee_from,
        "fee_to": item.fee_to,
        "quote_required": item.quote_required,
        "sla_policy": dict(item.sla_policy) if actor.is_staff else None,
        "targets": targets_view(item.sla_policy or {}, clocks_shown(actor), minutes_per_day),
        "position": item.position,
        "active": item.active,
        "version": item.version,
        "updated_at": item.updated_at,
    }


def _items_seen(actor: Principal) -> Select[ServiceItem, Category]:
    query = select(ServiceItem, Category).join(Category, Category.code == ServiceItem.category_code)
    if not sees_inactive(actor):
        query = query.where(ServiceItem.active.is_(True), Category.active.is_(True))
    return query


def list_items(session: Session, actor: Principal, args: Mapping[str, Any]) -> dict[str, Any]:
    """The items ``actor`` may see, by category (in the categories' order) then position;
    ``category`` and (staff) ``active`` narrow it."""
    query = _items_seen(actor).order_by(Category.position, Category.code, ServiceItem.position, ServiceItem.code)
    if args.get("category"):
        query = query.where(ServiceItem.category_code == args["category"])
    if sees_inactive(actor) and args.get("active") is not None:
        query = query.where(ServiceItem.active.is_(args["active"]))
    per_day = minutes_per_working_day(session)
    return {"items": [item_view(item, category, actor, per_day) for item, category in session.execute(query)]}


def get_item(session: Session, actor: Principal, item_id: str) -> dict[str, Any]:
    """One item; 404 for an item ``actor`` may not see (inactive, or of an inactive category)."""
    found = session.execute(_items_seen(actor).where(ServiceItem.id == item_id)).first()
    if found is None:
        raise NotFound(_("There is no service item {id}.", id=item_id), code="not-found")
    item, category = found
    return item_view(item, category, actor, minutes_per_working_day(session))


# Firms -----------------------------------------------------------------------------------------


FIRM_KINDS = ("law_firm", "accounting_firm", "ip_agency", "hr_firm", "cro_cdmo")
"""The partner kinds that serve consulting. Banks, guarantee companies, funds, lessors and
government bodies are finance's and the park's partners: they are firms only once they declared
a category (any partner organisation may, which makes it one)."""


def _is_firm() -> Any:
    """The directory's rows that are firms: a consulting kind, or a partner that declared."""
    declared = select(FirmCategory.firm_org_id).where(FirmCategory.firm_org_id == directory.c.id).exists()
    return directory.c.kind.in_(FIRM_KINDS) | (directory.c.kind.in_(PARTNER_KINDS) & declared)


def declaration_version(codes: Iterable[str]) -> int:
    """The ``ETag`` of a firm's declaration: a checksum of its sorted category codes (CRC-32), so
    it changes whenever the list does; 0 for a firm that declared nothing."""
    listed = ",".join(sorted(codes))
    return zlib.crc32(listed.encode()) if listed else 0


@dataclass(frozen=True)
class Firm:
    """What the rights ``read_firms`` and ``declare_categories`` read of a firm: its organisation."""

    firm_org_id: str


def firm_row(session: Session, org_id: str, *, declaring: bool = False) -> Mapping[str, Any] | None:
    """The directory's row of ``org_id`` when it is a firm (:data:`FIRM_KINDS`, or a partner that
    declared a category); with ``declaring``, any partner organisation (declaring makes it a
    firm). None else."""
    row = organisations(session, [org_id]).get(org_id)
    if row is None or row["kind"] not in PARTNER_KINDS:
        return None
    if declaring or row["kind"] in FIRM_KINDS:
        return dict(row)
    declared = session.scalar(select(FirmCategory.category_code).where(FirmCategory.firm_org_id == org_id).limit(1))
    return dict(row) if declared is not None else None


def firm_views(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each firm with the categories it serves (code, names, who declared it and when) and its
    open cases (assigned to it and not closed or cancelled)."""
    ids = [row["id"] for row in rows]
    served: dict[str, list[dict[str, Any]]] = defaultdict(list)
    counts: dict[str, int] = {}
    if ids:
        declared = session.execute(
            select(FirmCategory, Category.name, Category.name_zh, Category.active)
            .join(Category, Category.code == FirmCategory.category_code)
            .where(FirmCategory.firm_org_id.in_(ids))
            .order_by(Category.position, Category.code)
        )
        for link, name, name_zh, active in declared:
            served[link.firm_org_id].append(
                {
                    "code": link.category_code,
                    "name": name,
                    "name_zh": name_zh,
                    "active": active,
                    "declared_by": link.declared_by,
                    "declared_at": link.declared_at,
                }
            )
        open_cases = session.execute(
            select(Case.firm_org_id, func.count())
            .where(Case.firm_org_id.in_(ids), Case.status.in_(OPEN))
            .group_by(Case.firm_org_id)
        )
        counts = {str(firm): int(count) for firm, count in open_cases}
    return [
        {
            "id": row["id"],
            "name": row["name"],
            "name_zh": row["name_zh"],
            "kind": row["kind"],
            "status": row["status"],
            "categories": served.get(row["id"], []),
            "open_cases": counts.get(row["id"], 0),
            "version": declaration_version(c["code"] for c in served.get(row["id"], [])),
        }
        for row in rows
    ]


def list_firms(session: Session, actor: Principal) -> dict[str, Any]:
    """Every firm of the directory (:data:`FIRM_KINDS`, and partners that declared a category)
    for the staff; a partner agent's own firm alone (none when their organisation is not one)."""
    query = select(directory.c.id, directory.c.name, directory.c.name_zh, directory.c.kind, directory.c.status).where(
        _is_firm()
    )
    if not actor.is_staff:
        query = query.where(directory.c.id == actor.org_id)
    rows = [dict(row) for row in session.execute(query.order_by(directory.c.name)).mappings()]
    return {"items": firm_views(session, rows)}


def get_firm(session: Session, actor: Principal, org_id: str) -> dict[str, Any]:
    """One firm: 404 when ``org_id`` is not a firm of the directory (:func:`firm_row`), 403 for a
    partner agent of another firm (``read_firms``)."""
    row = firm_row(session, org_id)
    if row is None:
        raise NotFound(_("There is no partner firm {id}.", id=org_id), code="not-found")
    RIGHTS.require(actor, "read_firms", Firm(org_id))
    return firm_views(session, [row])[0]
