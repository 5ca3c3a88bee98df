"""Journey 2 on the embedded platform (tests/journeys/valuation.py): a valuation for an IP-pledge
loan, and its failure path."""

from __future__ import annotations

from tests.journeys import valuation
from tests.journeys.driver import EmbeddedDriver


def test_a_valuation_for_an_ip_pledge_loan(embedded: EmbeddedDriver) -> None:
    valuation.run(embedded)


def test_a_cancelled_valuation_case_is_shown_and_the_desk_asks_again(embedded: EmbeddedDriver) -> None:
    valuation.run_failure(embedded)
