"""The one GSM-7 / UCS-2 encoder: how an SMS text is encoded and how many segments it takes.

- GSM-7 (the GSM 03.38 alphabet, through the gsm0338 codec): 160 septets in one SMS, 153 per part
  when split; the extension characters (€ [ ] { } ~ ^ \\ |) take two septets.
- One character outside it (ê, â, œ, ’…) turns the whole message into UCS-2: 70 characters, 67 per
  part (counted in UTF-16 code units, so an emoji takes two).

The wizard's preview, the cost shown to the agency and the request sent to Brevo all use it, so
what is shown is what is billed.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import gsm0338  # noqa: F401 - registers the "gsm03.38" codec


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


def is_gsm7(text: str) -> bool:
    return encoding_of(text).name == "GSM-7"
