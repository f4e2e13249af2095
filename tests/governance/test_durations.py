"""Periods and windows: fixed epoch-aligned windows for s/m/h, UTC calendar windows for d and up.

Property tests (hypothesis) pin the invariants everywhere and concentrate examples around the
edges that break calendar code: ends of months, quarters and years, and leap days.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mcp_gateway.governance import Period, parse_period

UNITS = ["s", "m", "h", "d", "w", "M", "Q", "Y"]

periods = st.builds(Period, st.integers(1, 12), st.sampled_from(UNITS))
instants = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))


@st.composite
def near_boundaries(draw: st.DrawFn) -> datetime:
    """An instant within a few seconds of a month start (so of quarter and year starts too)."""
    year = draw(st.integers(1971, 2199))
    month = draw(st.sampled_from([1, 2, 3, 4, 7, 10, 12]))
    base = datetime(year, month, 1, tzinfo=UTC)
    return base + timedelta(seconds=draw(st.integers(-3, 3)), microseconds=draw(st.integers(0, 999_999)))


def ts(dt: datetime) -> float:
    return dt.timestamp()


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@pytest.mark.parametrize("text", ["1m", "5m", "1h", "1d", "1w", "1M", "1Q", "1Y", "30s", "2w", "6M"])
def test_parse_round_trips(text: str) -> None:
    assert str(parse_period(text)) == text


@pytest.mark.parametrize("text", ["", "m", "0m", "1", "1x", "-1d", "1.5h", "01m", "1 m", "1mo"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid period"):
        parse_period(text)


@settings(database=None)  # no .hypothesis/ directory in the repo
@given(period=periods, moment=instants | near_boundaries())
def test_window_contains_now_and_tiles_time(period: Period, moment: datetime) -> None:
    now = ts(moment)
    start, end = period.window(now)
    assert start <= now < end
    # Windows tile the time line: the next window starts where this one ends, the previous ends at start.
    assert period.window(end)[0] == end
    assert period.window(start - 0.001)[1] == start
    assert period.window(start) == (start, end)


@settings(database=None)  # no .hypothesis/ directory in the repo
@given(moment=instants | near_boundaries())
@example(moment=datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC))
@example(moment=datetime(2023, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC))
def test_calendar_windows(moment: datetime) -> None:
    now = ts(moment)
    day = utc(parse_period("1d").window(now)[0])
    assert (day.date(), day.time().isoformat()) == (moment.date(), "00:00:00")

    week_start, week_end = (utc(x) for x in parse_period("1w").window(now))
    assert week_start.weekday() == 0 and week_start.time().isoformat() == "00:00:00"
    assert week_end - week_start == timedelta(days=7)

    month_start, month_end = (utc(x) for x in parse_period("1M").window(now))
    assert (month_start.year, month_start.month, month_start.day) == (moment.year, moment.month, 1)
    days_in_month = calendar.monthrange(moment.year, moment.month)[1]
    assert month_end - month_start == timedelta(days=days_in_month)  # 29 in leap Februaries

    q_start, q_end = (utc(x) for x in parse_period("1Q").window(now))
    assert q_start.month in (1, 4, 7, 10) and q_start.day == 1
    assert q_start.month <= moment.month < q_start.month + 3 and q_start.year == moment.year
    assert (q_end.month - q_start.month) % 12 == 3

    y_start, y_end = (utc(x) for x in parse_period("1Y").window(now))
    assert (y_start.year, y_start.month, y_start.day) == (moment.year, 1, 1)
    assert (y_end - y_start).days == (366 if calendar.isleap(moment.year) else 365)


@settings(database=None)  # no .hypothesis/ directory in the repo
@given(moment=instants, minutes=st.sampled_from([1, 5, 15, 60]))
def test_fixed_windows_align_to_the_epoch(moment: datetime, minutes: int) -> None:
    start, end = parse_period(f"{minutes}m").window(ts(moment))
    assert start % (minutes * 60) == 0 and end - start == minutes * 60


def test_leap_day_boundaries() -> None:
    feb_end = ts(datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC))
    month = parse_period("1M")
    assert utc(month.window(feb_end)[1]) == datetime(2024, 3, 1, tzinfo=UTC)
    assert utc(month.window(feb_end + 1)[0]) == datetime(2024, 3, 1, tzinfo=UTC)
    # 2100 is not a leap year: February has 28 days.
    start, end = month.window(ts(datetime(2100, 2, 15, tzinfo=UTC)))
    assert (end - start) / 86400 == 28


def test_year_and_quarter_turn() -> None:
    last = ts(datetime(2024, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC))
    first = ts(datetime(2025, 1, 1, tzinfo=UTC))
    for text in ("1d", "1M", "1Q", "1Y"):
        period = parse_period(text)
        assert period.window(last)[1] == first == period.window(first)[0]


def test_multi_unit_calendar_blocks() -> None:
    half_year = parse_period("6M")
    assert utc(half_year.window(ts(datetime(2024, 8, 10, tzinfo=UTC)))[0]) == datetime(2024, 7, 1, tzinfo=UTC)
    fortnight_start = utc(parse_period("2w").window(ts(datetime(2024, 5, 15, tzinfo=UTC)))[0])
    assert fortnight_start.weekday() == 0
    assert parse_period("1Q").window(1.0) == parse_period("3M").window(1.0)
