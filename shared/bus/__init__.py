"""Events over kombu: the transactional outbox, the relay, idempotent consumers, dead letters."""
