"""The kernel's own labels: roles, organisation kinds and statuses, as every service shows them.

Imported by ``shared.http.languages``, so they are registered wherever the HTTP layer runs.
"""

from __future__ import annotations

from shared.i18n import _, register_labels

register_labels(
    "role",
    {
        "tenant_member": _("Tenant member"),
        "tenant_admin": _("Tenant administrator"),
        "desk_staff": _("Service desk staff"),
        "park_admin": _("Park administrator"),
        "partner_agent": _("Partner agent"),
    },
)
register_labels(
    "organisation-kind",
    {
        "operator": _("Park operator"),
        "tenant": _("Tenant company"),
        "bank": _("Bank"),
        "guarantee": _("Guarantee company"),
        "fund": _("Investment fund"),
        "lessor": _("Leasing company"),
        "law_firm": _("Law firm"),
        "accounting_firm": _("Accounting firm"),
        "ip_agency": _("IP agency"),
        "hr_firm": _("HR firm"),
        "cro_cdmo": _("CRO / CDMO"),
        "government": _("Government office"),
    },
)
register_labels(
    "organisation-status",
    {
        "active": _("Active"),
        "suspended": _("Suspended"),
    },
)
