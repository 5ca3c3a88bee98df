"""Notify's HTTP API, one blueprint per resource."""
