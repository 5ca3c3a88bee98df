"""Finance's HTTP API under ``/api/v1/finance``: one blueprint per resource."""
