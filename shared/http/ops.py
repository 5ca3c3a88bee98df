"""Operations endpoints every service has: health, and dead letters for staff to list and replay.

A service adds warnings of its own to its health with :func:`add_health_check` on one of its
blueprints (consulting: a business calendar lacking the coming year). A warning is something
for the park's operators to act on, not an outage: health stays 200 and ``ok``, with the
warning's text in ``warnings``, in the reader's language.

Times are park time (:class:`shared.http.fields.ParkTime`); a replay's ``outcome`` code comes with
its ``outcome_label`` in the reader's language. A dead letter's ``error`` is the handler's exception
as it was stored (English: it is evidence, not a message to a reader).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import current_app
from marshmallow import Schema, fields

from shared.bus.deadletters import get_dead_letter, list_dead_letters, replay
from shared.bus.inbox import Outcome
from shared.bus.outbox import backlog
from shared.db import Database
from shared.errors import NotFound
from shared.http.app import database_health, service_context
from shared.http.auth import STAFF_ROLES, current_principal, requires
from shared.http.blueprint import Blueprint
from shared.http.fields import ParkTime
from shared.http.languages import Label, current_locale
from shared.http.pagination import PageArgs, page_schema
from shared.i18n import Text, _, register_labels, render

log = logging.getLogger(__name__)

HealthCheck = Callable[[Database], Iterable[Text]]
"""A service's own check: the warnings (marked texts) it finds in the service's database."""
HEALTH_CHECKS = "parkhub.health_checks"


def add_health_check(blueprint: Blueprint, check: HealthCheck) -> None:
    """Make ``check`` part of ``/health`` in every app that registers ``blueprint``. A check
    that fails is itself a warning (naming it), never a failed health answer."""
    blueprint.record_once(lambda state: state.app.extensions.setdefault(HEALTH_CHECKS, []).append(check))


def health_warnings(database: Database) -> list[str]:
    """The warnings of the app's health checks, in the request's language."""
    locale = current_locale()
    warnings: list[str] = []
    for check in current_app.extensions.get(HEALTH_CHECKS, []):
        try:
            warnings.extend(render(text, locale) for text in check(database))
        except Exception:  # noqa: BLE001 - reported in the answer and the log, never raised
            log.exception("health check %s failed", getattr(check, "__name__", check))
            warnings.append(
                render(_("The health check {check} failed.", check=getattr(check, "__name__", "?")), locale)
            )
    return warnings


REPLAY_OUTCOME = "replay-outcome"
# What a replay may answer (it is one attempt: a failure dead-letters again, never "retry").
register_labels(
    REPLAY_OUTCOME,
    {
        Outcome.HANDLED.value: _("Handled"),
        Outcome.DUPLICATE.value: _("Already handled"),
        Outcome.IGNORED.value: _("Ignored: this service does not handle it"),
        Outcome.DEAD_LETTERED.value: _("Failed again; still a dead letter"),
    },
)


class HealthSchema(Schema):
    service = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "ok or degraded"})
    database = fields.Dict(required=True)
    outbox = fields.Dict(required=True)
    warnings = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "what the operators should act on; health is still ok (in the reader's language)"},
    )


class DeadLetterSchema(Schema):
    id = fields.Integer(required=True)
    event_id = fields.String(required=True)
    type = fields.String(required=True)
    error = fields.String(required=True)
    attempts = fields.Integer(required=True)
    failed_at = ParkTime(required=True)
    replayed_at = ParkTime(allow_none=True)
    envelope = fields.Dict(required=True)


class DeadLetterQuerySchema(PageArgs):
    include_replayed = fields.Boolean(load_default=False)


class ReplaySchema(Schema):
    id = fields.Integer(required=True)
    outcome = fields.String(required=True, metadata={"description": "handled, duplicate, ignored or dead_lettered"})
    outcome_label = Label(REPLAY_OUTCOME, attribute="outcome")


def ops_blueprint(service: str) -> Blueprint:
    blp = Blueprint(f"{service}-ops", f"parkhub.{service}.ops", description=f"Health and dead letters of {service}.")

    @blp.route("/health")
    @blp.doc(security=[])
    @blp.response(200, HealthSchema)
    def health() -> dict[str, Any]:
        """Health of this service: its database, its outbox backlog and the service's own warnings.
        No token needed."""
        context = service_context()
        database = database_health(context.database)
        try:
            outbox = backlog(context.database)
        except Exception as exc:  # noqa: BLE001
            outbox = {"error": type(exc).__name__}
        status = "ok" if database["status"] == "ok" and "error" not in outbox else "degraded"
        warnings = health_warnings(context.database) if database["status"] == "ok" else []
        return {"service": service, "status": status, "database": database, "outbox": outbox, "warnings": warnings}

    @blp.route("/dead-letters")
    @requires(*STAFF_ROLES)
    @blp.arguments(DeadLetterQuerySchema, location="query")
    @blp.response(200, page_schema(DeadLetterSchema))
    def dead_letters(args: dict[str, Any]) -> dict[str, Any]:
        """Events this service could not handle after its retries (staff only); the replayed ones
        too with ``include_replayed=true``."""
        inbox = service_context().inbox
        if inbox is None:
            return {"items": [], "page": args["page"], "page_size": args["page_size"], "total": 0}
        size = args["page_size"]
        items, total = list_dead_letters(
            inbox, include_replayed=args["include_replayed"], limit=size, offset=(args["page"] - 1) * size
        )
        return {"items": items, "page": args["page"], "page_size": size, "total": total}

    @blp.route("/dead-letters/<int(max=9223372036854775807):letter_id>/replay", methods=["POST"])
    @requires("park_admin")
    @blp.response(200, ReplaySchema)
    def replay_dead_letter(letter_id: int) -> dict[str, Any]:
        """Deliver a dead letter to this service's handler again (park admin)."""
        inbox = service_context().inbox
        if inbox is None or get_dead_letter(inbox, letter_id) is None:
            raise NotFound(_("No dead letter {id} in {service}.", id=letter_id, service=service))
        outcome = replay(inbox, letter_id, by=current_principal().subject)
        return {"id": letter_id, "outcome": outcome.value}

    return blp
