"""The 72-hour clock across time zones and the UK's summer-time changes
(last Sunday of March: 01:00 GMT -> 02:00 BST; last Sunday of October:
02:00 BST -> 01:00 GMT)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shareguard.breach.clock import Clock, describe, parse_when
from shareguard.errors import InputError

LONDON = ZoneInfo("Europe/London")


def test_deadline_across_the_spring_change_is_72_real_hours() -> None:
    # Saturday 28 March 2026 10:00 GMT; clocks go forward on Sunday 29 March.
    aware = parse_when("2026-03-28T10:00")
    assert aware.utcoffset() == timedelta(0)
    clock = Clock(aware, None)
    assert clock.deadline.astimezone(UTC) == datetime(2026, 3, 31, 10, 0, tzinfo=UTC)
    # ... which is 11:00 on the wall clock in London (BST).
    assert clock.as_dict(aware)["deadline"] == "2026-03-31T11:00+01:00"


def test_deadline_across_the_autumn_change_is_72_real_hours() -> None:
    # Friday 23 October 2026 09:00 BST; clocks go back on Sunday 25 October.
    aware = parse_when("2026-10-23T09:00")
    clock = Clock(aware, None)
    assert clock.deadline.astimezone(UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    assert clock.as_dict(aware)["deadline"] == "2026-10-26T08:00+00:00"


def test_the_same_instant_in_any_zone_gives_the_same_deadline() -> None:
    london = Clock(parse_when("2026-10-24T23:30", "Europe/London"), None)
    new_york = Clock(parse_when("2026-10-24T18:30", "America/New_York"), None)
    explicit = Clock(parse_when("2026-10-24T22:30Z"), None)
    assert london.deadline == new_york.deadline == explicit.deadline


def test_time_left_and_overdue() -> None:
    aware = parse_when("2026-03-28T10:00")
    clock = Clock(aware, None)
    # Elapsed time is added in UTC: adding to a London time adds wall-clock time.
    now = aware.astimezone(UTC) + timedelta(hours=30, minutes=15)
    assert clock.remaining(now) == timedelta(hours=41, minutes=45)
    assert clock.state(now) == "running"
    assert describe(clock.remaining(now)) == "41h 45m left"
    late = aware.astimezone(UTC) + timedelta(hours=75)
    assert clock.state(late) == "overdue"
    assert describe(clock.remaining(late)) == "3h 00m overdue"
    start = aware.astimezone(UTC)
    assert Clock(aware, start + timedelta(hours=71)).state(late) == "reported in time"
    assert Clock(aware, start + timedelta(hours=73)).state(late) == "reported late"


def test_local_times_that_do_not_exist_or_happen_twice_are_refused() -> None:
    with pytest.raises(InputError, match="does not exist"):
        parse_when("2026-03-29T01:30")  # skipped by the spring change
    with pytest.raises(InputError, match="happens twice") as exc:
        parse_when("2026-10-25T01:30")  # repeated by the autumn change
    assert "+01:00" in str(exc.value)
    assert "+00:00" in str(exc.value)
    # With an offset both are fine and an hour apart.
    first = parse_when("2026-10-25T01:30+01:00")
    second = parse_when("2026-10-25T01:30+00:00")
    assert second - first == timedelta(hours=1)


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00", ""])
def test_unreadable_times_say_how_to_write_them(bad: str) -> None:
    with pytest.raises(InputError, match="2026-03-29T09:30"):
        parse_when(bad)


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(InputError, match="IANA"):
        parse_when("2026-01-01T00:00", "Mars/Olympus")


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(LONDON)
    )
)
def test_deadline_is_always_72_elapsed_hours(aware: datetime) -> None:
    clock = Clock(aware, None)
    assert clock.deadline.astimezone(UTC) - aware.astimezone(UTC) == timedelta(hours=72)
    assert clock.remaining(aware) == timedelta(hours=72)
