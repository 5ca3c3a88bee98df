"""``/timeline``: everything that happened to an organisation, across services, in order.

A tenant reads their own organisation's; the park's staff any organisation's (``org_id``); a
tenant naming another organisation is refused (403). Oldest first unless ``order=desc``.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.notify.api.schemas.timeline import TimelinePageSchema, TimelineQuerySchema
from services.notify.permissions import RIGHTS
from services.notify.queries import timeline
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.views import reading

blp = Blueprint(
    "notify-timeline",
    "parkhub.notify.timeline",
    description="Everything that happened to an organisation, across services, in order.",
)


@blp.route("/timeline")
class Timeline(MethodView):
    @RIGHTS.guard("read_timeline", current_principal)
    @blp.arguments(TimelineQuerySchema, location="query")
    @blp.response(200, TimelinePageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """A page of the organisation's timeline: one line per event of booking, consulting and
        finance about it, in the reader's language, ordered by the event's time."""
        with reading() as session:
            return timeline.read_timeline(session, current_principal(), args)
