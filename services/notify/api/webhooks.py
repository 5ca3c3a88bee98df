"""``/webhooks``: a partner's webhook endpoints, their deliveries and replays."""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "notify-webhooks",
    "parkhub.notify.webhooks",
    description="A partner's webhook endpoints, their deliveries and replays.",
)
