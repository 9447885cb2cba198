"""Terraform's built-in functions that the synthesized stacks call."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from consentvault.errors import ConfigError

# `file()` paths are relative to the stack's folder, which the apply sets.
base_dir: ContextVar[str] = ContextVar("base_dir", default=".")
_DURATION_PART = re.compile(r"(-?\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)")
_UNITS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_rfc3339(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timeadd(timestamp: str, duration: str) -> str:
    if not _DURATION_PART.fullmatch(duration.replace(" ", "")) and not re.fullmatch(
        rf"(?:{_DURATION_PART.pattern})+", duration
    ):
        raise ConfigError(f"timeadd: {duration!r} is not a duration")
    seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(duration))
    return format_rfc3339(parse_rfc3339(timestamp) + timedelta(seconds=seconds))


def _timecmp(first: str, second: str) -> int:
    a, b = parse_rfc3339(first), parse_rfc3339(second)
    return (a > b) - (a < b)


def _lookup(mapping: dict, key: str, *default: Any) -> Any:
    if key in mapping:
        return mapping[key]
    if default:
        return default[0]
    raise ConfigError(f"lookup: no key {key!r}")


def _file(path: str) -> str:
    # normpath first: `..` must not need the stack folder to exist on disk.
    full = os.path.normpath(os.path.join(base_dir.get(), path))
    try:
        return Path(full).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"file({path!r}): {exc.strerror}") from None


def _tostring(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


FUNCTIONS = {
    "file": _file,
    "timeadd": _timeadd,
    "timecmp": _timecmp,
    "timestamp": lambda: format_rfc3339(datetime.now(UTC)),
    "lookup": _lookup,
    "jsonencode": lambda value: json.dumps(value, separators=(",", ":")),
    "jsondecode": json.loads,
    "join": lambda separator, items: separator.join(_tostring(i) for i in items),
    "split": lambda separator, text: text.split(separator),
    "concat": lambda *lists: [item for items in lists for item in items],
    "merge": lambda *maps: {k: v for mapping in maps for k, v in mapping.items()},
    "tolist": list,
    "toset": lambda items: sorted(set(items), key=str),
    "tomap": dict,
    "tostring": _tostring,
    "tonumber": float,
    "length": len,
    "element": lambda items, index: items[int(index) % len(items)],
    "keys": lambda mapping: sorted(mapping),
    "values": lambda mapping: [mapping[k] for k in sorted(mapping)],
    "lower": str.lower,
    "upper": str.upper,
    "trimspace": str.strip,
    "replace": lambda text, old, new: text.replace(old, new),
    "format": lambda template, *args: template.replace("%%", "%") % tuple(args),
    "coalesce": lambda *values: next(v for v in values if v not in (None, "")),
    "base64encode": lambda text: base64.b64encode(text.encode()).decode(),
    "base64decode": lambda text: base64.b64decode(text).decode(),
    "sha256": lambda text: hashlib.sha256(text.encode()).hexdigest(),
    "abspath": lambda path: str(Path(path).absolute()),
}


def call(name: str, arguments: list[Any]) -> Any:
    function = FUNCTIONS.get(name)
    if function is None:
        raise ConfigError(f"the sandbox apply does not know the function {name}()")
    try:
        return function(*arguments)
    except (TypeError, ValueError, KeyError, StopIteration) as exc:
        raise ConfigError(f"{name}() failed: {exc}") from None
