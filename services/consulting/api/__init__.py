"""Consulting's HTTP API under ``/api/v1/consulting``: one blueprint per resource."""
