"""Who may see and who may change a reservation (pure: no Flask, no session)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.principal import Principal

BOOKING_ROLES = ("tenant_member", "tenant_admin", "desk_staff", "park_admin")
"""Who books spaces (the views' ``requires``): tenants and desk staff, not partners."""

if TYPE_CHECKING:
    from services.booking.models import Reservation


def can_see(actor: Principal, reservation: Reservation) -> bool:
    return actor.is_staff or (bool(actor.org_id) and reservation.org_id == actor.org_id)


def can_manage(actor: Principal, reservation: Reservation) -> bool:
    """The organiser, a tenant admin of the organisation, or desk staff may change a reservation."""
    if actor.is_staff:
        return True
    return reservation.org_id == actor.org_id and (reservation.booked_by == actor.subject or actor.is_tenant_admin)
