"""The names notify shows for its codes, in the park's two languages, registered as labels.

``notify-audience``: why a person hears of an event (:mod:`services.notify.rules.recipients`);
``notice-kind``: the kinds of notice a person sets preferences per (:mod:`services.notify.rules.notices`).

Importing this module registers them. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.i18n import Message, _, register_labels

AUDIENCE = "notify-audience"
NOTICE_KIND = "notice-kind"

AUDIENCE_NAMES: Mapping[str, Message] = {
    "booker": _("You made the booking"),
    "submitter": _("You submitted the case"),
    "applicant": _("You drafted the application"),
    "org_admins": _("You administer the organisation"),
    "desk": _("Service desk"),
    "exhibitor": _("Your organisation exhibits there"),
    "assigned_firm": _("Your firm is assigned the case"),
    "previous_firm": _("Your firm held the case"),
    "routed_partners": _("The application is routed to you"),
    "newly_routed_partners": _("The application was routed to you"),
    "partner": _("The change is about your organisation"),
    "accepted_partner": _("Your offer was accepted"),
}

NOTICE_KIND_NAMES: Mapping[str, Message] = {
    "booking": _("Bookings"),
    "case": _("Consulting cases"),
    "quote": _("Quotes"),
    "sla": _("Case deadlines"),
    "application": _("Financing applications"),
    "offer": _("Offers"),
    "payout": _("Payouts"),
    "webhook": _("Webhook endpoints"),
}

LABELS: Mapping[str, Mapping[str, Message]] = {AUDIENCE: AUDIENCE_NAMES, NOTICE_KIND: NOTICE_KIND_NAMES}

for _kind, _names in LABELS.items():
    register_labels(_kind, _names)
