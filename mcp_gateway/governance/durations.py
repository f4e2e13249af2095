"""Limit periods (`1m`, `5m`, `1h`, `1d`, `1w`, `1M`, `1Q`, `1Y`) and their fixed windows.

Windows are fixed, not sliding: every counter belongs to exactly one window, and a limit resets
at the window's end. Short units (`s`, `m`, `h`) are multiples of their length counted from the
Unix epoch, so `5m` windows start at :00, :05, ... Day and longer units align to UTC calendar
boundaries: days at midnight UTC, weeks on Monday, months on the 1st, quarters on January, April,
July and October 1st, years on January 1st. A count above one groups calendar units counted from
1970 (`2w` = fortnights starting Monday 1970-01-05, `6M` = half-years starting January and July).
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass

__all__ = ["PERIOD_PATTERN", "Period", "parse_period"]

PERIOD_PATTERN = r"^[1-9][0-9]{0,5}(s|m|h|d|w|M|Q|Y)$"
"""The accepted spelling: a positive count and a unit; `m` is minutes, `M` months."""

_PERIOD = re.compile(PERIOD_PATTERN)
_FIXED_SECONDS = {"s": 1, "m": 60, "h": 3600}
_MONTHS_PER_UNIT = {"M": 1, "Q": 3, "Y": 12}
_DAY = 86_400
_FIRST_MONDAY = 4  # 1970-01-01 was a Thursday; day 4 since the epoch is Monday 1970-01-05.


@dataclass(frozen=True, slots=True)
class Period:
    """A limit period such as `1M`; `window(now)` gives the window `now` falls in."""

    count: int
    unit: str

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    @property
    def calendar_aligned(self) -> bool:
        """True for day and longer units, which follow UTC calendar boundaries."""
        return self.unit not in _FIXED_SECONDS

    def window(self, now: float) -> tuple[float, float]:
        """`(start, end)` in Unix seconds of the window holding `now`; `start <= now < end`."""
        if self.unit in _FIXED_SECONDS:
            length = self.count * _FIXED_SECONDS[self.unit]
            start = (now // length) * length
            return float(start), float(start + length)
        if self.unit == "d":
            return self._day_blocks(now, self.count, 0)
        if self.unit == "w":
            return self._day_blocks(now, 7 * self.count, _FIRST_MONDAY)
        return self._month_blocks(now, self.count * _MONTHS_PER_UNIT[self.unit])

    @staticmethod
    def _day_blocks(now: float, days: int, anchor: int) -> tuple[float, float]:
        # POSIX time has no leap seconds, so a UTC day is always exactly 86,400 seconds.
        day = int(now // _DAY)
        start_day = anchor + ((day - anchor) // days) * days
        return float(start_day * _DAY), float((start_day + days) * _DAY)

    @staticmethod
    def _month_blocks(now: float, months: int) -> tuple[float, float]:
        tm = time.gmtime(now // 1)
        index = (tm.tm_year - 1970) * 12 + (tm.tm_mon - 1)
        first = (index // months) * months
        return float(_month_start(first)), float(_month_start(first + months))


def _month_start(index: int) -> int:
    """Unix seconds of 00:00 UTC on the 1st of month `index` (months since January 1970)."""
    year, month0 = divmod(index, 12)
    return calendar.timegm((1970 + year, month0 + 1, 1, 0, 0, 0, 0, 0, 0))


def parse_period(text: str) -> Period:
    """Parse `"5m"`, `"1M"`, ...; raise `ValueError` naming the accepted forms."""
    if not isinstance(text, str) or not _PERIOD.match(text):
        raise ValueError(
            f"invalid period {text!r}: use a count and a unit, e.g. 1m, 5m, 1h, 1d, 1w, 1M, 1Q, 1Y "
            "(s seconds, m minutes, h hours, d days, w weeks, M months, Q quarters, Y years)"
        )
    return Period(int(text[:-1]), text[-1])
