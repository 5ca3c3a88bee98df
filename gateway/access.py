"""Who may see and change which identity objects (object-level checks, OWASP API1/API5).

One rule for the whole gateway: a role that may never use an endpoint gets 403
(:class:`PermissionDenied`); an object outside the caller's reach is answered 404
(:class:`NotFound`), exactly as if it did not exist, so ids of other organisations leak nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.models import ROLES_BY_KIND, TENANT_ROLES, Organisation
from shared.errors import NotFound, PermissionDenied, RuleViolation
from shared.i18n import _
from shared.principal import STAFF_ROLES, Principal

PARK_ADMIN = "park_admin"
TENANT_ADMIN = "tenant_admin"


def require_park_admin(actor: Principal) -> None:
    if PARK_ADMIN not in actor.roles:
        raise PermissionDenied(_("Only a park administrator may do this."))


def require_staff(actor: Principal) -> None:
    if not actor.has_any(STAFF_ROLES):
        raise PermissionDenied(_("Only park staff may do this."))


def check_organisation_visible(actor: Principal, organisation_id: str) -> None:
    """Staff see every organisation; everyone else only their own."""
    if not actor.has_any(STAFF_ROLES) and actor.org_id != organisation_id:
        raise NotFound(_("No organisation {id}.", id=organisation_id))


def user_scope(actor: Principal) -> str | None:
    """The organisation whose users ``actor`` may read: None for all (staff), else their own.

    Raises :class:`PermissionDenied` for members and partners, who administer nobody."""
    if actor.has_any(STAFF_ROLES):
        return None
    if TENANT_ADMIN in actor.roles:
        return actor.org_id
    raise PermissionDenied(_("Only park staff and tenant administrators may read user accounts."))


def require_user_manager(actor: Principal) -> None:
    """403 unless ``actor`` may manage users at all; checked before any lookup, so that the
    answer never tells whether an id exists."""
    if not actor.roles & {PARK_ADMIN, TENANT_ADMIN}:
        raise PermissionDenied(_("Only park administrators and tenant administrators may manage users."))


def check_may_manage_users(actor: Principal, organisation: Organisation, roles: Iterable[str]) -> None:
    """A park admin manages everyone; a tenant admin only their own organisation's members, and
    only with tenant roles. Raises 403 for the role, 404 for someone else's organisation, and
    422 when ``roles`` do not fit the organisation's kind."""
    roles = set(roles)
    require_user_manager(actor)
    if PARK_ADMIN not in actor.roles:
        if organisation.id != actor.org_id:
            raise NotFound(_("No organisation {id}.", id=organisation.id))
        if not roles <= TENANT_ROLES:
            raise PermissionDenied(_("A tenant administrator may only grant tenant_member and tenant_admin."))
    check_roles_fit(organisation, roles)


def check_roles_fit(organisation: Organisation, roles: Iterable[str]) -> None:
    """Roles must belong to the organisation's kind: a tenant's user can never be park staff."""
    roles = set(roles)
    allowed = ROLES_BY_KIND.get(organisation.kind, frozenset())
    if not roles:
        raise RuleViolation(_("Give at least one role."), code="roles-empty")
    if not roles <= allowed:
        raise RuleViolation(
            _(
                "Roles {roles} do not fit an organisation of kind {kind} (allowed: {allowed}).",
                roles=", ".join(sorted(roles - allowed)),
                kind=organisation.kind,
                allowed=", ".join(sorted(allowed)),
            ),
            code="roles-do-not-fit-organisation",
        )
