"""The 72-hour clock (UK GDPR Art 33(1), DPA 2018 s.67(1)): from the moment the
controller became aware of the breach to the report to the Information
Commissioner.

All times are aware datetimes.  The deadline is 72 elapsed hours, computed in
UTC, so that a change to or from summer time in between moves the local
wall-clock deadline by an hour rather than the real one.  A time given
without an offset is read in the organisation's zone; a local time that does
not exist (the spring gap) or happens twice (the autumn overlap) is refused
with a request for an explicit offset instead of being guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shareguard.errors import InputError

REPORT_WITHIN = timedelta(hours=72)
DEFAULT_ZONE = "Europe/London"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/London"
        ) from None


def parse_when(text: str, zone_name: str = DEFAULT_ZONE) -> datetime:
    """An aware datetime from ISO-8601 text (``2026-03-29T01:30``,
    ``2026-03-29 01:30+01:00``, ``...Z``); naive text is in ``zone_name``."""
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{text!r} is not a date and time; write it as 2026-03-29T09:30 "
            "(optionally with an offset such as +01:00)"
        ) from None
    if value.tzinfo is not None:
        return value
    tz = zone(zone_name)
    first, second = value.replace(tzinfo=tz, fold=0), value.replace(tzinfo=tz, fold=1)
    # A time in the spring gap does not survive the round trip through UTC.
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != value:
        raise InputError(
            f"{raw} does not exist in {zone_name} (clocks go forward); add the offset you mean"
        )
    if first.utcoffset() != second.utcoffset():
        raise InputError(
            f"{raw} happens twice in {zone_name} (clocks go back); add the offset, "
            f"e.g. {raw}{_offset(first)} or {raw}{_offset(second)}"
        )
    return first


def _offset(value: datetime) -> str:
    return value.strftime("%z")[:3] + ":" + value.strftime("%z")[3:]


def local(value: datetime, zone_name: str) -> str:
    """A time for people: local to the organisation, with its offset."""
    return value.astimezone(zone(zone_name)).isoformat(timespec="minutes")


@dataclass(frozen=True, slots=True)
class Clock:
    aware_at: datetime
    reported_at: datetime | None
    zone_name: str = DEFAULT_ZONE

    @property
    def deadline(self) -> datetime:
        """In UTC: Python subtracts and compares two datetimes that share a
        zone by their wall-clock times, which is an hour out across a
        summer-time change."""
        return self.aware_at.astimezone(UTC) + REPORT_WITHIN

    def remaining(self, now: datetime) -> timedelta:
        """Time left before the deadline (negative once it has passed)."""
        return self.deadline - now.astimezone(UTC)

    def state(self, now: datetime) -> str:
        if self.reported_at is not None:
            in_time = self.reported_at.astimezone(UTC) <= self.deadline
            return "reported in time" if in_time else "reported late"
        return "running" if self.remaining(now) > timedelta(0) else "overdue"

    def as_dict(self, now: datetime) -> dict[str, Any]:
        left = self.remaining(now)
        return {
            "aware_at": local(self.aware_at, self.zone_name),
            "deadline": local(self.deadline, self.zone_name),
            "deadline_utc": self.deadline.astimezone(UTC).isoformat(),
            "state": self.state(now),
            "seconds_left": int(left.total_seconds()),
            "time_left": describe(left),
        }


def describe(left: timedelta) -> str:
    """``41h 12m left`` or ``3h 05m overdue``."""
    seconds = int(left.total_seconds())
    word = "left" if seconds >= 0 else "overdue"
    seconds = abs(seconds)
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m {word}"
