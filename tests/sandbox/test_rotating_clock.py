"""`time_rotating` in the offline apply: due clocks ask for their replacement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import hvac

from consentvault.sandbox.apply.clock import RotatingClock
from consentvault.sandbox.apply.registry import ApplyContext, needs_replacement

START = datetime(2026, 1, 1, tzinfo=UTC)


def _context(now: datetime) -> ApplyContext:
    # The clock never calls Vault or Entra; the client only fills the slot.
    return ApplyContext(
        vault=hvac.Client(url="https://127.0.0.1:9"), entra=lambda: None, now=now
    )


def test_clock_starts_now_and_rotates_after_its_period():
    clock = RotatingClock().create(_context(START), {"rotation_days": 60})

    assert clock["rfc3339"] == "2026-01-01T00:00:00Z"
    assert clock["rotation_rfc3339"] == "2026-03-02T00:00:00Z"
    assert clock["id"] == clock["rfc3339"]


def test_clock_is_due_once_its_rotation_time_has_passed():
    clock = RotatingClock().create(_context(START), {"rotation_days": 60})
    handler = RotatingClock()

    assert not needs_replacement(handler, _context(START + timedelta(days=59)), clock)
    assert needs_replacement(handler, _context(START + timedelta(days=60)), clock)


def test_fixed_base_already_past_starts_again_from_now():
    later = START + timedelta(days=200)
    config = {"rotation_days": 60, "rfc3339": "2026-01-31T00:00:00Z"}

    clock = RotatingClock().create(_context(later), config)

    assert clock["rfc3339"] == "2026-07-20T00:00:00Z"
    assert clock["rotation_rfc3339"] == "2026-09-18T00:00:00Z"
