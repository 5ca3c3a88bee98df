"""Notify's request and response schemas, a module per resource."""
