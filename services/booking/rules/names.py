"""The names booking shows for its codes, in the park's two languages, registered as labels.

Codes (``confirmed``, ``conference_room``, ``round_table``) are the contract clients branch on;
people read these names: beside each code in an answer (``status_label``, ``kind_label``, …,
through ``shared.http.languages.Label``) and inside problem details (``this one is
{status}``). Importing this module registers every kind of label below (``rules/__init__``
does, so the API, the worker and the CLI all have them). Pure: no Flask, no session.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shared.i18n import Listing, Message, _, label, register_labels

RESERVATION_STATUS = "reservation-status"
SPACE_KIND = "space-kind"
LAYOUT = "layout"
EQUIPMENT = "equipment"
WEEKDAY = "weekday"
APPROVAL_MODE = "approval-mode"
RESERVATION_ACTION = "reservation-action"
ADMIN_ACTION = "admin-action"
ADMIN_ENTITY = "admin-entity"
SERIES_MODE = "series-mode"
SERIES_STATUS = "series-status"
SERIES_OUTCOME = "series-outcome"
FEED_SCOPE = "feed-scope"
PLATE_KIND = "plate-kind"
CHECK_IN_STATE = "check-in-state"

STATUS_NAMES: Mapping[str, Message] = {
    "pending_approval": _("Pending approval"),
    "confirmed": _("Confirmed"),
    "rejected": _("Rejected"),
    "cancelled": _("Cancelled"),
    "checked_in": _("Checked in"),
    "completed": _("Completed"),
    "no_show": _("No-show"),
}
WEEKDAY_NAMES: Mapping[str, Message] = {
    "monday": _("Monday"),
    "tuesday": _("Tuesday"),
    "wednesday": _("Wednesday"),
    "thursday": _("Thursday"),
    "friday": _("Friday"),
    "saturday": _("Saturday"),
    "sunday": _("Sunday"),
}

LABELS: Mapping[str, Mapping[str, Message]] = {
    RESERVATION_STATUS: STATUS_NAMES,
    SPACE_KIND: {
        "conference_room": _("Conference room"),
        "science_hall": _("Science hall"),
        "scientists_club": _("Scientists' club"),
        "exhibition_hall": _("Exhibition hall"),
        "release_square": _("Release square"),
        "basketball_court": _("Basketball court"),
        "badminton_court": _("Badminton court"),
    },
    LAYOUT: {
        "theatre": _("Theatre"),
        "classroom": _("Classroom"),
        "round_table": _("Round table"),
        "banquet": _("Banquet"),
        "u_shape": _("U-shape"),
        "boardroom": _("Boardroom"),
        "cocktail": _("Cocktail"),
        "booths": _("Exhibition booths"),
        "court": _("Court"),
    },
    EQUIPMENT: {
        "projector": _("Projector"),
        "led_wall": _("LED wall"),
        "video_conferencing": _("Video conferencing"),
        "pa_system": _("PA system"),
        "interpretation_booths": _("Interpretation booths"),
        "wireless_mics": _("Wireless microphones"),
        "whiteboard": _("Whiteboard"),
        "stage_lighting": _("Stage lighting"),
        "livestream": _("Livestreaming"),
        "recording": _("Recording"),
        "booth_power": _("Booth power"),
        "scoreboard": _("Scoreboard"),
        "changing_rooms": _("Changing rooms"),
        "tea_service": _("Tea service"),
    },
    WEEKDAY: WEEKDAY_NAMES,
    APPROVAL_MODE: {
        "never": _("No approval needed"),
        "always": _("Always needs approval"),
        "attendees_above": _("Needs approval above a number of attendees"),
    },
    RESERVATION_ACTION: {
        "request": _("Requested"),
        "approve": _("Approved"),
        "reject": _("Rejected"),
        "expire": _("Expired without approval"),
        "cancel": _("Cancelled"),
        "check_in": _("Checked in"),
        "no_show": _("Released as a no-show"),
        "complete": _("Completed"),
        "reschedule": _("Rescheduled"),
        "visitors": _("Visitors changed"),
        "edit": _("Details changed"),
        "booth_let": _("Booth let"),  # rules/booths.py: LET, RELEASED
        "booth_released": _("Booth released"),
    },
    ADMIN_ACTION: {
        "create": _("Created"),
        "update": _("Changed"),
        "add_closure": _("Closure added"),
        "remove_closure": _("Closure lifted"),
        "set": _("Set"),
        "load": _("Loaded from the official schedule"),  # the park's calendar
        "enter": _("Entered by hand"),
    },
    ADMIN_ENTITY: {
        "space": _("Space"),
        "quota": _("Quota rule"),
        "park_calendar": _("Park calendar"),
    },
    SERIES_MODE: {
        "all_or_nothing": _("All or nothing"),
        "skip_conflicts": _("Skip conflicts"),
    },
    SERIES_STATUS: {
        "active": _("Ongoing"),
        "cancelled": _("Cancelled"),
    },
    SERIES_OUTCOME: {
        "booked": _("Booked"),
        "moved": _("Moved"),
        "would_book": _("Would be booked"),
        "would_move": _("Would be moved"),
        "conflict": _("Conflict"),
        "refused": _("Refused"),
        "cancelled": _("Cancelled"),
    },
    FEED_SCOPE: {
        "space": _("Space"),
        "organisation": _("Organisation"),
    },
    PLATE_KIND: {
        "mainland": _("Mainland China plate"),
        "other": _("Other plate (foreign, Hong Kong, Macao, …)"),
    },
    CHECK_IN_STATE: {  # rules/policy.py: CHECK_IN_STATES
        "upcoming": _("Check-in not open yet"),
        "due": _("Check-in open"),
        "overdue": _("Not checked in, check-in closed"),
        "checked_in": _("Checked in"),
        "missed": _("Released as a no-show"),
    },
}
"""Every kind of code booking shows, with its names: registered here once, each kind whole."""

for _kind, _names in LABELS.items():
    register_labels(_kind, _names)


def listing(kind: str, codes: Iterable[str]) -> Listing:
    """The names of ``codes`` as one value for a placeholder (``offers: {layouts}``)."""
    return Listing(tuple(label(kind, code) for code in codes))
