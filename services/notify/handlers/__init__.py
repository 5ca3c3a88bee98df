"""Notify's handlers: turning an event into notices (``events``), and the API's commands."""
