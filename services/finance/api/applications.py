"""Applications: drafts, submission, the desk's pre-review and routing, withdrawal, history. (Being built: issue 9.)"""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "finance-applications",
    "parkhub.finance.applications",
    description="Applications: drafts, submission, the desk's pre-review and routing, withdrawal, history.",
)
