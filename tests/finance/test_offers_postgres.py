"""Finance on PostgreSQL, where two requests really overlap: two tenant admins (or a double click)
accepting two offers of one application at once get one acceptance and one clear refusal (409
with a rule's code), never two accepted offers and never a deadlock rolled back as
``conflict/concurrent-change``; drafts at once take distinct numbers; two tranches approved at
once complete the payout once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from migrations import upgrade
from shared.db import Database
from shared.settings import Settings
from tests.booking.conftest import Api
from tests.conftest import make_settings
from tests.finance.conftest import USERS, Products, outbox
from tests.finance.test_offers import two_offers
from tests.finance.test_payouts import approve, record, sign
from tests.finance.test_payouts_rig import accepted_application
from tests.finance.test_reviews import if_match
from tests.servers import PostgresDatabases

pytestmark = pytest.mark.postgres


@pytest.fixture
def settings(tmp_path: Path, postgres_databases: PostgresDatabases) -> Settings:
    """The finance rig's settings over a fresh PostgreSQL database built by the migrations."""
    url = postgres_databases.new_set().format(name="finance")
    upgrade("finance", url)
    return make_settings(tmp_path / "var", PARKHUB_DB_FINANCE=url)


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; their answers (or errors)."""
    start = threading.Barrier(count)
    answers: list[Any] = [None] * count

    def run(index: int) -> None:
        start.wait()
        try:
            answers[index] = work(index)
        except Exception as error:  # noqa: BLE001 - the test reports it
            answers[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_two_offers_accepted_at_once_make_one_acceptance(
    api: Api, db: Database, app: Flask, settings: Settings, signing_key: rsa.RSAPrivateKey
) -> None:
    application_id, dear, cheap = two_offers(api, db)
    offers = [dear, cheap]
    clients = []
    for _ in offers:
        client = Api(app.test_client(), settings, signing_key, prefix="/api/v1/finance")
        client.users = USERS
        clients.append(client)

    def accept(index: int) -> tuple[int, Any]:
        offer = offers[index]
        response = clients[index].post(
            f"/offers/{offer['id']}/accept", None, user="alice", **if_match(offer["version"])
        )
        return response.status_code, response.get_json()

    answers = at_once(2, accept)
    assert not any(isinstance(a, Exception) for a in answers), answers
    assert sorted(status for status, _body in answers) == [200, 409], answers
    refused = next(body for status, body in answers if status == 409)
    # A rule's refusal: the other offer was withdrawn by the acceptance (not a deadlock rolled back).
    assert str(refused["type"]).split("/problems/", 1)[1] == "rule/offer-answered", refused
    listed = api.get(f"/applications/{application_id}/offers", user="alice").get_json()["items"]
    assert [o["status"] for o in listed].count("accepted") == 1, listed


def test_drafts_made_at_once_take_distinct_consecutive_numbers(
    api: Api, app: Flask, settings: Settings, signing_key: rsa.RSAPrivateKey
) -> None:
    """The first drafts of a year at once: one creates the year's counter, the others wait for
    its lock (or read the row it created) and take the next numbers."""
    count = 4
    clients = []
    for _ in range(count):
        client = Api(app.test_client(), settings, signing_key, prefix="/api/v1/finance")
        client.users = USERS
        clients.append(client)

    def draft(index: int) -> tuple[int, Any]:
        body = {"product_id": Products.loan, "amount": "500000.00", "term_months": 24}
        response = clients[index].post("/applications", body, user="alice")
        return response.status_code, response.get_json()

    answers = at_once(count, draft)
    assert [status for status, _body in answers] == [201] * count, answers
    numbers = sorted(body["number"] for _status, body in answers)
    year = numbers[0].split("-")[1]
    assert numbers == [f"F-{year}-{n:05d}" for n in range(1, count + 1)]


def test_two_tranches_approved_at_once_complete_the_payout_once(
    api: Api, db: Database, app: Flask, settings: Settings, signing_key: rsa.RSAPrivateKey
) -> None:
    """Two checkers approving the two tranches that pay the accepted amount at once: both count,
    in turn (the application's row lock), and exactly one of them is the final one."""
    app_id = accepted_application(db, amount="500000.00", accepted="300000.00")
    assert sign(api, app_id).status_code == 200
    first = record(api, app_id, "100000.00").json
    second = record(api, app_id, "200000.00").json
    clients = []
    for _ in range(2):
        client = Api(app.test_client(), settings, signing_key, prefix="/api/v1/finance")
        client.users = USERS
        clients.append(client)
    checkers = [("bank2", first), ("desk", second)]

    def check(index: int) -> tuple[int, Any]:
        user, tranche = checkers[index]
        response = approve(clients[index], app_id, tranche, user)
        return response.status_code, response.get_json()

    answers = at_once(2, check)
    assert [status for status, _body in answers] == [200, 200], answers
    payouts = api.get(f"/applications/{app_id}/disbursements", user="desk").json
    assert (payouts["status"], payouts["disbursed_total"]) == ("disbursed", "300000.00")
    finals = [e["data"]["tranche"]["final"] for e in outbox(db) if e["type"] == "finance.application.disbursed"]
    assert sorted(finals) == [False, True]
