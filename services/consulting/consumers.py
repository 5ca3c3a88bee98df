"""Consulting's reactions to other services' events."""

from __future__ import annotations

from collections.abc import Callable

from services.consulting.models import directory
from shared.directory import directory_handlers

HANDLERS: dict[str, Callable[..., None]] = {
    **directory_handlers(directory),
}
