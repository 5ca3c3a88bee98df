"""``/timeline``: everything that happened to an organisation, across services, in order."""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "notify-timeline",
    "parkhub.notify.timeline",
    description="Everything that happened to an organisation, across services, in order.",
)
