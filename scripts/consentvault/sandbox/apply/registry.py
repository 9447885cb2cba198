"""How the offline apply handles each Terraform resource and data source type.

A resource handler creates, updates and deletes one resource and returns its
attributes (what other resources and outputs may reference). A data handler
only reads. Each resource family registers its handlers in its own module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import hvac

Attributes = dict[str, Any]

# Keys of a block that steer Terraform, not the provider.
META_KEYS = {"//", "count", "depends_on", "lifecycle", "provider", "for_each"}


class EntraAdmin(Protocol):
    def request(self, method: str, path: str, body: dict | None = None) -> dict: ...


@dataclass
class ApplyContext:
    vault: hvac.Client
    entra: Callable[[], EntraAdmin]
    now: datetime
    echo: Callable[[str], None] = lambda line: None


class ResourceHandler(Protocol):
    def create(self, ctx: ApplyContext, config: Attributes) -> Attributes: ...

    def update(
        self, ctx: ApplyContext, previous: Attributes, config: Attributes
    ) -> Attributes: ...

    def delete(self, ctx: ApplyContext, previous: Attributes) -> None: ...


class Replaced:
    """A resource whose every change is a delete and a create."""

    def update(
        self, ctx: ApplyContext, previous: Attributes, config: Attributes
    ) -> Attributes:
        self.delete(ctx, previous)
        return self.create(ctx, config)


def needs_replacement(handler: Any, ctx: ApplyContext, previous: Attributes) -> bool:
    """True if an unchanged resource is due for replacement (a rotating clock)."""
    check = getattr(handler, "expired", None)
    return bool(check and check(ctx, previous))


RESOURCES: dict[str, ResourceHandler] = {}
DATA_SOURCES: dict[str, Callable[[ApplyContext, Attributes], Attributes]] = {}


def resource(type_: str):
    def register(cls):
        RESOURCES[type_] = cls()
        return cls

    return register


def data_source(type_: str):
    def register(function):
        DATA_SOURCES[type_] = function
        return function

    return register


def write(ctx: ApplyContext, path: str, data: dict) -> dict:
    """Write to Vault and pass on its warnings (ignored parameters, mostly)."""
    reply = ctx.vault.write_data(path, data=data)
    body = reply if isinstance(reply, dict) else {}
    for warning in body.get("warnings") or []:
        ctx.echo(f"warning  {path}: {warning}")
    return body


def without_meta(config: Attributes, *also: str) -> Attributes:
    """Config fields meant for the API: no Terraform keys, no unset values."""
    skipped = META_KEYS | set(also)
    return {k: v for k, v in config.items() if k not in skipped and v is not None}


def load_handlers() -> None:
    """Import every resource family module so that it registers itself."""
    from consentvault.sandbox.apply import (  # noqa: F401
        clock,
        entra,
        vault_auth,
        vault_engines,
        vault_kv,
        vault_policies,
    )
