"""Schemas of cases: the submission, the actions' bodies, the list's parameters, a case as read,
its audit trail. ``Text``, ``WholeNumber``, ``Readable``, ``NamedSchema`` and
``OrganisationRefSchema`` are the kernel's (:mod:`shared.http.fields`): import them from there."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.consulting.queries.cases import SLA_STATES
from services.consulting.queries.meetings import MEETING_STATUS, MEETING_STATUSES
from services.consulting.rules.names import CASE_ACTION, CASE_PRIORITY, SLA_CLOCK, SLA_STATE, SLA_TARGET
from shared.events.consulting import CASE_STATUSES, PRIORITIES, SLA_CLOCKS, SLA_TARGETS
from shared.http.display_names import DisplayName
from shared.http.fields import NamedSchema, OrganisationRefSchema, ParkTime, Readable, Text, WholeNumber
from shared.http.languages import Label
from shared.http.pagination import PageArgs
from shared.i18n import _

REASON = validate.Length(max=2000)


# In ------------------------------------------------------------------------------------------------


class CaseInSchema(Schema):
    item_id = fields.UUID(
        required=True, metadata={"description": "a service item of the catalogue; its category is the case's"}
    )
    subject = Text(required=True, validate=validate.Length(min=1, max=200))
    description = Text(required=True, validate=validate.Length(min=1, max=20000))
    answers = fields.Raw(
        load_default=dict,
        metadata={"type": "object", "description": "the item's intake form: field code → answer"},
    )
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))


class TriageSchema(Schema):
    priority = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(PRIORITIES),
        metadata={"description": "set the priority"},
    )


class AssignSchema(Schema):
    firm_org_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "a firm serving the case's category, active in the directory"},
    )


class ReasonSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=REASON)


class SolutionSchema(Schema):
    solution = Text(required=True, validate=validate.Length(min=1, max=20000))


class RatingInSchema(Schema):
    stars = WholeNumber(required=True, metadata={"description": "1 to 5"})
    comment = fields.String(load_default=None, allow_none=True, validate=REASON)


class AcceptSolutionSchema(Schema):
    """Accepting a solution may rate the case at once: ``stars`` (and a ``comment`` with them)."""

    stars = WholeNumber(load_default=None, allow_none=True, metadata={"description": "1 to 5: rate the case too"})
    comment = fields.String(load_default=None, allow_none=True, validate=REASON)

    @validates_schema
    def comment_with_stars(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("comment") and data.get("stars") is None:
            raise ValidationError(_("A comment goes with stars.").msgid, field_name="comment")


class CaseQuerySchema(PageArgs):
    status = fields.List(fields.String(validate=validate.OneOf(CASE_STATUSES)), metadata={"description": "repeatable"})
    category = fields.String(validate=validate.Length(min=1, max=64))
    item_id = fields.UUID()
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    firm_org_id = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "the firm assigned"})
    org_id = fields.String(
        validate=validate.Length(min=1, max=64), metadata={"description": "the tenant's organisation"}
    )
    q = Text(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "a part of the subject or the number, any case"},
    )
    sla_state = fields.String(
        validate=validate.OneOf(SLA_STATES),
        metadata={"description": "the case's sla_state: the worst of the clocks the caller may see"},
    )
    submitted_from = ParkTime(metadata={"description": "submitted at or after"})
    submitted_to = ParkTime(metadata={"description": "submitted before"})


# Out -----------------------------------------------------------------------------------------------


class CategoryRefSchema(NamedSchema):
    code = fields.String(required=True)


class ItemRefSchema(NamedSchema):
    id = fields.String(required=True)
    code = fields.String(required=True)
    quote_required = fields.Boolean(
        required=True,
        metadata={"description": "the item's rule when the case was submitted: paid work waits for an accepted quote"},
    )


class AnswerShownSchema(Schema):
    """One answer of the intake form as a person reads it."""

    code = fields.String(required=True)
    label = DisplayName(name="label_en", name_zh="label_zh", metadata={"description": "the question"})
    value = fields.Raw(required=True, metadata={"description": "as in answers"})
    value_label = DisplayName(
        name="value_label_en",
        name_zh="value_label_zh",
        allow_none=True,
        metadata={"description": "a choice's label (several joined); null for other answers"},
    )


class RatingSchema(Schema):
    stars = fields.Integer(required=True)
    comment = fields.String(allow_none=True)
    rated_by = fields.String(required=True)
    rated_by_name = fields.String(allow_none=True)
    rated_at = ParkTime(required=True)


class SlaSchema(Schema):
    clock = fields.String(required=True, metadata={"enum": list(SLA_CLOCKS)})
    clock_label = Label(SLA_CLOCK, attribute="clock")
    target = fields.String(required=True, metadata={"enum": list(SLA_TARGETS)})
    target_label = Label(SLA_TARGET, attribute="target")
    firm_org_id = fields.String(allow_none=True)
    firm = fields.Nested(
        OrganisationRefSchema,
        allow_none=True,
        metadata={"description": "the firm of a firm's clock; null for the tenant's"},
    )
    target_minutes = fields.Integer(required=True, metadata={"description": "business minutes"})
    used_minutes = fields.Integer(required=True)
    remaining_minutes = fields.Integer(required=True)
    share = fields.String(required=True, metadata={"description": "used / target, four places"})
    state = fields.String(required=True)
    state_label = Label(SLA_STATE, attribute="state")
    started_at = ParkTime(required=True)
    due_at = ParkTime(allow_none=True)
    met_at = ParkTime(allow_none=True)
    stopped_at = ParkTime(allow_none=True)


class MeetingBriefSchema(Schema):
    """A meeting of the case in brief: read it whole at ``/cases/{id}/meetings/{meeting_id}``."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    starts_at = ParkTime(required=True)
    ends_at = ParkTime(required=True)
    status = fields.String(required=True, metadata={"enum": list(MEETING_STATUSES)})
    status_label = Label(MEETING_STATUS, attribute="status")
    space_name = fields.String(allow_none=True)
    space_name_zh = fields.String(allow_none=True)
    space_display_name = DisplayName(name="space_name", name_zh="space_name_zh")


class CaseSchema(Schema):
    id = fields.String(required=True)
    number = fields.String(required=True, metadata={"example": "C-2026-00042"})
    status = fields.String(required=True, metadata={"enum": list(CASE_STATUSES)})
    status_label = Readable(
        metadata={"description": "the tenant's name of the state for tenants, the staff's for others"}
    )
    priority = fields.String(required=True, metadata={"enum": list(PRIORITIES)})
    priority_label = Label(CASE_PRIORITY, attribute="priority")
    category = fields.Nested(CategoryRefSchema, required=True)
    item = fields.Nested(ItemRefSchema, required=True)
    organisation = fields.Nested(OrganisationRefSchema, required=True)
    submitted_by = fields.String(required=True)
    submitted_by_name = fields.String(allow_none=True)
    firm = fields.Nested(OrganisationRefSchema, allow_none=True, metadata={"description": "the firm assigned"})
    declined_by = fields.List(
        fields.String(), allow_none=True, metadata={"description": "the firms that declined it (staff only; else null)"}
    )
    declined_firms = fields.List(
        fields.Nested(OrganisationRefSchema),
        allow_none=True,
        metadata={"description": "declined_by with the firms' names (staff only; else null)"},
    )
    subject = fields.String(required=True)
    description = fields.String(required=True)
    answers = fields.Dict(required=True, metadata={"description": "field code → answer, for programs"})
    answers_shown = fields.List(
        fields.Nested(AnswerShownSchema),
        required=True,
        metadata={"description": "the answers in the form's order with the questions' labels, for people"},
    )
    reason = Readable(
        allow_none=True,
        metadata={
            "description": "the reason of the last change that had one (a person's words as written; "
            "the system's in the reader's language)"
        },
    )
    solution = fields.String(allow_none=True)
    submitted_at = ParkTime(required=True)
    assigned_at = ParkTime(allow_none=True)
    solution_proposed_at = ParkTime(allow_none=True)
    closed_at = ParkTime(allow_none=True)
    updated_at = ParkTime(required=True)
    rating = fields.Nested(RatingSchema, allow_none=True)
    sla = fields.List(
        fields.Nested(SlaSchema),
        allow_none=True,
        metadata={"description": "the clocks the reader may see; null in lists"},
    )
    sla_state = fields.String(
        allow_none=True,
        metadata={
            "enum": list(SLA_STATES),
            "description": "the worst state of the clocks the reader may see, as the breach job last found "
            "(breached, warned, met_late, running, met; null: no clock the reader sees)",
        },
    )
    sla_state_label = Label(SLA_STATE, attribute="sla_state", allow_none=True)
    meetings = fields.List(
        fields.Nested(MeetingBriefSchema),
        allow_none=True,
        metadata={"description": "the case's meetings in brief, newest first (GET .../meetings/{id}); null in lists"},
    )
    actions = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "what the caller may do now (POST /cases/{id}/<action, _ as ->; rate: /rating)"},
    )
    version = fields.Integer(required=True)


class TransitionSchema(Schema):
    action = fields.String(required=True)
    action_label = Label(CASE_ACTION, attribute="action")
    from_status = fields.String(allow_none=True)
    from_status_label = Readable(allow_none=True)
    to_status = fields.String(required=True)
    to_status_label = Readable()
    actor = fields.String(required=True)
    actor_name = Readable(
        allow_none=True, metadata={"description": "as they were named; the service itself in the reader's language"}
    )
    reason = fields.String(allow_none=True)
    details = fields.Dict(metadata={"description": "staff only: the firm assigned, the routing rule, a priority"})
    at = ParkTime(required=True)


class HistorySchema(Schema):
    items = fields.List(fields.Nested(TransitionSchema), required=True)
