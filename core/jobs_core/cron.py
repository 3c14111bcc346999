"""Cron expressions as cron users know them: parse once, then compute fire times in a time zone.

Format: 5 fields (``minute hour day-of-month month day-of-week``) or 6 with seconds first; ``*``, lists,
ranges, steps (``*/15``, ``1-10/2``, ``5/10`` = ``5-max/10``), names (``JAN``..``DEC``, ``SUN``..``SAT``, any
case), Sunday as 0 or 7, and the macros ``@hourly @daily @midnight @weekly @monthly @yearly @annually``.
When day-of-month and day-of-week are both restricted (neither starts with ``*``), a day matches if either
does, as in Vixie cron; otherwise both must match.

Fire times are wall-clock times in the schedule's zone, each fired at most once:

* spring forward: a local time the clock skips (02:30 in Europe/Berlin on the last Sunday of March) is
  shifted forward by the gap (03:30 CEST), the way Python's ``fold=0`` reads it; when that instant is also a
  real slot, or a real slot comes first, the two collapse into one fire. A daily job in the gap still runs.
* fall back: a local time that occurs twice (01:30 in America/New_York on the first Sunday of November)
  fires at its first occurrence only, so a daily job runs once; a sub-hourly schedule pauses during the
  repeated hour instead of running it twice.

How it fails: :func:`parse_cron` raises :class:`CronError` (a ``ValueError``) naming the field, the token
and the reason; :func:`validate_timezone` raises :class:`TimezoneError` for names that are not IANA zones.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

__all__ = ["CronError", "CronSpec", "TimezoneError", "parse_cron", "validate_timezone"]


class CronError(ValueError):
    """The cron expression is malformed or can never fire; the message says which field and why."""


class TimezoneError(ValueError):
    """The time zone is not a known IANA name."""


MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MONTH_NAMES = {name: number for number, name in enumerate(_MONTHS, 1)}
DAY_NAMES = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
# Longest month length, per month, leap years included: a day-of-month beyond it can never match.
MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# Feb 29 restricted to one weekday recurs within 28 years (40 across a skipped century leap day).
SEARCH_YEARS = 50
# Bound on candidates tried around one DST transition: one per second of a repeated hour, with margin.
DST_STEPS = 20_000


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None


SECOND = _Field("second", 0, 59)
MINUTE = _Field("minute", 0, 59)
HOUR = _Field("hour", 0, 23)
DAY = _Field("day-of-month", 1, 31)
MONTH = _Field("month", 1, 12, MONTH_NAMES)
WEEKDAY = _Field("day-of-week", 0, 7, DAY_NAMES)  # 7 is Sunday again; folded to 0 after parsing
_TOKEN = re.compile(r"^(?P<base>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")


@dataclass(frozen=True)
class CronSpec:
    """A parsed expression: the allowed values of each field, sorted, plus the day-matching rule."""

    expression: str
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...]
    months: tuple[int, ...]
    weekdays: tuple[int, ...]  # 0 = Sunday
    day_or: bool  # both day fields restricted: either one matching is enough

    def next_after(self, dt: datetime, tz: ZoneInfo) -> datetime:
        """The first fire time strictly after the aware ``dt``, as an aware datetime in ``tz``."""
        if dt.tzinfo is None:
            raise ValueError("next_after needs an aware datetime")
        naive = dt.astimezone(tz).replace(tzinfo=None)
        best: datetime | None = None
        for _ in range(DST_STEPS):
            naive = self._next_naive(naive)
            if best is not None and naive >= best.replace(tzinfo=None):
                return best
            instant, skipped = _resolve(naive, tz)
            if instant <= dt:
                continue  # the first occurrence of a repeated time already passed
            if not skipped:
                return instant if best is None else min(best, instant)
            # A skipped time shifted forward can overtake a real slot just after the gap: keep looking.
            best = instant if best is None else best
        raise CronError(f"{self.expression!r}: no fire time found after {dt.isoformat()}")

    def _next_naive(self, after: datetime) -> datetime:
        """The first matching wall-clock time strictly after ``after`` (naive, whole seconds)."""
        moment = after.replace(microsecond=0) + timedelta(seconds=1)
        day = self._next_day(moment.date())
        if day == moment.date():
            now = (moment.hour, moment.minute, moment.second)
            hms = _earliest((self.hours, self.minutes, self.seconds), now)
            if hms is not None:
                return datetime.combine(day, time(hms[0], hms[1], hms[2]))
            day = self._next_day(day + timedelta(days=1))
        return datetime.combine(day, time(self.hours[0], self.minutes[0], self.seconds[0]))

    def _next_day(self, day: date) -> date:
        """The first day on or after ``day`` whose month and day fields match."""
        limit = day.year + SEARCH_YEARS
        while day.year <= limit:
            if day.month not in self.months:
                index = bisect_left(self.months, day.month)
                year = day.year + (index == len(self.months))
                day = date(year, self.months[index % len(self.months)], 1)
            if self._day_matches(day):
                return day
            day += timedelta(days=1)
        raise CronError(f"{self.expression!r}: no matching day within {SEARCH_YEARS} years")

    def _day_matches(self, day: date) -> bool:
        in_month = day.day in self.days
        in_week = day.isoweekday() % 7 in self.weekdays
        return (in_month or in_week) if self.day_or else (in_month and in_week)


def _earliest(allowed: tuple[tuple[int, ...], ...], current: tuple[int, ...]) -> tuple[int, ...] | None:
    """The smallest tuple of allowed values that is >= ``current`` in lexicographic order, or None."""
    if not allowed:
        return ()
    values, value = allowed[0], current[0]
    index = bisect_left(values, value)
    if index < len(values) and values[index] == value:
        rest = _earliest(allowed[1:], current[1:])
        if rest is not None:
            return (value, *rest)
        index += 1
    if index < len(values):
        return (values[index], *(field[0] for field in allowed[1:]))
    return None


def _resolve(naive: datetime, tz: ZoneInfo) -> tuple[datetime, bool]:
    """The instant of a wall-clock time (first occurrence if repeated) and whether the clock skipped it."""
    # fold=0 picks the first of two repeated times, and reads a skipped time with the offset from before
    # the jump, which moves it forward by the size of the gap.
    instant = naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
    return instant, instant.replace(tzinfo=None) != naive


@lru_cache(maxsize=1024)
def parse_cron(expr: str) -> CronSpec:
    """Parse a 5- or 6-field expression or a macro; raise :class:`CronError` naming the bad field."""
    if not isinstance(expr, str) or not expr.strip():
        raise CronError("cron expression is empty")
    text = " ".join(expr.split())
    if text.startswith("@"):
        if text.lower() not in MACROS:
            raise CronError(f"unknown macro {text!r}; use one of {', '.join(MACROS)}")
        fields = ["0", *MACROS[text.lower()].split()]
    else:
        fields = text.split()
        if len(fields) not in (5, 6):
            raise CronError(f"expected 5 fields (or 6 with seconds first), got {len(fields)} in {text!r}")
        if len(fields) == 5:
            fields = ["0", *fields]
    sec, minute, hour, dom, month, dow = fields
    weekdays = tuple(sorted({v % 7 for v in _parse_field(dow, WEEKDAY)}))
    spec = CronSpec(
        expression=text,
        seconds=_parse_field(sec, SECOND),
        minutes=_parse_field(minute, MINUTE),
        hours=_parse_field(hour, HOUR),
        days=_parse_field(dom, DAY),
        months=_parse_field(month, MONTH),
        weekdays=weekdays,
        day_or=not dom.startswith("*") and not dow.startswith("*"),
    )
    _check_reachable(spec)
    return spec


def _parse_field(text: str, field: _Field) -> tuple[int, ...]:
    values: set[int] = set()
    for part in text.split(","):
        values.update(_parse_part(part, field))
    return tuple(sorted(values))


def _parse_part(part: str, field: _Field) -> range:
    match = _TOKEN.match(part)
    if match is None:
        raise CronError(f"{field.name} field: cannot read {part!r}")
    base, step_text = match.group("base"), match.group("step")
    step = int(step_text) if step_text is not None else 1
    if step == 0:
        raise CronError(f"{field.name} field: step in {part!r} must be at least 1")
    if base == "*":
        # Sunday is listed once: `*` and `*/n` over day-of-week cover 0-6, not 0-7.
        return range(field.low, (6 if field is WEEKDAY else field.high) + 1, step)
    low_text, _, high_text = base.partition("-")
    low = _value(low_text, field, part)
    high = _value(high_text, field, part) if high_text else (field.high if step_text else low)
    if low > high:
        raise CronError(f"{field.name} field: range {part!r} runs backwards ({low} > {high})")
    return range(low, high + 1, step)


def _value(token: str, field: _Field, part: str) -> int:
    if token.isdigit():
        value = int(token)
    elif field.names is not None and token.upper() in field.names:
        value = field.names[token.upper()]
    else:
        hint = f" or a name ({', '.join(field.names)})" if field.names else ""
        raise CronError(f"{field.name} field: {token!r} in {part!r} is not a number{hint}")
    if not field.low <= value <= field.high:
        raise CronError(f"{field.name} field: {value} in {part!r} is out of range {field.low}-{field.high}")
    return value


def _check_reachable(spec: CronSpec) -> None:
    """Reject day/month combinations that never occur (``0 0 30 2 *``) instead of never firing."""
    # With the OR rule any weekday still matches in every month; with AND the smallest day must fit.
    if spec.day_or or any(spec.days[0] <= MONTH_DAYS[m - 1] for m in spec.months):
        return
    names = ",".join(list(MONTH_NAMES)[m - 1] for m in spec.months)
    raise CronError(f"day-of-month field: day {spec.days[0]} never occurs in month(s) {names}")


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(name: str) -> ZoneInfo:
    """The :class:`ZoneInfo` for an IANA name such as ``Europe/Berlin``; :class:`TimezoneError` otherwise."""
    if not isinstance(name, str) or not name.strip():
        raise TimezoneError("time zone is empty; use an IANA name such as 'Europe/Berlin' or 'UTC'")
    if name not in _zone_names():
        raise TimezoneError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise TimezoneError(f"time zone {name!r} cannot be loaded: {err}") from None
