"""Park admin's catalogue: categories and service items created and changed; the categories a firm
serves declared by the firm's own agents or by park admin for it. That the caller manages the
catalogue is the view's guard (``manage_catalogue``); declaring is checked here on the firm
(``declare_categories``). No events: the catalogue is read where it is.

An item's SLA policy is copied into a case's clocks when they start (the cases' handlers), so a
change here applies to the cases submitted afterwards, never to a running clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.consulting.commands.catalogue import DeclareCategories, SaveCategory, SaveItem
from services.consulting.handlers.common import new_id
from services.consulting.models import Category, FirmCategory, ServiceItem
from services.consulting.permissions import RIGHTS
from services.consulting.queries.calendar import minutes_per_working_day
from services.consulting.queries.catalogue import (
    Firm,
    category_view,
    declaration_version,
    firm_row,
    firm_views,
    firms_by_category,
    item_view,
)
from services.consulting.rules.catalogue import check_fee_range, check_sla_policy
from services.consulting.rules.intake import check_intake_fields
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound, RuleViolation, check_version
from shared.i18n import Message, _

Versioned = TypeVar("Versioned", Category, ServiceItem)

CATEGORY_DEFAULTS: Mapping[str, Any] = {
    "description": "",
    "description_zh": "",
    "routing": "manual",
    "position": 0,
    "active": True,
}
ITEM_DEFAULTS: Mapping[str, Any] = {
    "description": "",
    "description_zh": "",
    "intake_fields": [],
    "fee_guidance": "",
    "fee_guidance_zh": "",
    "fee_from": None,
    "fee_to": None,
    "quote_required": False,
    "position": 0,
    "active": True,
}


def save_category(cmd: SaveCategory, *, uow: UnitOfWork) -> dict[str, Any]:
    """Create a category (409 ``rule/category-code-taken`` when the code exists) or change one
    under ``If-Match`` (404 unknown, 412 stale); returns it as the staff read it."""
    session = uow.session
    details = dict(cmd.details)
    if cmd.code is None and session.get(Category, details["code"]) is not None:
        raise _code_taken("category", details["code"])
    category = _saved(
        session,
        Category,
        cmd.code,
        details,
        cmd.expected_versions,
        create=lambda: Category(**{**CATEGORY_DEFAULTS, **details}),
        missing=_("There is no category {code}.", code=cmd.code),
    )
    category.updated_at = utcnow()
    _flush(uow, "category", category.code)
    return category_view(category, cmd.actor, firms_by_category(session, [category.code]).get(category.code, []))


def save_item(cmd: SaveItem, *, uow: UnitOfWork) -> dict[str, Any]:
    """Create a service item or change one under ``If-Match``. Its category must exist (422
    ``rule/unknown-category``), its code be free (409 ``rule/item-code-taken``), its intake form
    (``rule/intake-definition``), SLA policy (``rule/sla-policy-*``) and fee range (the fee
    rule's codes, ``rule/fee-range`` when the bounds are the wrong way round) valid; they are
    stored normalised. Returns it as the staff read it."""
    session = uow.session
    details = dict(cmd.details)
    if "category" in details:
        details["category_code"] = details.pop("category")
        if session.get(Category, details["category_code"]) is None:
            raise RuleViolation(
                _("There is no category {code}.", code=details["category_code"]), code="rule/unknown-category"
            )
    if "intake_fields" in details:
        details["intake_fields"] = check_intake_fields(details["intake_fields"])
    if "sla_policy" in details:
        details["sla_policy"] = check_sla_policy(details["sla_policy"])
    item = _saved(
        session,
        ServiceItem,
        cmd.item_id,
        details,
        cmd.expected_versions,
        create=lambda: ServiceItem(id=new_id(), **{**ITEM_DEFAULTS, **details}),
        missing=_("There is no service item {id}.", id=cmd.item_id),
    )
    item.fee_from, item.fee_to = check_fee_range(item.fee_from, item.fee_to)
    with session.no_autoflush:
        taken = session.execute(
            select(ServiceItem.id).where(ServiceItem.code == item.code, ServiceItem.id != item.id)
        ).first()
    if taken is not None:
        raise _code_taken("item", item.code)
    item.updated_at = utcnow()
    _flush(uow, "item", item.code)
    category = session.get(Category, item.category_code)
    assert category is not None  # checked above, or the item's own (a foreign key)
    return item_view(item, category, cmd.actor, minutes_per_working_day(session))


def _saved(
    session: Session,
    model: type[Versioned],
    key: str | None,
    details: Mapping[str, Any],
    expected: frozenset[int] | None,
    *,
    create: Callable[[], Versioned],
    missing: Message,
) -> Versioned:
    """The catalogue's create-or-update: with ``key`` None the row ``create`` makes, added to the
    session; else the row ``key`` of ``model`` (404 ``missing``) changed by ``details`` under
    ``If-Match`` (412 when its version is not one ``expected`` names)."""
    if key is None:
        created = create()
        session.add(created)
        return created
    row = session.get(model, key)
    if row is None:
        raise NotFound(missing, code="not-found")
    check_version(row.version, expected)
    for name, value in details.items():
        setattr(row, name, value)
    return row


def _code_taken(kind: str, code: str) -> Conflict:
    if kind == "category":
        return Conflict(
            _("A category with the code {code} exists already.", code=code), code="rule/category-code-taken"
        )
    return Conflict(_("A service item with the code {code} exists already.", code=code), code="rule/item-code-taken")


def _flush(uow: UnitOfWork, kind: str, code: str) -> None:
    """Write now, so the answer carries the new version; a row another request inserted with the
    same code in the meantime is the same 409 as one found before."""
    try:
        uow.session.flush()
    except IntegrityError:
        raise _code_taken(kind, code) from None


def declare_categories(cmd: DeclareCategories, *, uow: UnitOfWork) -> dict[str, Any]:
    """The categories the firm serves, replacing its declaration (categories kept keep who
    declared them and when). The firm's own partner agents or park admin
    (``declare_categories``, 403 otherwise), under ``If-Match`` on the declaration's version
    (:func:`declaration_version`, 412 stale); the organisation must be a partner organisation of
    the directory (422 ``rule/not-a-firm``; declaring makes a bank a firm too) and every category
    exist (422 ``rule/unknown-category``, naming those that do not). Returns the firm as
    ``GET /firms/{org_id}`` answers it."""
    session = uow.session
    RIGHTS.require(cmd.actor, "declare_categories", Firm(cmd.firm_org_id))
    row = firm_row(session, cmd.firm_org_id, declaring=True)
    if row is None:
        raise RuleViolation(
            _("Organisation {id} is not a partner firm of the park's directory.", id=cmd.firm_org_id),
            code="rule/not-a-firm",
        )
    wanted = list(dict.fromkeys(cmd.categories))
    known = set(session.scalars(select(Category.code).where(Category.code.in_(wanted))))
    unknown = [code for code in wanted if code not in known]
    if unknown:
        raise RuleViolation(
            _("There is no category {code}.", code=", ".join(unknown)), code="rule/unknown-category", unknown=unknown
        )
    held = set(
        session.scalars(
            select(FirmCategory.category_code).where(FirmCategory.firm_org_id == cmd.firm_org_id).with_for_update()
        )
    )
    check_version(declaration_version(held), cmd.expected_versions)
    session.execute(
        delete(FirmCategory).where(
            FirmCategory.firm_org_id == cmd.firm_org_id, FirmCategory.category_code.not_in(wanted)
        )
    )
    now = utcnow()
    session.add_all(
        FirmCategory(firm_org_id=cmd.firm_org_id, category_code=code, declared_by=cmd.actor.subject, declared_at=now)
        for code in wanted
        if code not in held
    )
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            _("Another change of this firm's categories got there first; try again."),
            code="conflict/concurrent-change",
        ) from None
    return firm_views(session, [row])[0]
