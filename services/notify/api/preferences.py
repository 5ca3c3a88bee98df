"""``/preferences``: which kinds of notice the caller receives, in the feed and by e-mail, and in which language."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.notify.api.schemas.preferences import PreferencesSchema
from services.notify.commands.preferences import SavePreferences
from services.notify.handlers.preferences import save_preferences
from services.notify.permissions import RIGHTS
from services.notify.queries.preferences import get_preferences
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.preconditions import IF_MATCH, etag_header, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint(
    "notify-preferences",
    "parkhub.notify.preferences",
    description="Which kinds of notice the caller receives, in the feed and by e-mail, and in which language.",
)

ETAG = {"ETag": etag_header("The preferences' version: send it as If-Match with PUT.")}


@blp.route("/preferences")
class Preferences(MethodView):
    @RIGHTS.guard("set_preferences", current_principal)
    @blp.response(200, PreferencesSchema, headers=ETAG)
    def get(self) -> Any:
        """The caller's preferences: their language and every kind of notice, each in the feed
        and by e-mail (both on until turned off)."""
        with reading() as session:
            preferences = get_preferences(session, current_principal())
        return preferences, 200, versioned_headers(preferences["version"])

    @RIGHTS.guard("set_preferences", current_principal)
    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesSchema, headers=ETAG)
    @blp.doc(parameters=[IF_MATCH])
    def put(self, body: dict[str, Any]) -> Any:
        """Replace the caller's preferences (``If-Match``): 422 ``rule/notice-kind-unknown`` or
        ``rule/notice-kind-repeated`` naming the kind; a kind left out is back to both on."""
        command = SavePreferences(current_principal(), body["language"], body["kinds"], if_match_versions())
        preferences = execute(save_preferences, command)
        return preferences, 200, versioned_headers(preferences["version"])
