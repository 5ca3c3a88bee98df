"""Contracts of the events the gateway publishes about organisations and users (``identity.*``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.contracts import Contract, register

ORGANISATION_KINDS = (
    "operator",
    "tenant",
    "bank",
    "guarantee",
    "fund",
    "lessor",
    "law_firm",
    "accounting_firm",
    "ip_agency",
    "hr_firm",
    "cro_cdmo",
    "government",
)
PARTNER_KINDS = ORGANISATION_KINDS[2:]


class OrganisationV1(Schema):
    """What every service may know about an organisation."""

    id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_zh = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    kind = fields.String(required=True, validate=validate.OneOf(ORGANISATION_KINDS))
    status = fields.String(required=True, validate=validate.OneOf(("active", "suspended")))
    version = fields.Integer(required=True, validate=validate.Range(min=1))


ORGANISATION_REGISTERED = register(
    Contract("identity.organisation.registered", 1, OrganisationV1, "Park admin registered an organisation.")
)
ORGANISATION_UPDATED = register(
    Contract("identity.organisation.updated", 1, OrganisationV1, "An organisation's details or status changed.")
)


class UserV1(Schema):
    """What other services may know about a person who signs in (never a password or a token):
    notify writes to them, in their organisation's role. ``user:<id>`` is the token's subject, the
    name other events carry (``booked_by``, ``applicant``); ``username`` is what they sign in with."""

    id = fields.UUID(required=True)
    username = fields.String(required=True, validate=validate.Length(min=1, max=120))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=254))
    org_id = fields.UUID(required=True)
    roles = fields.List(fields.String(validate=validate.Length(min=1, max=40)), required=True)
    active = fields.Boolean(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))


USER_REGISTERED = register(Contract("identity.user.registered", 1, UserV1, "A user was created."))
USER_UPDATED = register(
    Contract("identity.user.updated", 1, UserV1, "A user's name, e-mail, roles or active flag changed.")
)


REVOCATION_REASONS = (
    "deactivated",
    "roles_changed",
    "logout",
    "reuse_detected",
    "client_deactivated",
    "client_roles_changed",
    "organisation_suspended",
    "password_changed",
)


class AccessRevokedV1(Schema):
    """Access tokens to refuse from now on, though their signature and ``exp`` still hold.

    Without ``session_id``: every token of ``subject`` (``user:<id>``, ``client:<client_id>``)
    issued before ``not_before`` (a subject-wide cut-off). With it: every token whose ``sid`` is
    that sign-in (a refresh-token family), whenever issued. ``expires_at`` is when the last
    token concerned expires (``not_before`` + the gateway's access-token lifetime): services may
    forget the revocation after it."""

    subject = fields.String(required=True, validate=validate.Length(min=1, max=120))
    session_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=36))
    not_before = fields.AwareDateTime(required=True)
    expires_at = fields.AwareDateTime(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(REVOCATION_REASONS))


ACCESS_REVOKED = register(
    Contract(
        "identity.access.revoked",
        1,
        AccessRevokedV1,
        "Access tokens of a subject issued before a moment, or of one sign-in, are revoked.",
    )
)
