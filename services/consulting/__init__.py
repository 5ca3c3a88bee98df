"""Consulting: tenants ask the park's partner firms for professional services."""
