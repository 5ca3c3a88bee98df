"""Signing webhook deliveries by the Standard Webhooks specification (the ``standardwebhooks``
library signs, so any receiver using it or the spec verifies).

A secret is ``whsec_`` + base64 of 32 random bytes (:func:`new_secret`). Rotation: for
:data:`ROTATION_GRACE` after a new secret is issued, deliveries carry two signatures, by the new
and the old secret, space-separated in ``webhook-signature`` (the spec allows several), so a
receiver that switches its secret late still verifies; afterwards only the new one signs.
Refusal: ``rule/webhook-secret-invalid`` for a secret that is not ``whsec_`` + base64.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from shared.errors import RuleViolation
from shared.i18n import _

PREFIX = "whsec_"
SECRET_BYTES = 32
ROTATION_GRACE = timedelta(hours=24)
"""How long the old secret still signs after a rotation: a working day for the partner to switch."""


def new_secret() -> str:
    """A fresh endpoint secret from :mod:`secrets`."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def check_secret(secret: str) -> str:
    """``secret`` if it is ``whsec_`` + base64 of at least 24 bytes, else ``rule/webhook-secret-invalid``."""
    body = secret[len(PREFIX) :] if isinstance(secret, str) and secret.startswith(PREFIX) else None
    try:
        raw = base64.b64decode(body, validate=True) if body else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) < 24:
        raise RuleViolation(
            _("A webhook secret is whsec_ followed by at least 24 bytes in base64."),
            code="rule/webhook-secret-invalid",
        )
    return secret


@dataclass(frozen=True)
class Secrets:
    """An endpoint's signing secrets: ``current``, and ``previous`` with the time it was replaced."""

    current: str
    previous: str | None = None
    rotated_at: datetime | None = None

    def rotate(self, new: str, now: datetime) -> Secrets:
        """``new`` becomes current; the current one keeps signing for :data:`ROTATION_GRACE`."""
        return Secrets(check_secret(new), self.current, now)

    def signing(self, now: datetime) -> list[str]:
        """The secrets that sign at ``now``: current first, the previous one within the grace."""
        if self.previous and self.rotated_at is not None and now - self.rotated_at < ROTATION_GRACE:
            return [self.current, self.previous]
        return [self.current]


def headers(webhook_id: str, payload: str, keys: Secrets, now: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for sending ``payload`` (the exact body text) at ``now``
    (an aware time; the timestamp is its whole seconds in UTC)."""
    at = now.astimezone(UTC)
    signatures = [Webhook(secret).sign(webhook_id, at, payload) for secret in keys.signing(now)]
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
