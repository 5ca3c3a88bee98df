"""Notify's commands, a module per area; each names who asks (``actor``)."""
