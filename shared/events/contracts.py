"""The registry of event contracts: one marshmallow schema per (type, version).

Contracts are declared once, here in shared/ (``shared/events/identity.py`` and the modules beside
it), and checked twice: when a service publishes (a violation refuses the event and the
transaction) and when a service consumes (a violation dead-letters the message).
A change that breaks a consumer is a new version, published beside the old one until every
consumer has moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError


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


def validate(type: str, version: int | None, data: Any) -> tuple[int, dict[str, Any]]:
    """Check ``data`` against its contract; return ``(version, JSON-ready data)``."""
    contract = contract_for(type, version)
    schema = _schema(contract)
    try:
        loaded = schema.load(data)
    except ValidationError as exc:
        raise ContractViolation(type, contract.version, exc.messages) from exc
    return contract.version, schema.dump(loaded)


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
    from shared.events import booking, identity  # noqa: F401
