"""Who may see and change which identity objects (object-level checks, OWASP API1/API5).

One rule for the whole gateway: a role that may never use an endpoint gets 403 — from the view's
``requires``, before anything is parsed or looked up, with the role sets named here; an object
outside the caller's reach is answered 404 (:class:`NotFound`), exactly as if it did not exist,
so ids of other organisations leak nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.models import ROLES_BY_KIND, TENANT_ROLES, Organisation
from shared.errors import NotFound, PermissionDenied, RuleViolation
from shared.i18n import _
from shared.principal import STAFF_ROLES, Principal

PARK_ADMIN = "park_admin"
TENANT_ADMIN = "tenant_admin"
USER_MANAGERS = (PARK_ADMIN, TENANT_ADMIN)
"""Who may create and change accounts at all (the views' ``requires``); how far each reaches is
:func:`check_may_manage_users`'s."""
USER_READERS = (*STAFF_ROLES, TENANT_ADMIN)
"""Who may list accounts (the view's ``requires``); whose, :func:`user_scope` says."""


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


def _require_user_manager(actor: Principal) -> None:
    if not actor.roles & set(USER_MANAGERS):
        raise PermissionDenied(_("Only park administrators and tenant administrators may manage users."))


def check_may_manage_users(actor: Principal, organisation: Organisation, roles: Iterable[str]) -> None:
    """A park admin manages everyone; a tenant admin only their own organisation's members, and
    only with tenant roles. Raises 403 for the role, 404 for someone else's organisation, and
    422 when ``roles`` do not fit the organisation's kind."""
    roles = set(roles)
    _require_user_manager(actor)  # the view checked it; the tenant branch below relies on it
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
