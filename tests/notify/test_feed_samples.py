"""The samples the feed's, timeline's and webhooks' tests publish are valid by their contracts."""

from __future__ import annotations

import pytest

from shared.events.contracts import ContractViolation, validate
from tests.notify.samples import sample, sample_types


@pytest.mark.parametrize("type", sample_types())
def test_every_sample_is_valid_by_its_contract(type: str) -> None:
    validate(type, None, sample(type))


def test_every_service_has_samples() -> None:
    services = {t.split(".", 1)[0] for t in sample_types()}
    assert services == {"booking", "consulting", "finance"}
    assert "consulting.valuation.completed" in sample_types()


def test_overrides_replace_fields_and_are_checked() -> None:
    assert sample("booking.reservation.confirmed", title="Board meeting")["title"] == "Board meeting"
    with pytest.raises(ContractViolation):
        validate("booking.reservation.confirmed", None, sample("booking.reservation.confirmed", attendees=0))


def test_samples_are_fresh_copies() -> None:
    first = sample("finance.application.offer_made")
    first["offer"]["amount"] = "1.00"
    assert sample("finance.application.offer_made")["offer"]["amount"] == "500000.00"
