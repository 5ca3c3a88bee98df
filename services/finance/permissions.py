"""Who may do what in finance: one table (:data:`RIGHTS`); the checks of the handlers, queries and
views, the refusal texts and the "Who may do what" section of docs/FINANCE.md all come from it.

The subject of an application's rows is the application: its ``org_id`` (the tenant's
organisation), ``partner_org_ids`` (the partners it is routed to) and ``accepted_partner_org_id``
(the partner whose offer was accepted, or the bureau that approved a subsidy; none before). The
subject of an offer's rows (and of a partner's review) is the offer: its ``org_id`` (the
tenant's) and ``partner_org_id`` (the partner that made it). So a partner reads the applications
routed to it, and its own offers, never another partner's. Pure: no Flask, no session. ``python
-m services.finance.permissions`` prints the table as the docs show it (``--locale zh`` in Chinese).
"""

from __future__ import annotations

import argparse
from collections.abc import Collection

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
    organisation_of,
)

_STAFF = (DESK_STAFF, PARK_ADMIN)
_TENANTS = (TENANT_MEMBER, TENANT_ADMIN)
_TENANT_ROLES = frozenset(r for w in _TENANTS for r in w.roles)
_PARTNER_ROLES = frozenset(PARTNER.roles)


def _of_the_organisation(actor: Principal, subject: object) -> bool:
    return bool(actor.org_id) and actor.org_id == organisation_of(subject)


def _routed_to_them(actor: Principal, application: object) -> bool:
    partners = getattr(application, "partner_org_ids", None)
    return (
        bool(actor.org_id)
        and isinstance(partners, Collection)
        and not isinstance(partners, str)
        and actor.org_id in partners
    )


def _accepted_them(actor: Principal, application: object) -> bool:
    partner = getattr(application, "accepted_partner_org_id", None)
    return bool(actor.org_id) and isinstance(partner, str) and partner == actor.org_id


def _their_offer(actor: Principal, offer: object) -> bool:
    partner = getattr(offer, "partner_org_id", None)
    return bool(actor.org_id) and isinstance(partner, str) and partner == actor.org_id


APPLICANT = Who(
    "applicant_organisation", _("a tenant of the applying organisation"), _TENANT_ROLES, _of_the_organisation
)
"""A tenant member or admin of the organisation that applies (the application's ``org_id``):
financing is the company's, not one employee's; everyone of it follows it."""

ROUTED_PARTNER = Who("routed_partner", _("a partner the application is routed to"), _PARTNER_ROLES, _routed_to_them)
"""A partner agent of one of the partners the desk routed the application to (``partner_org_ids``)."""

ACCEPTED_PARTNER = Who("accepted_partner", _("the partner whose offer was accepted"), _PARTNER_ROLES, _accepted_them)
"""A partner agent of the partner whose offer the tenant accepted, or of the bureau that approved
a subsidy (``accepted_partner_org_id``)."""

OFFERING_PARTNER = Who("offering_partner", _("the partner that made it"), _PARTNER_ROLES, _their_offer)
"""A partner agent of the partner that made the offer (or reviews the application: the review's
``partner_org_id``): its own offers and reviews only."""

COMPANY_TENANT = Who("company_tenant", _("a tenant of the company"), _TENANT_ROLES, _of_the_organisation)
"""A tenant member or admin of the company a profile describes (its ``org_id``)."""

_TENANT_SIDE = (APPLICANT,)
_INVOLVED = (APPLICANT, ROUTED_PARTNER, *_STAFF)

RIGHTS = Rights(
    # Applications.
    Right("create", _("draft an application"), _TENANTS, note=_("for their own organisation")),
    Right("read", _("read an application, its documents and its history"), _INVOLVED, hidden=True),
    Right(
        "list",
        _("list applications"),
        (*_TENANTS, PARTNER, *_STAFF),
        note=_("a tenant: their organisation's; a partner agent: those routed to their partner; staff: all"),
    ),
    Right(
        "edit",
        _("change an application or its documents"),
        _TENANT_SIDE,
        note=_("a draft, or while partners review it: the offers made lapse"),
    ),
    Right("submit", _("submit an application"), _TENANT_SIDE),
    Right("withdraw", _("withdraw an application"), _TENANT_SIDE, note=_("before an offer is accepted")),
    Right("start_pre_review", _("start the pre-review of an application"), _STAFF),
    Right("route", _("route an application to partners"), _STAFF, note=_("the product's providers only")),
    Right("turn_down", _("turn an application down"), _STAFF, note=_("with a reason")),
    Right("close", _("close an application paid out in full"), _STAFF),
    # A partner's review.
    Right("start_review", _("start reviewing an application"), (ROUTED_PARTNER,)),
    Right(
        "request_info",
        _("ask the tenant for documents or answers"),
        (ROUTED_PARTNER,),
        note=_("saying what is needed; the review pauses"),
    ),
    Right("provide_info", _("answer a partner's request"), _TENANT_SIDE, note=_("the review resumes")),
    Right(
        "decline",
        _("decline an application"),
        (ROUTED_PARTNER,),
        note=_("with a reason code; for its own review only"),
    ),
    Right("make_offer", _("make an offer"), (ROUTED_PARTNER,)),
    Right("approve", _("approve a subsidy's amount"), (ROUTED_PARTNER,), note=_("a government bureau")),
    # Offers.
    Right(
        "read_offer",
        _("read an offer"),
        (APPLICANT, OFFERING_PARTNER, *_STAFF),
        hidden=True,
        note=_("a partner: its own offers only, never another partner's"),
    ),
    Right("accept_offer", _("accept an offer"), (TENANT_ADMIN_OF_ORGANISATION,), note=_("binds the company")),
    Right("decline_offer", _("decline an offer"), (TENANT_ADMIN_OF_ORGANISATION,)),
    Right("withdraw_offer", _("withdraw an offer"), (OFFERING_PARTNER,), note=_("before the tenant accepts it")),
    # After acceptance.
    Right("sign_contract", _("record the signed contract"), (ACCEPTED_PARTNER, *_STAFF)),
    Right(
        "record_disbursement",
        _("record a disbursement"),
        (ACCEPTED_PARTNER, *_STAFF),
        note=_("a tranche within the accepted amount"),
    ),
    Right(
        "approve_disbursement",
        _("approve a disbursement or a subsidy's payout"),
        (ACCEPTED_PARTNER, *_STAFF),
        note=_("a second person: never who recorded it"),
    ),
    Right(
        "record_pledge",
        _("record or release an IP pledge's registration"),
        (ACCEPTED_PARTNER, *_STAFF),
    ),
    Right("request_valuation", _("ask an appraisal firm to value the patents"), _STAFF),
    Right(
        "record_valuation",
        _("record the patents' appraised value"),
        (ACCEPTED_PARTNER, *_STAFF),
        note=_("the loan-to-value ratio follows from it"),
    ),
    # Products and reports.
    Right("read_products", _("read the financing products"), (SIGNED_IN,)),
    Right("manage_products", _("create or change financing products"), (PARK_ADMIN,)),
    # Company profiles.
    Right(
        "read_profile",
        _("read their company's profile"),
        (COMPANY_TENANT,),
        note=_("what eligibility is checked against"),
    ),
    Right("edit_profile", _("change their company's profile"), (TENANT_ADMIN_OF_ORGANISATION,)),
    Right("read_profiles", _("read any tenant's company profile"), _STAFF),
    Right("reports", _("read the pipeline reports"), (PARK_ADMIN,)),
)
"""Every action of finance and who may do it (docs/FINANCE.md, "Who may do what", renders it)."""


def can_see(actor: Principal, application: object) -> bool:
    """The ``read`` right: a tenant of the organisation, a partner it is routed to, staff."""
    return RIGHTS.allows(actor, "read", application)


def sees_offer(actor: Principal, offer: object) -> bool:
    """The ``read_offer`` right: a tenant of the organisation, the partner that made it, staff."""
    return RIGHTS.allows(actor, "read_offer", offer)


LIST_SCOPES = ("organisation", "partner", "all")


def list_scope(actor: Principal) -> str:
    """Which applications ``actor``'s list holds: staff all; a partner agent those routed to its
    partner; a tenant their organisation's."""
    if actor.is_staff:
        return "all"
    if actor.is_partner:
        return "partner"
    return "organisation"


def sees_tenant_names(actor: Principal) -> bool:
    """Whether ``actor`` reads the tenant's names of an application's states
    (``finance-application-status-tenant``): tenants do; staff and partners read the staff's."""
    return not (actor.is_staff or actor.is_partner)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print finance's rights table as docs/FINANCE.md shows it.")
    parser.add_argument("--locale", default="en", choices=("en", "zh"))
    print(RIGHTS.markdown(parser.parse_args(argv).locale), end="")


if __name__ == "__main__":
    main()
