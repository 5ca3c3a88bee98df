"""A partner's webhook endpoints and the replays of their deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.principal import Principal


@dataclass(frozen=True)
class RegisterEndpoint:
    """A partner agent registers ``url`` for its organisation, subscribed to ``event_types``."""

    actor: Principal
    url: str
    event_types: tuple[str, ...]
    description: str | None = None
    allow_private: bool = False
    """The setting ``webhook_allow_private``: private addresses allowed (tests, closed installations)."""


@dataclass(frozen=True)
class UpdateEndpoint:
    """Change an endpoint's URL, subscriptions or description (only the fields given)."""

    actor: Principal
    endpoint_id: str
    expected_versions: frozenset[int] | None
    changes: dict[str, Any]
    allow_private: bool = False


@dataclass(frozen=True)
class EndpointAction:
    """``rotate`` its secret, ``enable``, ``disable`` or ``delete`` an endpoint."""

    actor: Principal
    endpoint_id: str
    action: str
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class PrepareReplay:
    """A partner agent asks for a delivery to be sent again, now."""

    actor: Principal
    endpoint_id: str
    delivery_id: str


@dataclass(frozen=True)
class RecordReplay:
    """What the replay's request got (``status`` None: no answer, ``error`` says why)."""

    actor: Principal
    endpoint_id: str
    delivery_id: str
    status: int | None
    error: str | None
    duration_ms: int
    retry_after: str | None = None
    refused: bool = False
