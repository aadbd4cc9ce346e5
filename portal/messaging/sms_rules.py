"""What an SMS costs and when it may go: GSM-7 / UCS-2 segments, price, sending hours.

- GSM-7 (the GSM 03.38 alphabet, through the gsm0338 codec): 160 septets in one SMS, 153 per part
  when split; the extension characters (€ [ ] { } ~ ^ \\ |) take two septets.
- One character outside it (ê, â, œ, ’…) turns the whole message into UCS-2: 70 characters, 67 per
  part (counted in UTF-16 code units, so an emoji takes two).
- Reminders are service messages: Monday to Saturday, 08:00–20:00 Europe/Paris, never on a French
  public holiday (the maintained ``holidays`` library, not a list of our own).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import gsm0338  # noqa: F401 - registers the "gsm03.38" codec
import holidays

PARIS = ZoneInfo("Europe/Paris")
PRICE_PER_SEGMENT = Decimal("0.075")
OPENS, CLOSES = time(8, 0), time(20, 0)


@dataclass(frozen=True)
class Encoding:
    name: str  # "GSM-7" or "UCS-2"
    units: int  # septets or UTF-16 code units
    segments: int


@functools.cache
def _gsm_alphabet() -> tuple[frozenset[str], frozenset[str]]:
    """The GSM 03.38 basic set and its extension (two septets each), read once from the codec."""
    basic, extension = set(), set()
    for code in range(0x2500):  # the alphabet's characters all sit below U+2500 (€ is U+20AC)
        char = chr(code)
        try:
            size = len(char.encode("gsm03.38"))
        except UnicodeEncodeError:
            continue
        (basic if size == 1 else extension).add(char)
    return frozenset(basic), frozenset(extension)


def encoding_of(text: str) -> Encoding:
    basic, extension = _gsm_alphabet()
    used = set(text)
    if used <= basic | extension:
        septets = len(text) + sum(text.count(char) for char in used & extension)
        return Encoding("GSM-7", septets, 1 if septets <= 160 else math.ceil(septets / 153))
    units = len(text.encode("utf-16-le")) // 2
    return Encoding("UCS-2", units, 1 if units <= 70 else math.ceil(units / 67))


def cost(segments: int) -> Decimal:
    return (PRICE_PER_SEGMENT * segments).quantize(Decimal("0.01"))


def _french_holidays(year: int):
    return holidays.France(years=year)


def is_open(moment: datetime) -> bool:
    local = moment.astimezone(PARIS)
    return local.weekday() < 6 and OPENS <= local.time() < CLOSES and local.date() not in _french_holidays(local.year)


def next_opening(moment: datetime) -> datetime:
    """``moment`` itself when SMS may go now, else the next opening (aware, Paris time)."""
    local = moment.astimezone(PARIS)
    if is_open(local):
        return local
    day = local.date() if local.time() < OPENS else local.date() + timedelta(days=1)
    while day.weekday() == 6 or day in _french_holidays(day.year):
        day += timedelta(days=1)
    return datetime.combine(day, OPENS, tzinfo=PARIS)
