"""The fault tests' judge can fail: each broken guarantee of :mod:`tests.chaos.counts` is named.

Counts are built by hand here (no processes): an event of each kind of loss next to a healthy one.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from shared.settings import DATABASES, SERVICES
from tests.chaos.counts import SUBSCRIBERS, Counts, Ledger, Operation

REGISTERED = "identity.organisation.registered"
CASE = "consulting.case.submitted"


def outbox_row(event_id: str, event_type: str, aggregate: str, *, confirmed: bool = True) -> dict[str, Any]:
    return {"event_id": event_id, "type": event_type, "aggregate": aggregate, "confirmed": confirmed}


def counts(**changes: Any) -> Counts:
    """Two organisations and a case, committed, published and delivered everywhere; ``changes``
    replace a field."""
    ledger = Ledger(
        [
            Operation(REGISTERED, "Org A", "ok", "org-a"),
            Operation(REGISTERED, "Org B", "ok", "org-b"),
            Operation(CASE, "Case 1", "ok", "case-1"),
            Operation(CASE, "Case 2", "refused"),
        ]
    )
    outbox: dict[str, list[dict[str, Any]]] = {name: [] for name in DATABASES}
    outbox["gateway"] = [outbox_row("e-a", REGISTERED, "org-a"), outbox_row("e-b", REGISTERED, "org-b")]
    outbox["consulting"] = [outbox_row("e-1", CASE, "case-1")]
    inboxes = {service: set() for service in SERVICES}
    for row in [*outbox["gateway"], *outbox["consulting"]]:
        for service in SUBSCRIBERS[row["type"]]:
            inboxes[service].add(row["event_id"])
    fields: dict[str, Any] = {
        "ledger": ledger,
        "outbox": outbox,
        "inboxes": inboxes,
        "dead_letters": Counter(),
        "probe": Counter({"e-a": 1, "e-b": 2, "e-1": 1}),
        "dropped": Counter({REGISTERED: 1}),
        "effects_twice": [],
    }
    return Counts(**{**fields, **changes})


def test_healthy_counts_have_no_problem_and_a_row_per_type() -> None:
    healthy = counts()
    assert healthy.problems() == []
    table = {row["event type"]: row for row in healthy.table()}
    assert table[REGISTERED]["committed"] == 2
    assert table[REGISTERED]["probe copies"] == 3  # a duplicate on the bus is allowed: at least once
    assert table[REGISTERED]["duplicates dropped"] == 1
    assert table[CASE]["committed"] == 1  # the refused one is not
    assert table[CASE]["booking inbox"] == "–"  # booking does not subscribe to cases


def test_each_lost_event_and_each_effect_twice_is_a_problem() -> None:
    healthy = counts()
    no_outbox = counts(outbox={**healthy.outbox, "consulting": []})
    assert any("case-1" in p and "no outbox row" in p for p in no_outbox.problems())

    unconfirmed = counts(outbox={**healthy.outbox, "consulting": [outbox_row("e-1", CASE, "case-1", confirmed=False)]})
    assert any("never confirmed" in p for p in unconfirmed.problems())

    inboxes = {**healthy.inboxes, "finance": healthy.inboxes["finance"] - {"e-b"}}
    assert any("e-b" in p and "finance's inbox" in p for p in counts(inboxes=inboxes).problems())

    assert any("probe" in p for p in counts(probe=Counter({"e-a": 1, "e-1": 1})).problems())
    assert any("dead letters" in p for p in counts(dead_letters=Counter({("notify", CASE): 1})).problems())
    assert counts(effects_twice=["notify: 1 notifications twice"]).problems() == ["notify: 1 notifications twice"]
