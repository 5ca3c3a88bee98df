"""Request and response schemas of the gateway's identity API (they are its OpenAPI document).

Timestamps in answers are park time with the offset (:class:`shared.http.fields.ParkTime`). Codes
(roles, kinds, statuses) are answered as they are, each with its ``…_label`` in the reader's
language beside it; names given in both languages also answer ``display_name``.

Validation messages of our own are marked texts (``shared.i18n``) with no placeholders: marshmallow
formats a validator's message before anyone knows the reader, and the problem layer finds a custom
text in the catalogues as it is (only marshmallow's own templates are recognised with values in).
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from gateway.labels import SUBJECT_KIND
from shared.events.identity import ORGANISATION_KINDS
from shared.http.auth import ROLES
from shared.http.display_names import DisplayName
from shared.http.fields import ParkTime
from shared.http.languages import Label
from shared.http.pagination import PageArgs
from shared.i18n import _

STATUSES = ("active", "suspended")
MAX_ROLES = 5
"""At most this many roles in one request (an organisation's kind allows two at most)."""

USERNAME = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{1,79}$", error=_("2-80 letters, digits, '.', '_' or '-'.").msgid
)
CLIENT_ID = validate.Regexp(
    r"^[a-z0-9][a-z0-9._-]{2,63}$", error=_("3-64 lower-case letters, digits, '.', '_' or '-'.").msgid
)
PASSWORD = validate.Length(min=10, max=200, error=_("Between 10 and 200 characters.").msgid)
NAME_LENGTH = validate.Length(min=1, max=200, error=_("Between 1 and 200 characters.").msgid)
NAME_ZH_LENGTH = validate.Length(max=200, error=_("At most 200 characters.").msgid)
EMAIL_LENGTH = validate.Length(max=254, error=_("At most 254 characters.").msgid)
SEARCH_LENGTH = validate.Length(min=1, max=100, error=_("Between 1 and 100 characters.").msgid)
ROLE_COUNT = validate.Length(min=1, max=MAX_ROLES, error=_("Give between 1 and 5 roles.").msgid)
Role = fields.String(validate=validate.OneOf(ROLES))


def _name(required: bool = False) -> fields.String:
    return fields.String(required=required, validate=NAME_LENGTH)


def _role_labels() -> fields.List[str]:
    return fields.List(
        Label("role"),
        attribute="roles",
        dump_only=True,
        metadata={"description": "The roles in the reader's language."},
    )


# -- auth -----------------------------------------------------------------------------------


class TokenRequestSchema(Schema):
    """RFC 6749 token request (form-encoded). Which fields are needed depends on ``grant_type``;
    the endpoint answers a missing one with the OAuth ``invalid_request`` error."""

    class Meta:
        unknown = EXCLUDE

    grant_type = fields.String(metadata={"enum": ["password", "client_credentials", "refresh_token"]})
    username = fields.String()
    password = fields.String()
    client_id = fields.String(metadata={"description": "Or send it with client_secret in HTTP Basic."})
    client_secret = fields.String()
    refresh_token = fields.String()
    scope = fields.String(metadata={"description": "Ignored: a token carries its subject's roles."})


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds until the access token expires."})
    refresh_token = fields.String(metadata={"description": "Rotates on every use; absent for client credentials."})


class RevokeRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    token = fields.String()
    token_type_hint = fields.String()


class OrganisationBriefSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    name_zh = fields.String(allow_none=True)
    display_name = DisplayName()
    kind = fields.String(required=True)
    kind_label = Label("organisation-kind", attribute="kind")
    status = fields.String(required=True)
    status_label = Label("organisation-status", attribute="status")


class MeSchema(Schema):
    subject = fields.String(required=True, metadata={"example": "user:0b6f..."})
    kind = fields.String(required=True, metadata={"enum": ["user", "client"]})
    kind_label = Label(SUBJECT_KIND, attribute="kind")
    name = fields.String(required=True)
    username = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    roles = fields.List(fields.String(), required=True)
    role_labels = _role_labels()
    organisation = fields.Nested(OrganisationBriefSchema, required=True)


# -- organisations --------------------------------------------------------------------------


class OrganisationSchema(OrganisationBriefSchema):
    contact_email = fields.Email(allow_none=True)
    version = fields.Integer(required=True)
    created_at = ParkTime(required=True)
    updated_at = ParkTime(required=True)


class OrganisationCreateSchema(Schema):
    name = _name(required=True)
    name_zh = fields.String(allow_none=True, validate=NAME_ZH_LENGTH)
    kind = fields.String(required=True, validate=validate.OneOf(ORGANISATION_KINDS))
    status = fields.String(load_default="active", validate=validate.OneOf(STATUSES))
    contact_email = fields.Email(allow_none=True, validate=EMAIL_LENGTH)


class OrganisationPatchSchema(Schema):
    name = _name()
    name_zh = fields.String(allow_none=True, validate=NAME_ZH_LENGTH)
    status = fields.String(validate=validate.OneOf(STATUSES))
    contact_email = fields.Email(allow_none=True, validate=EMAIL_LENGTH)


class OrganisationQuerySchema(PageArgs):
    kind = fields.String(validate=validate.OneOf(ORGANISATION_KINDS))
    status = fields.String(validate=validate.OneOf(STATUSES))
    q = fields.String(validate=SEARCH_LENGTH, metadata={"description": "Part of a name."})


# -- users ----------------------------------------------------------------------------------


class UserSchema(Schema):
    id = fields.String(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    email = fields.String(allow_none=True)
    organisation_id = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    role_labels = _role_labels()
    active = fields.Boolean(required=True)
    version = fields.Integer(required=True)
    created_at = ParkTime(required=True)
    updated_at = ParkTime(required=True)


class UserCreateSchema(Schema):
    username = fields.String(required=True, validate=USERNAME)
    display_name = _name(required=True)
    email = fields.Email(allow_none=True, validate=EMAIL_LENGTH)
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    organisation_id = fields.UUID(
        metadata={"description": "Defaults to the caller's organisation (a tenant admin may give only that)."}
    )
    roles = fields.List(Role, required=True, validate=ROLE_COUNT)


class UserPatchSchema(Schema):
    display_name = _name()
    email = fields.Email(allow_none=True, validate=EMAIL_LENGTH)
    password = fields.String(load_only=True, validate=PASSWORD)
    roles = fields.List(Role, validate=ROLE_COUNT)
    active = fields.Boolean()


class UserQuerySchema(PageArgs):
    organisation_id = fields.UUID()
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    q = fields.String(validate=SEARCH_LENGTH)


# -- API clients ----------------------------------------------------------------------------


class ApiClientSchema(Schema):
    client_id = fields.String(required=True)
    name = fields.String(required=True)
    organisation_id = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    role_labels = _role_labels()
    active = fields.Boolean(required=True)
    version = fields.Integer(required=True)
    created_at = ParkTime(required=True)
    updated_at = ParkTime(required=True)
    secret_rotated_at = ParkTime(allow_none=True)


class ApiClientWithSecretSchema(ApiClientSchema):
    client_secret = fields.String(
        required=True, metadata={"description": "Shown this once; only a hash of it is kept."}
    )


class ApiClientCreateSchema(Schema):
    name = _name(required=True)
    organisation_id = fields.UUID(required=True)
    client_id = fields.String(
        validate=CLIENT_ID, metadata={"description": "Optional; a retry with the same id is a 409, never a twin."}
    )
    roles = fields.List(Role, load_default=lambda: ["partner_agent"], validate=ROLE_COUNT)


class ApiClientPatchSchema(Schema):
    name = _name()
    roles = fields.List(Role, validate=ROLE_COUNT)
    active = fields.Boolean()


class ApiClientQuerySchema(PageArgs):
    organisation_id = fields.UUID()
    active = fields.Boolean()
