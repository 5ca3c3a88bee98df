"""The names the gateway shows for its own codes, in both languages (``shared.i18n`` labels).

Roles, organisation kinds and organisation statuses are the kernel's
(``shared/i18n/kernel_labels.py``); here are the codes only the gateway answers with. Imported by
:mod:`gateway.api.schemas`, so they are registered wherever those schemas dump.
"""

from __future__ import annotations

from shared.i18n import _, register_labels

SUBJECT_KIND = "subject-kind"
"""Who a token names (``GET /me``'s ``kind``): a person's account or a partner's machine client."""

register_labels(
    SUBJECT_KIND,
    {
        "user": _("User account"),
        "client": _("API client"),
    },
)
