"""``/notifications``: the caller's notifications, their unread count, marking read."""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "notify-notifications",
    "parkhub.notify.notifications",
    description="The caller's notifications, their unread count, marking read.",
)
