"""What an SMS costs and when it may go: price per segment, sending hours.

- Segments come from the one GSM-7 / UCS-2 encoder, ``portal.integrations.sms_encoding``: the
  preview, the cost the agency sees and what Brevo is told all count them there.
- Reminders are service messages: Monday to Saturday, 08:00–20:00 Europe/Paris, never on a French
  public holiday (the maintained ``holidays`` library, not a list of our own).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import holidays

from portal.core.clock import PARIS

PRICE_PER_SEGMENT = Decimal("0.075")
OPENS, CLOSES = time(8, 0), time(20, 0)


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
