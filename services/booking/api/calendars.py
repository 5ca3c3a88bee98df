"""``/calendars``: iCalendar feeds at secret URLs a calendar client subscribes to without a token.

``GET .../feed`` tells a signed-in user the URL; ``POST .../feed/rotate`` replaces the secret
(the old URL then answers 404). The ``.ics`` URLs themselves need no bearer header.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView

from services.booking import handlers
from services.booking.api.schemas.reservations import FeedSchema
from services.booking.commands import OpenFeed, RotateFeed
from services.booking.queries import calendars
from shared.errors import NotFound
from shared.http.auth import current_principal, requires
from shared.http.blueprint import Blueprint, ignores_query
from shared.http.languages import current_locale
from shared.http.views import execute, reading
from shared.i18n import _

blp = Blueprint(
    "booking-calendars", "parkhub.booking.calendars", description="iCalendar feeds of spaces and organisations."
)
SCOPES = {"spaces": "space", "organisations": "organisation"}


def _feed(scope: str, owner_id: str, secret: str) -> dict[str, Any]:
    base = request.host_url.rstrip("/")
    path = "spaces" if scope == "space" else "organisations"
    url = f"{base}/api/v1/booking/calendars/{path}/{owner_id}/{secret}.ics"
    return {"url": url, "scope": scope, "owner_id": owner_id}


def _scope(collection: str) -> str:
    if collection not in SCOPES:
        raise NotFound(_("Feeds exist for spaces and organisations."))
    return SCOPES[collection]


@blp.route("/calendars/<string:collection>/<string:owner_id>/feed")
class Feed(MethodView):
    @requires()
    @blp.response(200, FeedSchema)
    def get(self, collection: str, owner_id: str) -> dict[str, Any]:
        """The feed URL of a space (anyone signed in; busy time only) or of an organisation
        (its members and staff; full details). ``owner_id`` may be ``mine`` for your organisation."""
        scope = _scope(collection)
        owner, secret = execute(handlers.feed_secret, OpenFeed(current_principal(), scope, owner_id))
        return _feed(scope, owner, secret)


@blp.route("/calendars/<string:collection>/<string:owner_id>/feed/rotate")
class FeedRotation(MethodView):
    @requires()
    @blp.response(200, FeedSchema)
    def post(self, collection: str, owner_id: str) -> dict[str, Any]:
        """Replace the secret: the old URL stops working (park admin for a space; a tenant admin
        of the organisation, desk staff or park admin for an organisation)."""
        scope = _scope(collection)
        owner, secret = execute(handlers.rotate_feed, RotateFeed(current_principal(), scope, owner_id))
        return _feed(scope, owner, secret)


@blp.route("/calendars/<string:collection>/<string:owner_id>/<string:secret>.ics")
class FeedDocument(MethodView):
    @ignores_query  # calendar clients append cache-busting parameters to the URLs they are given
    @blp.doc(
        security=[],
        responses={
            "200": {
                "description": "An iCalendar document (RFC 5545): a space's busy time (no titles, "
                "organisations or reservation ids), or an organisation's reservations with their details.",
                "content": {"text/calendar": {"schema": {"type": "string"}}},
            }
        },
    )
    def get(self, collection: str, owner_id: str, secret: str) -> Response:
        """The iCalendar document (no bearer header: the secret in the URL is the key)."""
        scope = _scope(collection)
        with reading() as session:
            if scope == "space":
                body = calendars.space_feed(session, owner_id, secret, current_locale())
            else:
                body = calendars.organisation_feed(session, owner_id, secret, current_locale())
        response = Response(body, mimetype="text/calendar")
        response.headers["Content-Disposition"] = f'inline; filename="{collection}-{owner_id}.ics"'
        response.headers["Cache-Control"] = "private, max-age=300"
        return response
