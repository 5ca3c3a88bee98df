"""Visitors' car plates: a mainland plate is checked against its format, any other plate is
kept as given once it is plausible text.

The gate's cameras and the visitor-parking list match plates character by character, so a
mainland plate is stored in one spelling: without spaces, middle dots or hyphens, upper case,
full-width characters made half-width (``川a·123 45`` → ``川A12345``).

A **mainland** plate (GA 36-2018, the standard the traffic police issue plates by):
- the abbreviation of a province, autonomous region or municipality (:data:`PROVINCES`),
- the letter of the issuing office (A–Z without I and O, which read as 1 and 0),
- then the serial:
  - ordinary plates: five letters (never I or O) or digits (``川A12345``, ``京N8P3Q2``);
  - the last of the five may be one of :data:`SUFFIXES` on the plates that carry one: trailer
    挂, learner 学, police 警, consulate 领 (``川A1234学``); 港/澳 only on Guangdong's
    cross-border plates ``粤Z····港``;
  - new-energy plates have six: small cars a new-energy letter then a letter or digit and
    four digits (``川AD12345``: D pure electric, F other new energy; the Ministry of Public
    Security later added A B C E and G H J K, accepted too), large vehicles five digits then
    D or F (``川A12345D``).

Plates of other kinds (foreign, Hong Kong, Macao, military, armed police, embassy 使, emergency
应急, civil aviation 民航…) do not follow that format and are given as kind **other**: kept as
written (trimmed, upper case, runs of spaces made one), 2-16 letters, digits, spaces, hyphens
or middle dots. Pure: no Flask, no session.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from shared.errors import RuleViolation
from shared.events import booking as contract
from shared.i18n import Message, _

PLATE_KINDS = contract.PLATE_KINDS
"""The kinds of plate, as the published contract names them (``VisitorV1.plate_kind``)."""
MAINLAND, OTHER = PLATE_KINDS

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
"""The letters on mainland plates: A-Z without I and O."""
SUFFIXES = "挂学警领"
CROSS_BORDER = "港澳"
NEW_ENERGY_SMALL = "DABCEFGHJK"
NEW_ENERGY_LARGE = "DF"
OTHER_LENGTH = (2, 16)

_SERIAL = f"[{LETTERS}0-9]"
_MAINLAND = re.compile(
    rf"""
    [{PROVINCES}][{LETTERS}]
    (?:
        {_SERIAL}{{5}}                          # ordinary
      | {_SERIAL}{{4}}[{SUFFIXES}]              # trailer, learner, police, consulate
      | [{NEW_ENERGY_SMALL}]{_SERIAL}[0-9]{{4}}   # small new-energy
      | [0-9]{{5}}[{NEW_ENERGY_LARGE}]           # large new-energy
    )
    | 粤Z{_SERIAL}{{4}}[{CROSS_BORDER}]           # Hong Kong / Macao cross-border
    """,
    re.VERBOSE,
)
_SEPARATORS = re.compile(r"[\s·•・‧∙.\-]+")
_OTHER_CHARACTERS = frozenset(" -·")


@dataclass(frozen=True)
class CarPlate:
    text: str
    kind: str


def _refuse(detail: Message) -> RuleViolation:
    return RuleViolation(detail, code="rule/car-plate")


def normalised(text: str) -> str:
    """``text`` as a mainland plate is stored: half-width, upper case, no spaces, dots or hyphens."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def is_mainland(text: str) -> bool:
    """Whether ``text`` (already :func:`normalised`) is a mainland plate."""
    return _MAINLAND.fullmatch(text) is not None


def car_plate(text: str, kind: str | None = None) -> CarPlate:
    """The plate as stored, with its kind (``mainland`` unless ``kind`` says ``other``).

    Raises ``rule/car-plate`` (422) for a plate that is not a mainland plate when it was given
    as one, and for an ``other`` plate that is not 2-16 letters, digits, spaces, hyphens or
    middle dots."""
    if kind == OTHER:
        return CarPlate(_other(text), OTHER)
    if kind not in (None, MAINLAND):
        raise _refuse(_("The kind of a plate is “mainland” or “other”."))
    plate = normalised(text)
    if is_mainland(plate):
        return CarPlate(plate, MAINLAND)
    if not plate or plate[0] not in PROVINCES:
        raise _refuse(
            _(
                "“{plate}” is not a mainland China plate: it starts with a province's character (川, 京, 粤, …). "
                "For a foreign, Hong Kong, Macao or military plate give plate_kind “other”.",
                plate=text.strip()[:20],
            )
        )
    raise _refuse(
        _(
            "“{plate}” is not a mainland China plate: after the province come a letter (not I or O) and five "
            "letters or digits, six on a new-energy plate. For a foreign, Hong Kong, Macao or military plate "
            "give plate_kind “other”.",
            plate=text.strip()[:20],
        )
    )


def unchecked_plate(text: str) -> CarPlate:
    """A plate that reached booking unchecked (another service's room hold over the bus): a
    mainland plate in its stored spelling; anything else kept as given (trimmed), kind ``other``."""
    plate = normalised(text)
    if is_mainland(plate):
        return CarPlate(plate, MAINLAND)
    return CarPlate(text.strip(), OTHER)


def _other(text: str) -> str:
    plate = " ".join(unicodedata.normalize("NFKC", text).split()).upper()
    shortest, longest = OTHER_LENGTH
    plausible = (
        shortest <= len(plate) <= longest
        and all(c.isalpha() or c.isdigit() or c in _OTHER_CHARACTERS for c in plate)
        and any(c.isalnum() for c in plate)
    )
    if not plausible:
        raise _refuse(
            _(
                "A plate of kind “other” has {shortest} to {longest} letters, digits, spaces, hyphens or middle dots.",
                shortest=shortest,
                longest=longest,
            )
        )
    return plate
