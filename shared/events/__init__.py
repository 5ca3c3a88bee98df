"""The published language between services: the CloudEvents envelope and event contracts."""

from shared.events.contracts import Contract, ContractViolation, contract_for, register, validate
from shared.events.envelope import Event, InvalidEnvelope

__all__ = [
    "Contract",
    "ContractViolation",
    "Event",
    "InvalidEnvelope",
    "contract_for",
    "register",
    "validate",
]
