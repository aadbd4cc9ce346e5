"""The one clock: what time and what day it is for Vigie's users (Europe/Paris), and month arithmetic.

Business dates ("today", a document's validity, the contracts of this month, the SMS sending hours)
are Paris dates: a French supplier's day does not end at 01:00. Stored timestamps stay naive UTC
(``portal.models.utcnow``). Tests freeze time by patching ``now`` here, and only here.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def now() -> datetime:
    """Now, aware, in Paris time."""
    return datetime.now(PARIS)


def stored_now() -> datetime:
    """Now as stored timestamps are (naive UTC), from the one clock: compare it with a deadline."""
    return now().astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def today() -> date:
    """Today in Paris."""
    return now().date()


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), kept within the month: 31 Jan + 1 → 28/29 Feb."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def stored_midnight(day: date) -> datetime:
    """The start of a Paris day as stored timestamps are (naive UTC): 1 December → 30 Nov 23:00."""
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def paris_time(stored: datetime) -> datetime:
    """A stored (naive UTC) timestamp in Paris time, as pages show it."""
    return stored.replace(tzinfo=ZoneInfo("UTC")).astimezone(PARIS)


def paris_date(stored: datetime) -> date:
    """The Paris day of a stored (naive UTC) timestamp: issued at 23:30 UTC on 30 November is 1 December."""
    return paris_time(stored).date()
