"""Domain errors: raised by handlers and rules, mapped to problem+json in one place (shared.http).

They import nothing from Flask. ``code`` is the stable last segment of the problem ``type`` URI
(e.g. ``rule/max-duration``), so clients can branch on it; ``detail`` is for humans: a marked
message (``shared.i18n._("Space {name} is closed.", name=...)``), rendered in the reader's
language when the problem is answered, or a plain string, shown as it is in every language.
"""

from __future__ import annotations

from typing import Any

from shared.i18n import Text, _


class DomainError(Exception):
    code = "domain-error"
    status = 400

    def __init__(self, detail: Text, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(str(detail))  # English in logs and tracebacks
        self.detail: Text = detail
        if code is not None:
            self.code = code
        self.extra = extra


class NotFound(DomainError):
    code = "not-found"
    status = 404


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409


class RuleViolation(DomainError):
    """A business rule was broken; ``code`` names the rule."""

    code = "rule-violation"
    status = 422


class InvalidTransition(Conflict):
    code = "invalid-transition"


class PreconditionRequired(DomainError):
    """A change came without ``If-Match``."""

    code = "precondition-required"
    status = 428


class PreconditionFailed(DomainError):
    """A change named a version that is no longer the current one."""

    code = "precondition-failed"
    status = 412


def check_version(current: int, expected: frozenset[int] | None) -> None:
    """The optimistic-concurrency check of every update: ``expected`` are the versions
    ``If-Match`` named (None: ``*``, or no HTTP request at all); raises
    :class:`PreconditionFailed` (412, with the current ``ETag``) when ``current`` is not one."""
    if expected is not None and current not in expected:
        raise PreconditionFailed(
            _("The resource changed since you read it (now at version {version}); read it again.", version=current),
            current_etag=f'"{current}"',
        )
