"""A state machine's one step, as every service's lifecycle takes it: the next state from a table
of moves, or the refusal ``rule/state-transition`` (409) naming the states the action is possible
from in the reader's words. Pure: the services' rules (consulting's cases, finance's applications
and reviews) call it with their own table, names and refusal text."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from shared.errors import Conflict
from shared.i18n import Message, Text
from shared.rights import alternatives


def next_state(
    moves: Mapping[str, Mapping[str, str]],
    status: str,
    action: str,
    *,
    states: Sequence[str],
    name: Callable[[str], Text],
    refusal: Callable[[Text, Text], Message],
    subject: str,
) -> str:
    """The state ``action`` leads to from ``status`` in ``moves`` (action → {from: to}); else a
    409 ``rule/state-transition`` whose detail is ``refusal(allowed, status)`` (the states it is
    possible from, in the order of ``states``, and the one it is in, each as ``name`` calls it),
    with ``<subject>_status``, ``action`` and ``allowed`` (the codes) for programs."""
    try:
        return moves[action][status]
    except KeyError:
        allowed = tuple(s for s in states if s in moves.get(action, {}))
        raise Conflict(
            refusal(alternatives(tuple(name(s) for s in allowed)), name(status)),
            code="rule/state-transition",
            action=action,
            allowed=list(allowed),
            **{f"{subject}_status": status},
        ) from None
