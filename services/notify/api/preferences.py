"""``/preferences``: which kinds of notice the caller receives, in the feed and by e-mail, and in which language."""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "notify-preferences",
    "parkhub.notify.preferences",
    description="Which kinds of notice the caller receives, in the feed and by e-mail, and in which language.",
)
