"""Booking's HTTP API under ``/api/v1/booking``: one blueprint per resource."""
