"""The blueprint every ParkHub API is built from: flask-smorest's, with the platform's argument parser.

Every view module imports :class:`Blueprint` from here, never from ``flask_smorest``, so that how
requests are parsed (bodies, query strings, their errors) is decided in one place.
"""

from __future__ import annotations

import flask_smorest
from flask_smorest.arguments import ArgumentsMixin


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint whose ``@arguments`` use the platform's parser."""

    ARGUMENTS_PARSER = ArgumentsMixin.ARGUMENTS_PARSER
