"""Cron parsing and next-fire computation against known answers (pure: no Redis, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from jobs_core.cron import CronError, TimezoneError, parse_cron, validate_timezone

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
UTC_ZONE = ZoneInfo("UTC")


def fires(expr: str, start: datetime, tz: ZoneInfo = UTC_ZONE, count: int = 3) -> list[str]:
    spec, moment, out = parse_cron(expr), start, []
    for _ in range(count):
        moment = spec.next_after(moment, tz)
        out.append(moment.isoformat())
    return out


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# 2025-01-01 is a Wednesday.
@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("0 9 * * *", ["2025-01-01T09:00:00+00:00", "2025-01-02T09:00:00+00:00"]),
        ("*/15 * * * *", ["2025-01-01T00:15:00+00:00", "2025-01-01T00:30:00+00:00"]),
        ("0 */4 * * *", ["2025-01-01T04:00:00+00:00", "2025-01-01T08:00:00+00:00"]),
        ("0 0 * * 0", ["2025-01-05T00:00:00+00:00", "2025-01-12T00:00:00+00:00"]),
        ("0 0 1 * *", ["2025-02-01T00:00:00+00:00", "2025-03-01T00:00:00+00:00"]),
        ("0 2 * * *", ["2025-01-01T02:00:00+00:00", "2025-01-02T02:00:00+00:00"]),
        ("0 3 * * 0", ["2025-01-05T03:00:00+00:00", "2025-01-12T03:00:00+00:00"]),
    ],
)
def test_spec_examples(expr: str, expected: list[str]) -> None:
    assert fires(expr, utc(2025, 1, 1), count=2) == expected


@pytest.mark.parametrize("expr", ["0 0 * * 0", "0 0 * * 7", "0 0 * * SUN", "0 0 * * sun", "@weekly"])
def test_sunday_is_0_and_7_and_named(expr: str) -> None:
    assert fires(expr, utc(2025, 1, 1), count=2) == ["2025-01-05T00:00:00+00:00", "2025-01-12T00:00:00+00:00"]


def test_weekday_ranges_lists_and_steps() -> None:
    assert parse_cron("0 0 * * MON-FRI").weekdays == (1, 2, 3, 4, 5)
    assert parse_cron("0 0 * * 5-7").weekdays == (0, 5, 6)
    assert parse_cron("0 0 * * */2").weekdays == (0, 2, 4, 6)  # cron's sun,tue,thu,sat
    assert parse_cron("0 0 * * sat,Sun").weekdays == (0, 6)
    assert fires("0 9 * * MON-FRI", utc(2025, 1, 3, 10), count=2) == [
        "2025-01-06T09:00:00+00:00",
        "2025-01-07T09:00:00+00:00",
    ]


def test_month_names_ranges_and_steps() -> None:
    assert parse_cron("0 0 1 JAN,jul *").months == (1, 7)
    assert parse_cron("0 0 1 */3 *").months == (1, 4, 7, 10)
    assert parse_cron("0 0 1 FEB-APR *").months == (2, 3, 4)
    assert parse_cron("1-10/2 * * * *").minutes == (1, 3, 5, 7, 9)
    assert parse_cron("5/20 * * * *").minutes == (5, 25, 45)
    assert fires("0 0 1 JAN,JUL *", utc(2025, 1, 1), count=3) == [
        "2025-07-01T00:00:00+00:00",
        "2026-01-01T00:00:00+00:00",
        "2026-07-01T00:00:00+00:00",
    ]


def test_day_of_month_or_day_of_week_when_both_restricted() -> None:
    # Vixie cron: the 13th of each month and every Friday.
    assert fires("0 0 13 * FRI", utc(2025, 1, 1), count=5) == [
        "2025-01-03T00:00:00+00:00",
        "2025-01-10T00:00:00+00:00",
        "2025-01-13T00:00:00+00:00",
        "2025-01-17T00:00:00+00:00",
        "2025-01-24T00:00:00+00:00",
    ]


def test_star_step_in_a_day_field_keeps_the_and_rule() -> None:
    # As in Vixie cron, a field starting with '*' counts as unrestricted: odd days that are Mondays.
    assert fires("0 0 */2 * MON", utc(2025, 1, 1), count=2) == [
        "2025-01-13T00:00:00+00:00",
        "2025-01-27T00:00:00+00:00",
    ]


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("@hourly", "2025-01-01T01:00:00+00:00"),
        ("@daily", "2025-01-02T00:00:00+00:00"),
        ("@midnight", "2025-01-02T00:00:00+00:00"),
        ("@weekly", "2025-01-05T00:00:00+00:00"),
        ("@monthly", "2025-02-01T00:00:00+00:00"),
        ("@yearly", "2026-01-01T00:00:00+00:00"),
        ("@ANNUALLY", "2026-01-01T00:00:00+00:00"),
    ],
)
def test_macros(macro: str, expected: str) -> None:
    assert fires(macro, utc(2025, 1, 1), count=1) == [expected]


def test_six_fields_have_seconds_first() -> None:
    assert fires("* * * * * *", datetime(2025, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)) == [
        "2025-01-01T00:00:01+00:00",
        "2025-01-01T00:00:02+00:00",
        "2025-01-01T00:00:03+00:00",
    ]
    assert fires("*/20 30 9 * * *", utc(2025, 1, 1)) == [
        "2025-01-01T09:30:00+00:00",
        "2025-01-01T09:30:20+00:00",
        "2025-01-01T09:30:40+00:00",
    ]


def test_next_after_is_strictly_after_and_rolls_over_years() -> None:
    assert fires("0 0 1 1 *", utc(2025, 1, 1), count=1) == ["2026-01-01T00:00:00+00:00"]
    assert fires("59 23 31 12 *", utc(2025, 12, 31, 23, 59), count=1) == ["2026-12-31T23:59:00+00:00"]
    leap_days = ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"]
    assert fires("0 0 29 2 *", utc(2025, 1, 1), count=2) == leap_days


def test_result_is_in_the_schedule_zone() -> None:
    first = parse_cron("0 9 * * *").next_after(utc(2025, 1, 1, 12), BERLIN)
    assert first.isoformat() == "2025-01-02T09:00:00+01:00"
    assert first.tzinfo is BERLIN


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_cron("* * * * *").next_after(datetime(2025, 1, 1), BERLIN)


# Europe/Berlin 2025: clocks jump 02:00 -> 03:00 on March 30 and 03:00 -> 02:00 on October 26.
def test_berlin_spring_forward_shifts_the_skipped_time_by_the_gap() -> None:
    assert fires("30 2 * * *", datetime(2025, 3, 29, 3, tzinfo=BERLIN), BERLIN) == [
        "2025-03-30T03:30:00+02:00",  # 02:30 does not exist: runs once, an hour later on the wall clock
        "2025-03-31T02:30:00+02:00",
        "2025-04-01T02:30:00+02:00",
    ]


def test_berlin_spring_forward_keeps_hourly_rhythm() -> None:
    assert fires("30 * * * *", datetime(2025, 3, 30, 0, 45, tzinfo=BERLIN), BERLIN, count=3) == [
        "2025-03-30T01:30:00+01:00",
        "2025-03-30T03:30:00+02:00",  # 02:30 shifted onto 03:30: one fire, not two
        "2025-03-30T04:30:00+02:00",
    ]


def test_berlin_fall_back_fires_a_repeated_time_once() -> None:
    assert fires("30 2 * * *", datetime(2025, 10, 25, 12, tzinfo=BERLIN), BERLIN) == [
        "2025-10-26T02:30:00+02:00",  # first occurrence (00:30 UTC); 02:30+01:00 is not fired
        "2025-10-27T02:30:00+01:00",
        "2025-10-28T02:30:00+01:00",
    ]


# America/New_York 2025: 02:00 -> 03:00 on March 9, 02:00 -> 01:00 on November 2.
def test_new_york_spring_forward() -> None:
    assert fires("0 2 * * *", datetime(2025, 3, 8, 12, tzinfo=NEW_YORK), NEW_YORK, count=2) == [
        "2025-03-09T03:00:00-04:00",
        "2025-03-10T02:00:00-04:00",
    ]


def test_new_york_fall_back_sub_hourly_pauses_during_the_repeated_hour() -> None:
    assert fires("*/30 * * * *", datetime(2025, 11, 2, 0, 50, tzinfo=NEW_YORK), NEW_YORK, count=4) == [
        "2025-11-02T01:00:00-04:00",
        "2025-11-02T01:30:00-04:00",
        "2025-11-02T02:00:00-05:00",
        "2025-11-02T02:30:00-05:00",
    ]


def test_new_york_from_inside_the_repeated_hour() -> None:
    # 06:10 UTC is 01:10 EST, the second pass through 01:xx: its wall times already fired.
    assert fires("*/30 * * * *", utc(2025, 11, 2, 6, 10), NEW_YORK, count=1) == ["2025-11-02T02:00:00-05:00"]
    assert fires("30 1 * * *", utc(2025, 11, 2, 6, 10), NEW_YORK, count=1) == ["2025-11-03T01:30:00-05:00"]


def test_lord_howe_half_hour_gap_real_slot_wins_over_shifted_one() -> None:
    # Lord Howe jumps 02:00 -> 02:30 on 2025-10-05: 02:15 would shift to 02:45, but real 02:40 comes first.
    assert fires("15,40 2 * * *", datetime(2025, 10, 5, 1, tzinfo=LORD_HOWE), LORD_HOWE, count=2) == [
        "2025-10-05T02:40:00+11:00",
        "2025-10-06T02:15:00+11:00",
    ]


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("", "empty"),
        ("* * * *", "expected 5 fields"),
        ("* * * * * * *", "expected 5 fields"),
        ("61 * * * *", "minute field: 61 in '61' is out of range 0-59"),
        ("* 24 * * *", "hour field: 24"),
        ("* * 0 * *", "day-of-month field: 0"),
        ("* * * 13 *", "month field: 13"),
        ("* * * * 8", "day-of-week field: 8"),
        ("60 * * * * *", "second field: 60"),
        ("*/0 * * * *", "minute field: step"),
        ("5-1 * * * *", "runs backwards"),
        ("* * * * FOO", "day-of-week field: 'FOO'"),
        ("* * * FOO *", "month field: 'FOO'"),
        ("abc * * * *", "minute field: 'abc' in 'abc' is not a number"),
        ("1,,2 * * * *", "minute field: cannot read ''"),
        ("*/x * * * *", "minute field: cannot read"),
        ("0 0 30 2 *", "day 30 never occurs in month(s) FEB"),
        ("0 0 31 APR,JUN *", "never occurs"),
        ("@reboot", "unknown macro"),
    ],
)
def test_errors_name_the_field_and_reason(expr: str, reason: str) -> None:
    with pytest.raises(CronError) as info:
        parse_cron(expr)
    assert reason in str(info.value)
    assert isinstance(info.value, ValueError)


def test_whitespace_is_normalised() -> None:
    assert parse_cron("  0   9 * *\t* ").expression == "0 9 * * *"


def test_validate_timezone() -> None:
    assert validate_timezone("Europe/Berlin") == BERLIN
    assert validate_timezone("UTC") == ZoneInfo("UTC")
    for bad in ["Mars/Olympus", "", "../etc/passwd", "europe/berlin "]:
        with pytest.raises(TimezoneError, match="time zone"):
            validate_timezone(bad)
