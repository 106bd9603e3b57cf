"""The time window of one day partition."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo


def day_window(day: date, tz: str) -> tuple[datetime, datetime]:
    """The half-open window [start, end) of local calendar `day` in IANA zone `tz`, as aware datetimes.

    A day is not always 24 hours: across a daylight-saving change it is 23 or 25, which adding
    `timedelta(days=1)` to an aware datetime would get wrong, so both ends are built from local midnight.
    """
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    # Round-trip through UTC so that a midnight that does not exist locally resolves to a real instant.
    return start.astimezone(timezone.utc).astimezone(zone), end.astimezone(timezone.utc).astimezone(zone)
