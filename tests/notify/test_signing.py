"""Standard Webhooks signatures, verified on the receiver's side with the library itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.notify.rules.signing import ROTATION_GRACE, Secrets, check_secret, headers, new_secret
from shared.errors import RuleViolation

BODY = json.dumps({"type": "consulting.case.opened", "data": {"case": "c-1"}})


def now() -> datetime:
    return datetime.now(UTC)


def test_new_secrets_are_whsec_base64_and_never_repeat() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second
    assert check_secret(first) == first


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_!!!", "sk_abc", "whsec_" + "QUJD"])
def test_bad_secrets_are_refused(secret: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        check_secret(secret)
    assert caught.value.code == "rule/webhook-secret-invalid"


def test_a_receiver_verifies_a_signed_delivery() -> None:
    secret = new_secret()
    sent = headers("msg_1", BODY, Secrets(secret), now())
    assert set(sent) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert Webhook(secret).verify(BODY, sent) == json.loads(BODY)


def test_a_tampered_body_or_another_secret_fails() -> None:
    secret = new_secret()
    sent = headers("msg_1", BODY, Secrets(secret), now())
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace("c-1", "c-2"), sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**sent, "webhook-id": "msg_2"})


def test_an_old_timestamp_fails() -> None:
    secret = new_secret()
    sent = headers("msg_1", BODY, Secrets(secret), now() - timedelta(minutes=10))
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, sent)


def test_during_the_grace_both_secrets_verify_afterwards_only_the_new() -> None:
    old, new = new_secret(), new_secret()
    rotated_at = now()
    keys = Secrets(old).rotate(new, rotated_at)
    sent = headers("msg_1", BODY, keys, rotated_at + timedelta(seconds=1))
    assert len(sent["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(BODY, sent) == json.loads(BODY)
    assert Webhook(new).verify(BODY, sent) == json.loads(BODY)

    assert keys.signing(rotated_at + ROTATION_GRACE) == [new]
    late = Secrets(new, old, now() - ROTATION_GRACE)
    sent = headers("msg_1", BODY, late, now())
    assert len(sent["webhook-signature"].split(" ")) == 1
    assert Webhook(new).verify(BODY, sent) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(BODY, sent)


def test_a_rotation_refuses_a_bad_new_secret() -> None:
    with pytest.raises(RuleViolation):
        Secrets(new_secret()).rotate("nope", now())
