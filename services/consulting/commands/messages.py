"""Messages in a case's thread: what a caller asks to write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.principal import Principal


@dataclass(frozen=True)
class UploadedFile:
    """A file part of the request, as it came: the name the client gave and the bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class PostMessage:
    """Write ``body`` in case ``case_id``'s thread with ``visibility`` (tenant, desk or firm),
    carrying ``files``."""

    actor: Principal
    case_id: str
    body: str
    visibility: str = "tenant"
    files: tuple[UploadedFile, ...] = ()
    at: datetime | None = None
    """When the action is taken (UTC); None: now. Only the demo seed passes it, to give the demo
    desk a past; the API never does."""
