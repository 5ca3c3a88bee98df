"""Notify's pure rules: who hears what (recipients, notices, names) and partner webhooks; no
Flask, kombu or session. Every broken rule raises :class:`shared.errors.RuleViolation` whose
``code`` names it (``rule/webhook-...``) and whose detail is a marked text (:mod:`shared.i18n`)."""

from services.notify.rules import names  # registers notify's labels
from services.notify.rules.deliveries import (
    MAX_ATTEMPTS,
    RETRY_WINDOW,
    SCHEDULE,
    Attempt,
    FailureRun,
    first_attempt,
    next_attempt,
    outcome,
    replay,
    retry,
)
from services.notify.rules.endpoints import MAX_URL_LENGTH, check_event_types, check_url, is_public, matches
from services.notify.rules.notices import KINDS, Notice, dedupe_key, notice_for
from services.notify.rules.recipients import (
    AUDIENCES_BY_EVENT,
    Recipient,
    partner_may_receive,
    recipients,
)
from services.notify.rules.signing import ROTATION_GRACE, Secrets, check_secret, headers, new_secret

__all__ = [
    "AUDIENCES_BY_EVENT",
    "KINDS",
    "Notice",
    "Recipient",
    "dedupe_key",
    "names",
    "notice_for",
    "partner_may_receive",
    "recipients",
    "MAX_ATTEMPTS",
    "MAX_URL_LENGTH",
    "RETRY_WINDOW",
    "ROTATION_GRACE",
    "SCHEDULE",
    "Attempt",
    "FailureRun",
    "Secrets",
    "check_event_types",
    "check_secret",
    "check_url",
    "first_attempt",
    "headers",
    "is_public",
    "matches",
    "new_secret",
    "next_attempt",
    "outcome",
    "replay",
    "retry",
]
