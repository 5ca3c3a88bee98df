"""Finance's read side: functions of a session and the principal returning JSON-ready dicts."""
