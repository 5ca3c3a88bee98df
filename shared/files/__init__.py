"""Uploaded files, for every service that takes them: :mod:`.kinds` (their type by content, safe
names, limits; pure), :mod:`.store` (where the bytes live: a service's blob table or a
directory), :mod:`.uploads` (a Flask route's larger body for uploads)."""
