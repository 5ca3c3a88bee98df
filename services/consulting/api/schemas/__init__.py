"""Marshmallow schemas of consulting's API, one module per resource."""
