"""Booking's read side: what the GET endpoints, the feeds and the reports answer."""
