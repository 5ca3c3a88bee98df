"""Notify: in-app notifications and partner webhooks, fed by every service's events."""
