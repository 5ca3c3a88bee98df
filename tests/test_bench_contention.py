"""The contention benchmark's code, at a tiny size, so it cannot rot (the real run is by hand:
``python -m bench.contention``, docs/PERFORMANCE.md, "Contention").

No timing is asserted; what is asserted is the invariant the bench reports: of N concurrent
creates of one slot, released at once on connections opened beforehand, exactly one is a 201,
every other the documented 409 problem, and the database holds one reservation for the slot.
Real servers, real HTTP: ``parkhub serve`` on SQLite, and the distributed platform (nginx,
gunicorn, PostgreSQL, RabbitMQ) through its edge, each beside the bare app the bench compares to.
"""

from __future__ import annotations

import pytest

from bench.contention import CONFLICTS, Burst, Round, bare_posts, burst, contend, report, sqlalchemy_url
from tests.servers import POSTGRES_ADMIN_URL, RABBITMQ_URL, require

pytestmark = pytest.mark.slow
CLIENTS = 20


def check(rounds: list[Round]) -> None:
    for done in rounds:
        assert done.faults() == [], done.faults()
        statuses = done.parkhub.statuses
        assert statuses[201] == 1 and statuses[409] == CLIENTS - 1, statuses
        assert set(done.parkhub.problems) <= set(CONFLICTS), done.parkhub.problems
        assert done.parkhub.held == 1
        assert done.bare.statuses == {201: CLIENTS}
        assert len(done.parkhub.answers) == CLIENTS and all(a.done >= a.latency >= 0 for a in done.parkhub.answers)


def test_one_slot_contended_embedded_gives_one_201() -> None:
    from bench import platform

    with platform.embedded(bare=True) as running:
        booking = sqlalchemy_url(running.database_urls["booking"])
        alone = Burst("bare", burst(running.bare_url, bare_posts(CLIENTS)))
        scene, rounds = contend(running.base_url, booking, running.bare_url, clients=CLIENTS, rounds=1, pause=0.1)
    assert alone.statuses == {201: CLIENTS} and alone.makespan >= alone.percentile(0.99) > 0
    check(rounds)
    assert "| 1 |" in report(CLIENTS, 1, [("embedded", scene, rounds)])


@pytest.mark.postgres
@pytest.mark.rabbitmq
@pytest.mark.duration(seconds=75)
def test_one_slot_contended_through_the_distributed_edge_gives_one_201() -> None:
    require("PostgreSQL", "PARKHUB_REQUIRE_POSTGRES", POSTGRES_ADMIN_URL, 5432)
    require("RabbitMQ", "PARKHUB_REQUIRE_RABBITMQ", RABBITMQ_URL, 5672)
    from bench import platform

    with platform.distributed(workers=1, bare=True) as running:
        booking = sqlalchemy_url(running.database_urls["booking"])
        _, rounds = contend(running.base_url, booking, running.bare_url, clients=CLIENTS, rounds=1, pause=0.1)
    check(rounds)
