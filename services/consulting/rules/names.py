"""The names consulting shows for its codes, in the park's two languages, registered as labels.

A case's state has two names: the one the park's staff and the firms read (``case-status``:
"Triaged", "Assigned to a firm") and the one the tenant reads (``case-status-tenant``: "Being
reviewed by the park"), which says what the tenant waits for without the desk's inner steps (a
firm that declined is not news to the tenant: the case is with the park again). Which one a
reader gets is :func:`services.consulting.permissions.sees_tenant_names`.

Importing this module registers every kind of label below (``rules/__init__`` does). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.i18n import Message, Text, _, label, register_labels

CASE_STATUS = "case-status"
CASE_STATUS_FOR_TENANT = "case-status-tenant"
CASE_PRIORITY = "case-priority"
CASE_ACTION = "case-action"
MESSAGE_VISIBILITY = "message-visibility"
MESSAGE_AUTHOR_SIDE = "message-author-side"
QUOTE_STATUS = "quote-status"
SLA_CLOCK = "sla-clock"
SLA_TARGET = "sla-target"
SLA_STATE = "sla-state"
REPORT_GROUP_BY = "report-group-by"
CASE_SYSTEM_REASON = "case-system-reason"
DECLINED_BY_ALL = "declined_by_all"
"""The reason a valuation case keeps when the system cancels it because every appraisal firm
serving the category declined it: a code, shown in the reader's language (:func:`case_reason_name`)."""

STATUS_NAMES: Mapping[str, Message] = {
    "submitted": _("Submitted"),
    "triaged": _("Triaged"),
    "assigned": _("Assigned to a firm"),
    "accepted": _("Accepted by the firm"),
    "in_progress": _("In progress"),
    "waiting_on_tenant": _("Waiting on the tenant"),
    "solution_proposed": _("Solution proposed"),
    "closed": _("Closed"),
    "cancelled": _("Cancelled"),
}
"""The staff's and the firms' names of the states (and the ones refusals name)."""

TENANT_STATUS_NAMES: Mapping[str, Message] = {
    "submitted": _("Submitted"),
    "triaged": _("Being reviewed by the park"),
    "assigned": _("Passed to a partner firm"),
    "accepted": _("Taken on by a partner firm"),
    "in_progress": _("Being worked on"),
    "waiting_on_tenant": _("Waiting for your reply"),
    "solution_proposed": _("Solution ready for your review"),
    "closed": _("Closed"),
    "cancelled": _("Cancelled"),
}
"""The tenant's names of the states."""

LABELS: Mapping[str, Mapping[str, Message]] = {
    CASE_STATUS: STATUS_NAMES,
    CASE_STATUS_FOR_TENANT: TENANT_STATUS_NAMES,
    CASE_PRIORITY: {
        "low": _("Low"),
        "normal": _("Normal"),
        "high": _("High"),
        "urgent": _("Urgent"),
    },
    CASE_ACTION: {  # rules/lifecycle.py: ACTIONS, and the submission
        "submit": _("Submitted"),
        "triage": _("Triaged"),
        "assign": _("Assigned to a firm"),
        "accept": _("Accepted by the firm"),
        "decline": _("Declined by the firm"),
        "start": _("Work started"),
        "wait": _("Waiting on the tenant"),
        "resume": _("Work resumed"),
        "propose_solution": _("Solution proposed"),
        "accept_solution": _("Solution accepted"),
        "reject_solution": _("Solution rejected, reopened"),
        "cancel": _("Cancelled"),
        "auto_close": _("Closed without an answer to the solution"),
        "escalate": _("Escalated: an SLA target was missed"),
    },
    MESSAGE_VISIBILITY: {  # permissions.py: MESSAGE_RIGHTS
        "tenant": _("Visible to the tenant"),
        "desk": _("Internal to the desk"),
        "firm": _("Internal to the firm"),
    },
    MESSAGE_AUTHOR_SIDE: {  # handlers/messages.py: author_side
        "tenant": _("The tenant"),
        "firm": _("The partner firm"),
        "park": _("The park"),
    },
    QUOTE_STATUS: {
        "proposed": _("Proposed"),
        "accepted": _("Accepted"),
        "rejected": _("Rejected"),
        "superseded": _("Replaced by a newer quote"),
    },
    SLA_CLOCK: {
        "tenant": _("The park's promise to the tenant"),
        "firm": _("The firm's commitment"),
    },
    SLA_TARGET: {
        "first_response": _("First response"),
        "resolution": _("Resolution"),
    },
    SLA_STATE: {  # rules/sla.py: STATES
        "running": _("Running"),
        "paused": _("Paused while waiting on the tenant"),
        "warned": _("Running, close to the target"),
        "breached": _("Target missed"),
        "met": _("Met in time"),
        "met_late": _("Met after the target"),
        "stopped": _("Stopped"),
    },
    REPORT_GROUP_BY: {
        "category": _("Category"),
        "firm": _("Firm"),
    },
    CASE_SYSTEM_REASON: {  # the reasons consulting itself gives a case: stored as codes, never English
        DECLINED_BY_ALL: _("Every appraisal firm declined the valuation"),
    },
}
"""Every kind of code consulting shows, with its names: registered here once, each kind whole."""

for _kind, _names in LABELS.items():
    register_labels(_kind, _names)


def is_system_reason(stored: str | None) -> bool:
    """Whether a case's stored ``reason`` is one consulting gave itself (a code of
    :data:`CASE_SYSTEM_REASON`), not a person's words."""
    return stored is not None and stored in LABELS[CASE_SYSTEM_REASON]


def case_reason_name(stored: str) -> Text:
    """A system reason's text in the reader's language."""
    return label(CASE_SYSTEM_REASON, stored)


def status_name(status: str, *, for_tenant: bool = False) -> Text:
    """The name of ``status`` for a tenant (``for_tenant``) or for the park's staff and the firms."""
    return label(CASE_STATUS_FOR_TENANT if for_tenant else CASE_STATUS, status)
