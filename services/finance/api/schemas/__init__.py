"""Marshmallow schemas of finance's API, one module per resource."""
