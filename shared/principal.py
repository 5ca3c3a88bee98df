"""Who is calling, as every service sees it once a token is verified (no web framework here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ROLES = ("tenant_member", "tenant_admin", "desk_staff", "park_admin", "partner_agent")
"""Every role a token may carry (the gateway grants them; services check them)."""
STAFF_ROLES = ("desk_staff", "park_admin")
"""The park's own staff: the one place a service learns who counts as staff."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user or a partner's API client, of one organisation, or a service acting
    on an event (a ``system:<service>`` subject with no roles). Every service and handler uses
    this one type; an empty ``org_kind`` means the token did not say (ask the directory)."""

    subject: str
    org_id: str
    org_kind: str
    roles: frozenset[str]
    name: str = ""

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & set(STAFF_ROLES))

    @property
    def is_park_admin(self) -> bool:
        return "park_admin" in self.roles

    @property
    def is_tenant_admin(self) -> bool:
        return "tenant_admin" in self.roles

    @property
    def is_partner(self) -> bool:
        return "partner_agent" in self.roles

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles & set(roles))
