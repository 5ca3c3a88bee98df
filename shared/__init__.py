"""The small common kernel every ParkHub service stands on.

Configuration, database sessions and the unit of work, the event envelope and contracts,
outbox / relay / inbox on kombu, token verification, problem+json errors, pagination.
Nothing here imports ``gateway`` or ``services``; no domain code lives here except the
event contracts, the published language between services.
"""
