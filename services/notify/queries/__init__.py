"""Notify's read side: the feed, preferences, webhook endpoints and deliveries, timelines."""
