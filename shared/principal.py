"""Who is calling, as every service sees it once a token is verified (no web framework here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ROLES = ("tenant_member", "tenant_admin", "desk_staff", "park_admin", "partner_agent")
STAFF_ROLES = ("desk_staff", "park_admin")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user or a partner's API client, of one organisation."""

    subject: str
    org_id: str
    org_kind: str
    roles: frozenset[str]
    name: str = ""

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & set(STAFF_ROLES))

    @property
    def is_partner(self) -> bool:
        return "partner_agent" in self.roles

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles & set(roles))
