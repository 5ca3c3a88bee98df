"""Who may do what in consulting: one table (:data:`RIGHTS`); the checks of the handlers, queries
and views, the refusal texts and the "Who may do what" section of docs/CONSULTING.md all come
from it.

The subject of a case's rows is the case: its ``org_id`` (the tenant's organisation),
``submitted_by`` (who submitted it) and ``firm_org_id`` (the firm assigned, none before one is
and after it declined). A message's or an attachment's subject is its case, the row named by the
message's visibility (:data:`MESSAGE_RIGHTS`). Pure: no Flask, no session. ``python -m
services.consulting.permissions`` prints the table as the docs show it (``--locale zh`` in Chinese).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass

from shared.i18n import _
from shared.principal import Principal
from shared.rights import (
    DESK_STAFF,
    PARK_ADMIN,
    PARTNER,
    SIGNED_IN,
    TENANT_ADMIN,
    TENANT_ADMIN_OF_ORGANISATION,
    TENANT_MEMBER,
    Right,
    Rights,
    Who,
    person,
)

_STAFF = (DESK_STAFF, PARK_ADMIN)
_TENANTS = (TENANT_MEMBER, TENANT_ADMIN)

SUBMITTER = person(
    "submitter", _("the submitter"), "submitted_by", roles=(r for w in _TENANTS for r in sorted(w.roles))
)
"""Who submitted the case (its ``submitted_by``), while a member of its organisation and a tenant."""


def _assigned_to_them(actor: Principal, case: object) -> bool:
    firm = getattr(case, "firm_org_id", None)
    return bool(actor.org_id) and isinstance(firm, str) and firm == actor.org_id


ASSIGNED_FIRM = Who("assigned_firm", _("the firm assigned"), frozenset(PARTNER.roles), _assigned_to_them)
"""A partner agent of the firm the case is assigned to (its ``firm_org_id``). A firm that
declined, or whose case went to another firm, is no longer it."""

FIRM_ITSELF = Who("firm_itself", _("an agent of the firm itself"), frozenset(PARTNER.roles), _assigned_to_them)
"""A partner agent of the firm acted on (its ``firm_org_id``): a firm reads and declares its own
categories, never another firm's."""

_TENANT_SIDE = (SUBMITTER, TENANT_ADMIN_OF_ORGANISATION)


def _asked_for_it(actor: Principal, meeting: object) -> bool:
    asker, asker_org = getattr(meeting, "requested_by", None), getattr(meeting, "requested_by_org_id", None)
    return bool(actor.org_id) and asker == actor.subject and asker_org == actor.org_id


MEETING_REQUESTER = Who(
    "meeting_requester",
    _("who asked for the meeting"),
    frozenset({"tenant_member", "tenant_admin", "partner_agent"}),
    _asked_for_it,
)
"""Who asked for a meeting (its ``requested_by``), while of the organisation they asked from."""


@dataclass(frozen=True)
class MeetingOnCase:
    """The subject of a meeting's rows: its case's organisation and who asked for it, from where."""

    org_id: str
    requested_by: str
    requested_by_org_id: str


def meeting_subject(case: object, meeting: object) -> MeetingOnCase:
    return MeetingOnCase(
        str(getattr(case, "org_id", "")),
        str(getattr(meeting, "requested_by", "")),
        str(getattr(meeting, "requested_by_org_id", "")),
    )


_INVOLVED = (*_TENANT_SIDE, ASSIGNED_FIRM, *_STAFF)

RIGHTS = Rights(
    # Cases.
    Right("submit", _("submit a case"), _TENANTS, note=_("partners and staff do not submit cases")),
    Right("read", _("read a case, its history and its quotes"), _INVOLVED, hidden=True),
    Right(
        "list",
        _("list cases"),
        (*_TENANTS, PARTNER, *_STAFF),
        note=_(
            "a tenant member: the cases they submitted; a tenant admin: their organisation's; "
            "a partner agent: those assigned to their firm; staff: all"
        ),
    ),
    Right("triage", _("triage a case"), _STAFF),
    Right("assign", _("assign a case to a firm"), _STAFF, note=_("or the routing rule, in the worker")),
    Right("accept", _("accept a case"), (ASSIGNED_FIRM,)),
    Right("decline", _("decline a case"), (ASSIGNED_FIRM,), note=_("with a reason; back to the desk")),
    Right("start", _("start work on a case"), (ASSIGNED_FIRM,)),
    Right("wait", _("put a case to wait on the tenant"), (ASSIGNED_FIRM, *_STAFF), note=_("saying what is asked")),
    Right("resume", _("resume work on a case"), _INVOLVED, note=_("the tenant, once they have answered")),
    Right("propose_solution", _("propose a solution"), (ASSIGNED_FIRM,)),
    Right(
        "record_valuation",
        _("record the valuation of a valuation case"),
        (ASSIGNED_FIRM,),
        note=_("amount and report, before proposing the solution"),
    ),
    Right("accept_solution", _("accept a solution"), _TENANT_SIDE),
    Right("reject_solution", _("reject a solution"), _TENANT_SIDE, note=_("with a reason; the case reopens")),
    Right(
        "cancel",
        _("cancel a case"),
        (*_TENANT_SIDE, *_STAFF),
        note=_("before work starts; staff say why"),
    ),
    Right("rate", _("rate a closed case"), _TENANT_SIDE),
    # Messages: one pair of rows per visibility (MESSAGE_RIGHTS).
    Right("post_tenant_message", _("write a message the tenant sees"), _INVOLVED),
    Right("read_tenant_messages", _("read the messages the tenant sees"), _INVOLVED),
    Right("post_desk_note", _("write a note internal to the desk"), _STAFF),
    Right("read_desk_notes", _("read the notes internal to the desk"), _STAFF, note=_("never the firm")),
    Right("post_firm_note", _("write a note internal to the firm"), (ASSIGNED_FIRM,)),
    Right(
        "read_firm_notes",
        _("read the notes internal to the firm"),
        (ASSIGNED_FIRM, *_STAFF),
        note=_("only the firm that wrote them, while assigned; staff oversee the firms' work; never the tenant"),
    ),
    Right(
        "download_attachment",
        _("download a message's attachment"),
        _INVOLVED,
        hidden=True,
        note=_("only those who may read the message"),
    ),
    # Quotes.
    Right("propose_quote", _("propose a fee"), (ASSIGNED_FIRM,)),
    Right("accept_quote", _("accept a quote"), _TENANT_SIDE),
    Right("reject_quote", _("reject a quote"), _TENANT_SIDE),
    # Meetings: a room booking holds for a meeting on the case (read with the case).
    Right(
        "request_meeting",
        _("ask for a meeting on a case"),
        (*_TENANT_SIDE, ASSIGNED_FIRM),
        note=_("booking is asked to hold a room"),
    ),
    Right(
        "cancel_meeting",
        _("cancel a meeting"),
        (MEETING_REQUESTER, TENANT_ADMIN_OF_ORGANISATION, *_STAFF),
        note=_("its room is released"),
    ),
    Right(
        "retry_meeting",
        _("ask booking again for a meeting"),
        _STAFF,
        note=_("after no answer or a refusal, under a new request"),
    ),
    # The catalogue, the calendar, reports.
    Right("read_catalogue", _("read the categories and service items"), (SIGNED_IN,)),
    Right("manage_catalogue", _("create or change categories and service items"), (PARK_ADMIN,)),
    Right(
        "read_firms",
        _("read the partner firms, the categories they serve and their open cases"),
        (FIRM_ITSELF, *_STAFF),
        note=_("a partner agent: their own firm only"),
    ),
    Right(
        "declare_categories",
        _("declare the categories a firm serves"),
        (FIRM_ITSELF, PARK_ADMIN),
        note=_("park admin does it for a firm"),
    ),
    Right("read_calendar", _("read the business calendar"), (SIGNED_IN,)),
    Right(
        "manage_calendar",
        _("change the business calendar: working hours, holidays and make-up days"),
        (PARK_ADMIN,),
    ),
    Right("reports", _("read the SLA, backlog and rating reports"), (PARK_ADMIN,)),
)
"""Every action of consulting and who may do it (docs/CONSULTING.md, "Who may do what", renders it)."""

MESSAGE_VISIBILITIES = ("tenant", "desk", "firm")
MESSAGE_RIGHTS: Mapping[str, tuple[str, str]] = {
    "tenant": ("post_tenant_message", "read_tenant_messages"),
    "desk": ("post_desk_note", "read_desk_notes"),
    "firm": ("post_firm_note", "read_firm_notes"),
}
"""Each visibility of a message: the rows that say who may write it and who may read it."""


def can_see(actor: Principal, case: object) -> bool:
    """The ``read`` right: the submitter, a tenant admin of the organisation, the firm assigned, staff."""
    return RIGHTS.allows(actor, "read", case)


def may_write(actor: Principal, case: object, visibility: str) -> bool:
    return RIGHTS.allows(actor, MESSAGE_RIGHTS[visibility][0], case)


def may_read(actor: Principal, case: object, visibility: str) -> bool:
    """Whether ``actor`` reads the case's messages of ``visibility`` (and downloads their attachments)."""
    return RIGHTS.allows(actor, MESSAGE_RIGHTS[visibility][1], case)


def visible_messages(actor: Principal, case: object) -> tuple[str, ...]:
    """The visibilities of the case's messages ``actor`` reads: the first filter of a thread
    (:func:`reads_message` is the whole rule)."""
    return tuple(v for v in MESSAGE_VISIBILITIES if may_read(actor, case, v))


def reads_firm_note(actor: Principal, message: object) -> bool:
    """A firm's internal notes are the writing firm's: a partner agent reads one only when its
    firm wrote it (the message's ``author_org_id``), so a firm assigned after another declined or
    was replaced never reads the notes, nor downloads the files, of the one before. The park's
    staff read every firm's (they oversee the firms' work). Other visibilities: True (their
    rows say it all)."""
    if getattr(message, "visibility", None) != "firm" or actor.is_staff:
        return True
    author_org = getattr(message, "author_org_id", None)
    return bool(actor.org_id) and isinstance(author_org, str) and author_org == actor.org_id


def reads_message(actor: Principal, case: object, message: object) -> bool:
    """Whether ``actor`` reads ``message`` of ``case`` (and downloads its files): the reading row
    of its visibility (:data:`MESSAGE_RIGHTS`) and, for a firm's internal note, :func:`reads_firm_note`."""
    visibility = getattr(message, "visibility", "")
    return may_read(actor, case, visibility) and reads_firm_note(actor, message)


# Rules that depend on who acts without refusing anybody: named here, once.

LIST_SCOPES = ("own", "organisation", "firm", "all")


def list_scope(actor: Principal) -> str:
    """Which cases ``actor``'s list holds: staff all; a partner agent their firm's (assigned to
    it); a tenant admin their organisation's; a tenant member their own."""
    if actor.is_staff:
        return "all"
    if actor.is_partner:
        return "firm"
    if actor.is_tenant_admin:
        return "organisation"
    return "own"


def sees_tenant_names(actor: Principal) -> bool:
    """Whether ``actor`` reads the tenant's names of a case's states (``case-status-tenant``)
    rather than the staff's (``case-status``): tenants do; staff and firms, who work the case,
    read the staff's."""
    return not (actor.is_staff or actor.is_partner)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print consulting's rights table as docs/CONSULTING.md shows it.")
    parser.add_argument("--locale", default="en", choices=("en", "zh"))
    print(RIGHTS.markdown(parser.parse_args(argv).locale), end="")


if __name__ == "__main__":
    main()
