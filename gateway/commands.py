"""What callers ask of identity: small frozen commands, handled in :mod:`gateway.handlers`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RegisterOrganisation:
    name: str
    kind: str
    name_zh: str | None = None
    contact_email: str | None = None
    status: str = "active"


@dataclass(frozen=True)
class UpdateOrganisation:
    organisation_id: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    """Any of name, name_zh, contact_email, status; the kind never changes (roles depend on it)."""


@dataclass(frozen=True)
class CreateUser:
    username: str
    display_name: str
    password: str
    organisation_id: str
    roles: Sequence[str]
    email: str | None = None


@dataclass(frozen=True)
class UpdateUser:
    user_id: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    """Any of display_name, email, roles, active, password."""


@dataclass(frozen=True)
class CreateApiClient:
    name: str
    organisation_id: str
    roles: Sequence[str] = ("partner_agent",)
    client_id: str | None = None
    client_secret: str | None = None
    """Only the demo seed names a secret; otherwise a random one is made and shown once."""


@dataclass(frozen=True)
class UpdateApiClient:
    client_id: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    """Any of name, roles, active."""
