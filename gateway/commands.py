"""What callers ask of identity: small frozen commands, handled in :mod:`gateway.handlers`.

Every command names its ``actor`` (who asks; the view's verified caller, or the seed); a change
of a versioned object carries ``expected_versions``, the versions ``If-Match`` named (None for
``*``, or when the caller is not answering a request, as the seed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.principal import Principal


@dataclass(frozen=True)
class RegisterOrganisation:
    actor: Principal
    name: str
    kind: str
    name_zh: str | None = None
    contact_email: str | None = None
    status: str = "active"


@dataclass(frozen=True)
class UpdateOrganisation:
    actor: Principal
    organisation_id: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    """Any of name, name_zh, contact_email, status; the kind never changes (roles depend on it)."""
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class CreateUser:
    actor: Principal
    username: str
    display_name: str
    password: str
    organisation_id: str
    roles: Sequence[str]
    email: str | None = None


@dataclass(frozen=True)
class UpdateUser:
    actor: Principal
    user_id: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    """Any of display_name, email, roles, active, password."""
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class CreateApiClient:
    actor: Principal
    name: str
    organisation_id: str
    roles: Sequence[str] = ("partner_agent",)
    client_id: str | None = None
    client_secret: str | None = None
    """Only the demo seed names a secret; otherwise a random one is made and shown once."""


@dataclass(frozen=True)
class UpdateApiClient:
    actor: Principal
    client_id: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    """Any of name, roles, active."""
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class RotateClientSecret:
    actor: Principal
    client_id: str
