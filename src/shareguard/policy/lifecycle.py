"""Where a stored agreement is in its life: in force, not yet, expired, and
the reminders due (expiry coming, review due or overdue).  One answer for
the CLI and the portal."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

EXPIRY_WARNING = timedelta(days=60)
REVIEW_WARNING = timedelta(days=30)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def status_and_reminders(parsed: dict[str, Any], today: date) -> tuple[str, list[str]]:
    """The status of an agreement's parsed form on ``today`` ("in force",
    "not yet in force", "expired", or "unknown" without valid dates) and the
    reminders due."""
    start, until = _day(parsed.get("valid_from")), _day(parsed.get("valid_until"))
    review = _day(parsed.get("review_date"))
    if start is None or until is None:
        return "unknown", []
    status = "not yet in force" if today < start else "expired" if today > until else "in force"
    reminders: list[str] = []
    if status == "in force" and until - today <= EXPIRY_WARNING:
        reminders.append(f"expires on {until.isoformat()} ({(until - today).days} days)")
    if review is not None and status != "expired":
        if review < today:
            reminders.append(f"review was due on {review.isoformat()}")
        elif review - today <= REVIEW_WARNING:
            reminders.append(f"review due on {review.isoformat()}")
    return status, reminders
