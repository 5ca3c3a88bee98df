"""The pipeline report (park admin): per product or per partner, over the applications submitted
on the park days ``from``–``to``: how many and how much (the amounts asked for) in each state
now, the partners' reviews decided and the offers made of them (the approval rate), the median
days from submission to the first offer, and the amount paid out (approved tranches).

Grouped by product, every application of the product counts, with all its reviews and offers.
Grouped by partner, an application counts for every partner it is routed to, with that partner's
review and offers only; what was paid out counts for the partner whose offer was accepted (or the
bureau that approved a subsidy). A review is decided when an offer (or a bureau's approval) came of
it or it was declined; the approval rate is the decided reviews with an offer over all decided."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.finance.models import Application, Disbursement, Offer, Product, directory
from services.finance.queries.payouts import APPROVED
from services.finance.rules.lifecycle import STATUSES
from services.finance.rules.money import format_amount
from services.finance.rules.names import APPLICATION_STATUS
from shared.clock import as_utc
from shared.i18n import Message, _, label
from shared.periods import park_period

GROUPINGS = ("product", "partner")
REPORTED_STATUSES = tuple(s for s in STATUSES if s != "draft")
"""The states a submitted application can be in (a draft is never submitted)."""
BATCH = 500
DECIDED_REVIEWS = ("offer_made", "approved", "declined")
_FOUR, _TENTH = Decimal("0.0001"), Decimal("0.1")
_DAY = Decimal(86400)


@dataclass
class _Group:
    key: str
    applications: Counter[str] = field(default_factory=Counter)
    amounts: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    decided: int = 0
    offered: int = 0
    days_to_offer: list[Decimal] = field(default_factory=list)
    disbursed: Decimal = Decimal("0")


def _applications(session: Session, start: datetime, end: datetime) -> Iterator[list[Application]]:
    after = ""
    while True:
        query = (
            select(Application)
            .where(Application.submitted_at >= start, Application.submitted_at < end, Application.id > after)
            .order_by(Application.id)
            .limit(BATCH)
        )
        batch = list(session.execute(query).scalars())
        if not batch:
            return
        yield batch
        after = batch[-1].id


def _days(submitted: datetime, offered: datetime) -> Decimal:
    return Decimal(str((as_utc(offered) - as_utc(submitted)).total_seconds())) / _DAY


def pipeline_report(session: Session, first: date, last: date, group_by: str, now: datetime) -> dict[str, Any]:
    """The report as JSON-ready data: ``from_``, ``to``, ``group_by``, ``generated_at`` and
    ``groups`` (by name), each with ``key`` (the product's or the partner's id), ``name``,
    ``name_zh``, ``applications``, ``amount_requested``, ``by_status`` (``status``, ``count``,
    ``amount`` for every state but draft), ``reviews_decided``, ``offers_made``,
    ``approval_rate`` (four places, None when none decided), ``median_days_to_offer`` (one place,
    None without offers) and ``disbursed``. Money as decimal strings with two places."""
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping {group_by!r}")
    start, end = park_period(first, last)
    groups: dict[str, _Group] = {}

    def group(key: str) -> _Group:
        return groups.setdefault(key, _Group(key))

    for batch in _applications(session, start, end):
        ids = [a.id for a in batch]
        offers: dict[str, list[tuple[str, str, datetime]]] = defaultdict(list)
        query = select(Offer.application_id, Offer.review_id, Offer.partner_org_id, Offer.made_at).where(
            Offer.application_id.in_(ids)
        )
        for application_id, review_id, offering, made_at in session.execute(query):
            offers[application_id].append((review_id, offering, made_at))
        paid_query = (
            select(Disbursement.application_id, func.sum(Disbursement.amount))
            .where(Disbursement.application_id.in_(ids), Disbursement.status == APPROVED)
            .group_by(Disbursement.application_id)
        )
        paid = {application_id: Decimal(total) for application_id, total in session.execute(paid_query)}
        for application in batch:
            reviewed = {r.id for r in application.reviews if r.status in DECIDED_REVIEWS}
            with_offer = {review_id for review_id, _p, _m in offers[application.id]}
            members: list[tuple[_Group, str | None]]
            if group_by == "product":
                members = [(group(application.product_id), None)]
            else:
                members = [(group(p), p) for p in dict.fromkeys(application.partner_org_ids)]
            for own, partner in members:
                own.applications[application.status] += 1
                own.amounts[application.status] += application.amount
                reviews = {r.id for r in application.reviews if partner is None or r.partner_org_id == partner}
                own.decided += len(reviews & (reviewed | with_offer))
                own.offered += len(reviews & with_offer)
                made = [m for _r, p, m in offers[application.id] if partner is None or p == partner]
                if made and application.submitted_at is not None:
                    own.days_to_offer.append(_days(application.submitted_at, min(made)))
                if partner is None or partner == application.accepted_partner_org_id:
                    own.disbursed += paid.get(application.id, Decimal("0"))
    names = _names(session, group_by, list(groups))
    rows = [_row(g, names.get(g.key)) for g in groups.values()]
    rows.sort(key=lambda r: (r["name"] or "", r["key"]))
    return {"from_": first, "to": last, "group_by": group_by, "generated_at": now, "groups": rows}


def _names(session: Session, group_by: str, keys: list[str]) -> dict[str, tuple[str, str]]:
    if not keys:
        return {}
    if group_by == "product":
        query = select(Product.id, Product.name, Product.name_zh).where(Product.id.in_(keys))
    else:
        query = select(directory.c.id, directory.c.name, directory.c.name_zh).where(directory.c.id.in_(keys))
    return {key: (name, name_zh or name) for key, name, name_zh in session.execute(query)}


def _row(group: _Group, name: tuple[str, str] | None) -> dict[str, Any]:
    days = median(group.days_to_offer) if group.days_to_offer else None
    return {
        "key": group.key,
        "name": name[0] if name else group.key,
        "name_zh": name[1] if name else None,
        "applications": sum(group.applications.values()),
        "amount_requested": format_amount(sum(group.amounts.values(), Decimal("0"))),
        "by_status": [
            {
                "status": status,
                "count": group.applications.get(status, 0),
                "amount": format_amount(group.amounts.get(status, Decimal("0"))),
            }
            for status in REPORTED_STATUSES
        ],
        "reviews_decided": group.decided,
        "offers_made": group.offered,
        "approval_rate": str((Decimal(group.offered) / Decimal(group.decided)).quantize(_FOUR, ROUND_HALF_EVEN))
        if group.decided
        else None,
        "median_days_to_offer": str(Decimal(days).quantize(_TENTH, ROUND_HALF_UP)) if days is not None else None,
        "disbursed": format_amount(group.disbursed),
    }


# CSV -----------------------------------------------------------------------------------------


def csv_columns() -> dict[str, Message]:
    """Every column of the CSV, key → its header (rendered in the reader's language)."""
    columns: dict[str, Message] = {
        "group": _("Group"),
        "group_name": _("Name"),
        "applications": _("Applications submitted"),
        "amount_requested": _("Amount requested (yuan)"),
    }
    for status in REPORTED_STATUSES:
        named = label(APPLICATION_STATUS, status)
        columns[f"count_{status}"] = _("{status}: applications", status=named)
        columns[f"amount_{status}"] = _("{status}: amount (yuan)", status=named)
    columns["reviews_decided"] = _("Reviews decided")
    columns["offers_made"] = _("Offers made")
    columns["approval_rate"] = _("Approval rate")
    columns["median_days_to_offer"] = _("Median days to first offer")
    columns["disbursed"] = _("Disbursed (yuan)")
    return columns


def csv_row(group: Mapping[str, Any], name: str) -> dict[str, Any]:
    """One group of :func:`pipeline_report` flattened to :func:`csv_columns`' keys (``name`` in
    the reader's language)."""
    row: dict[str, Any] = {
        "group": group["key"],
        "group_name": name,
        **{k: group[k] for k in ("applications", "amount_requested", "reviews_decided", "offers_made")},
        **{k: group[k] for k in ("approval_rate", "median_days_to_offer", "disbursed")},
    }
    for entry in group["by_status"]:
        row[f"count_{entry['status']}"] = entry["count"]
        row[f"amount_{entry['status']}"] = entry["amount"]
    return row
