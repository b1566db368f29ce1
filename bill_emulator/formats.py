"""BILL's wire formats: ids, timestamps, dates, money and masked account numbers.

Sources:
- ids are 20 characters, a 3-character object prefix + "02" + 15 characters, e.g.
  `00902BILKFECNEV2oji1` (https://developer.bill.com/docs/bill-generated-ids);
- date-times carry milliseconds and `+00:00`, e.g. `2026-07-13T04:29:34.000+00:00`
  (https://developer.bill.com/docs/payment-terms); dates are `yyyy-MM-dd`;
- list filters accept `yyyy-MM-dd'T'HH:mm:ss.SSSX`, `...ss.SSS`, `...ss`, `...HH:mm` and
  `yyyy-MM-dd` (https://developer.bill.com/docs/search-op-with-lists).
"""

from __future__ import annotations

import base64
import functools
import random
import re
import string
from datetime import date, datetime, timedelta, timezone

ID_ALPHABET = frozenset(string.ascii_letters + string.digits)
#: The two characters BILL puts after the object prefix in every id we have seen.
ID_INFIX = "02"
ID_RANDOM_LENGTH = 15

_EPOCH = date(1970, 1, 1)


#: Base64's two non-alphanumeric characters, swapped for letters (ids are [A-Za-z0-9]).
_ALPHANUMERIC = bytes.maketrans(b"+/", b"xZ")


class SeedRandom(random.Random):
    """`random.Random` with float-based `randrange`/`randint`: several times faster, still
    deterministic, and plenty uniform for generated data (ranges stay far below 2**53)."""

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            return int(self.random() * start)
        return start + int(self.random() * (stop - start))

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))


def new_id(prefix: str, rng: random.Random) -> str:
    """A 20-character BILL id for an object with this 3-character prefix."""
    # 96 random bits -> 16 base64 characters, 15 of them used: one call instead of 15.
    raw = base64.b64encode(rng.getrandbits(96).to_bytes(12, "big")).translate(_ALPHANUMERIC)
    return prefix + ID_INFIX + raw[:ID_RANDOM_LENGTH].decode()


def format_time(epoch_ms: int) -> str:
    """`2026-07-13T04:29:34.000+00:00`: fixed width, so string order is time order."""
    seconds, millis = divmod(epoch_ms, 1000)
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{_day(days)}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}+00:00"


@functools.lru_cache(maxsize=4096)
def _day(days_since_epoch: int) -> str:
    # Seeding formats millions of instants over a few hundred days: dates come from a cache.
    return (_EPOCH + timedelta(days=days_since_epoch)).isoformat()


def format_date(epoch_ms: int) -> str:
    """The UTC calendar date of an instant, `yyyy-MM-dd`."""
    return _day(epoch_ms // 86_400_000)


def date_plus_days(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


_FILTER_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,3}))?)?)?"
    r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_filter_time(value: str) -> str:
    """A filter's date-time value as the canonical UTC string records carry.

    Every documented form is accepted; a value without a zone is UTC (assumption: BILL's
    pages do not say which zone an unzoned value is in). Comparing canonical strings then
    compares instants. Raises ValueError for anything else.
    """
    match = _FILTER_TIME.match(value.strip())
    if match is None:
        msg = f"not a date-time: {value!r}"
        raise ValueError(msg)
    day = date.fromisoformat(match["date"])
    fraction = (match["fraction"] or "0").ljust(3, "0")
    moment = datetime(
        day.year,
        day.month,
        day.day,
        int(match["hour"] or 0),
        int(match["minute"] or 0),
        int(match["second"] or 0),
        int(fraction) * 1000,
        tzinfo=_zone(match["zone"]),
    )
    epoch_ms = int(moment.timestamp() * 1000)
    return format_time(epoch_ms)


def _zone(text: str | None) -> timezone:
    if not text or text == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_time_ms(value: str) -> int:
    """Epoch milliseconds of a canonical `...SSS+00:00` string (or any filter form)."""
    canonical = parse_filter_time(value)
    moment = datetime.fromisoformat(canonical)
    return int(moment.timestamp() * 1000)


def money(cents: int) -> float:
    """A money amount as BILL's JSON number.

    Amounts are generated and summed as integer cents (exact decimal arithmetic); `cents / 100`
    is the float nearest that decimal, and `json.dumps` writes the shortest text that reads
    back as the same float, which is exactly the decimal (`1234.5`, `99.99`): no `0.1 + 0.2`
    artefacts in the JSON text.
    """
    return cents / 100


def cents(amount: float | int | str) -> int:
    """Integer cents of a JSON money amount (exact for amounts with at most 2 decimals)."""
    return round(float(amount) * 100)


def mask_account_number(number: str) -> str:
    """`xxxxxx6789`: only the last 4 digits are shown.

    Assumption: BILL does not echo full bank account numbers in API responses (its web app
    masks them and the catalog describes these streams as "account numbers masked"); the
    fixed-width mask also hides the number's length.
    """
    return "xxxxxx" + number[-4:]
