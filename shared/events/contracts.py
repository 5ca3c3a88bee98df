"""The registry of event contracts: one marshmallow schema per (type, version).

Contracts are declared once, here in shared/ (``shared/events/identity.py`` and the modules beside
it), and checked twice: when a service publishes (a violation refuses the event and the
transaction) and when a service consumes (a violation dead-letters the message).

Evolving a contract:
- adding an optional field keeps the version: publishers are strict (an unknown field is refused
  at publish), consumers are tolerant (unknown fields are dropped before the handler sees them),
  so a consumer still running the old code keeps working;
- a change that breaks a consumer is a new version. The publisher publishes both versions
  (``uow.publish(type, data, version=1)`` beside the newest) until every consumer has moved; a
  handler names the versions it takes (:func:`handles`, version 1 by default) and the inbox
  ignores the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError

H = TypeVar("H", bound=Callable[..., Any])


class ContractViolation(ValueError):
    """A payload that does not match its contract; ``errors`` is per field."""

    def __init__(self, type: str, version: int, errors: Any) -> None:
        super().__init__(f"{type} v{version} violates its contract: {errors}")
        self.type = type
        self.version = version
        self.errors = errors


SchemaClass = type[Schema]


@dataclass(frozen=True)
class Contract:
    type: str
    version: int
    schema: SchemaClass
    description: str = ""


_contracts: dict[tuple[str, int], Contract] = {}


def register(contract: Contract) -> Contract:
    key = (contract.type, contract.version)
    if key in _contracts and _contracts[key] != contract:
        raise ValueError(f"contract {contract.type} v{contract.version} declared twice")
    _contracts[key] = contract
    return contract


def contract_for(type: str, version: int | None = None) -> Contract:
    """The contract of ``type`` at ``version`` (the newest when ``version`` is None)."""
    _load_contracts()
    if version is None:
        versions = [v for (t, v) in _contracts if t == type]
        if not versions:
            raise ContractViolation(type, 0, {"type": ["no contract is declared for this type"]})
        version = max(versions)
    try:
        return _contracts[(type, version)]
    except KeyError:
        raise ContractViolation(type, version, {"type": ["no contract for this version"]}) from None


def validate(type: str, version: int | None, data: Any, *, tolerant: bool = False) -> tuple[int, dict[str, Any]]:
    """Check ``data`` against its contract; return ``(version, JSON-ready data)``.

    ``tolerant`` (the consuming side) drops fields the contract does not know instead of refusing.
    """
    contract = contract_for(type, version)
    schema = _schema(contract)
    try:
        loaded = schema.load(data, unknown=EXCLUDE if tolerant else RAISE)
    except ValidationError as exc:
        raise ContractViolation(type, contract.version, exc.messages) from exc
    return contract.version, schema.dump(loaded)


def handles(*versions: int) -> Callable[[H], H]:
    """Decorator: the contract versions a consumer takes (without it, version 1 only)."""

    def mark(handler: H) -> H:
        handler.versions = frozenset(versions)  # type: ignore[attr-defined]
        return handler

    return mark


def versions_handled(handler: Callable[..., Any]) -> frozenset[int]:
    return frozenset(getattr(handler, "versions", (1,)))


_schemas: dict[tuple[str, int], Schema] = {}


def _schema(contract: Contract) -> Schema:
    # One instance per contract: building a marshmallow schema costs more than loading with it,
    # and load/dump keep no state between calls.
    key = (contract.type, contract.version)
    if key not in _schemas:
        _schemas[key] = contract.schema()
    return _schemas[key]


def all_contracts() -> list[Contract]:
    _load_contracts()
    return sorted(_contracts.values(), key=lambda c: (c.type, c.version))


def _load_contracts() -> None:
    # Contract modules register themselves on import; importing them here keeps publishers and
    # consumers from depending on import order.
    from shared.events import booking, consulting, finance, identity  # noqa: F401
