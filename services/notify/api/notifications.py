"""``/notifications``: the caller's notifications, their unread count, marking read.

Texts are answered in the reader's language (``Accept-Language``); read state is the caller's
own. A notification not addressed to the caller is a 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.notify.api.schemas.notifications import (
    NotificationPageSchema,
    NotificationQuerySchema,
    NotificationSchema,
    ReadAllSchema,
    UnreadSchema,
)
from services.notify.commands.feed import MarkAllRead, MarkRead
from services.notify.handlers.reading import mark_all_read, mark_read
from services.notify.permissions import RIGHTS
from services.notify.queries import feed
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.views import execute, reading

blp = Blueprint(
    "notify-notifications",
    "parkhub.notify.notifications",
    description="The caller's notifications, their unread count, marking read.",
)


@blp.route("/notifications")
class Notifications(MethodView):
    @RIGHTS.guard("read_feed", current_principal)
    @blp.arguments(NotificationQuerySchema, location="query")
    @blp.response(200, NotificationPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The caller's feed, newest first: notices to them, to their organisation, to a role they
        hold there or park-wide; kinds they turned off in the app are left out. ``unread`` counts
        the whole feed."""
        with reading() as session:
            return feed.list_notifications(session, current_principal(), args)


@blp.route("/notifications/unread-count")
class UnreadCount(MethodView):
    @RIGHTS.guard("read_feed", current_principal)
    @blp.response(200, UnreadSchema)
    def get(self) -> dict[str, Any]:
        """How many notifications of the caller's feed they have not read."""
        with reading() as session:
            return {"unread": feed.unread_count(session, current_principal())}


@blp.route("/notifications/read-all")
class ReadAll(MethodView):
    @RIGHTS.guard("read_feed", current_principal)
    @blp.response(200, ReadAllSchema)
    def post(self) -> dict[str, Any]:
        """Mark every notification of the caller read (for the caller alone)."""
        return execute(mark_all_read, MarkAllRead(current_principal()))


@blp.route("/notifications/<uuid:notification_id>/read")
class ReadOne(MethodView):
    @RIGHTS.guard("read_feed", current_principal)
    @blp.response(200, NotificationSchema)
    def post(self, notification_id: Any) -> dict[str, Any]:
        """Mark one notification read for the caller; reading it again is fine (the first time
        stands). 404 when it is not addressed to the caller."""
        return execute(mark_read, MarkRead(current_principal(), str(notification_id)))
