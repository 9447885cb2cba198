"""`time_rotating`: a clock that asks for its own replacement when it is due."""

from __future__ import annotations

from datetime import timedelta

from consentvault.sandbox.apply.functions import format_rfc3339, parse_rfc3339
from consentvault.sandbox.apply.registry import ApplyContext, Attributes, resource

_PERIODS = {
    "rotation_minutes": timedelta(minutes=1),
    "rotation_hours": timedelta(hours=1),
    "rotation_days": timedelta(days=1),
    "rotation_months": timedelta(days=30),
    "rotation_years": timedelta(days=365),
}


@resource("time_rotating")
class RotatingClock:
    def create(self, ctx: ApplyContext, config: Attributes) -> Attributes:
        base = parse_rfc3339(config["rfc3339"]) if config.get("rfc3339") else ctx.now
        period = sum(
            (
                unit * int(config[name])
                for name, unit in _PERIODS.items()
                if config.get(name)
            ),
            timedelta(),
        )
        if config.get("rotation_rfc3339"):
            rotation = parse_rfc3339(config["rotation_rfc3339"])
        else:
            rotation = base + period
        if rotation <= ctx.now:
            # A fixed base already past its rotation starts again from now.
            base, rotation = ctx.now, ctx.now + period
        return {
            **config,
            "id": format_rfc3339(base),
            "rfc3339": format_rfc3339(base),
            "rotation_rfc3339": format_rfc3339(rotation),
            "unix": int(base.timestamp()),
        }

    def update(self, ctx, previous: Attributes, config: Attributes) -> Attributes:
        return self.create(ctx, config)

    def delete(self, ctx: ApplyContext, previous: Attributes) -> None:
        """A clock lives only in the state."""

    def expired(self, ctx: ApplyContext, previous: Attributes) -> bool:
        return parse_rfc3339(previous["rotation_rfc3339"]) <= ctx.now
