"""Vault durations from the settings, as the seconds some provider fields want."""

from __future__ import annotations

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(duration: str) -> int:
    """Seconds in a settings duration such as "720h" (a bare number is seconds)."""
    unit = duration[-1]
    if unit.isdigit():
        return int(duration)
    return int(duration[:-1]) * _SECONDS[unit]
