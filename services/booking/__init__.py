"""Booking: the park's rooms and halls, reserved without double booking."""
