"""Revoke minted credentials: one, all of a tenant's at once, or every one.

Revoking a tenant must stop its tokens *at once*, but revoking tokens one by
one takes a call each. So the steps run in this order, each closing a window
the next would leave open:

1. the tenant's entity (found by its alias, the tenant id, on the token auth
   mount) is disabled: Vault then refuses every token bound to it in one step,
   including a graph-token's own helper token mid-refresh;
2. the shared Graph-token record (`locks/<tenant>`) is deleted, so no later
   mint reuses an access token handed out before;
3. the tokens are revoked one by one (twice, for those minted meanwhile);
4. for `revoke --tenant` the entity is enabled again, so later mints work;
   offboarding leaves it disabled and deletes it once the tenant's key is
   gone (see `offboarding`).

If anything fails midway the entity stays disabled: failing closed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from consentvault import errors
from consentvault.minting.light_settings import MintSettings
from consentvault.minting.vaulthttp import VaultHTTP

log = logging.getLogger(__name__)

# Lookups and revocations of many accessors run on this many connections.
PARALLEL_CALLS = 8


@dataclass
class TenantRevocation:
    tenant_id: str
    entity_id: str | None
    revoked: list[str] = field(default_factory=list)
    shared_graph_token_removed: bool = False
    entity_enabled_again: bool = False

    def summary(self) -> str:
        if self.entity_id is None:
            return f"tenant {self.tenant_id}: no credential was ever minted"
        after = "enabled again" if self.entity_enabled_again else "left disabled"
        return (
            f"tenant {self.tenant_id}: entity {self.entity_id} disabled, "
            f"{len(self.revoked)} token(s) revoked, entity {after}"
        )


def revoke_accessor(client: VaultHTTP, accessor: str, *, check: bool = True) -> None:
    """Revoke one token by its accessor.

    Vault answers a revocation of an unknown accessor with success, so with
    `check` the accessor is looked up first and an unknown one is `NotFound`.
    """
    if check:
        lookup_accessor(client, accessor)
    client.write(
        "auth/token/revoke-accessor",
        {"accessor": accessor},
        f"revoke the token with accessor {accessor}",
    )
    log.info("revoked the token with accessor %s", accessor)


def lookup_accessor(client: VaultHTTP, accessor: str) -> dict[str, Any]:
    """A token's properties by accessor; `NotFound` if no live token has it."""
    try:
        reply = client.write(
            "auth/token/lookup-accessor",
            {"accessor": accessor},
            f"look up accessor {accessor}",
        )
    except errors.UsageError:
        raise errors.NotFound(f"no token has the accessor {accessor}") from None
    return (reply or {}).get("data") or {}


def revoke_lease(client: VaultHTTP, lease_id: str) -> None:
    """Revoke one lease (an azure-sp secret, for example); `NotFound` if unknown."""
    try:
        client.write("sys/leases/lookup", {"lease_id": lease_id}, f"look up {lease_id}")
    except errors.UsageError:
        raise errors.NotFound(f"no lease {lease_id}") from None
    client.write("sys/leases/revoke", {"lease_id": lease_id}, f"revoke {lease_id}")
    log.info("revoked lease %s", lease_id)


def token_mount_accessor(client: VaultHTTP) -> str:
    """The accessor of the token auth mount, which tenant aliases live on.

    `sys/internal/ui/mounts` answers any token with access below the mount;
    `sys/auth` needs more, so it is only the fallback.
    """
    try:
        reply = client.read(
            "sys/internal/ui/mounts/auth/token", "find the token auth mount"
        )
        return str((reply or {})["data"]["accessor"])
    except (errors.PermissionDenied, errors.NotFound, KeyError):
        reply = client.read("sys/auth", "list the auth mounts")
        return str((reply or {})["data"]["token/"]["accessor"])


def tenant_entity(
    client: VaultHTTP, mount_accessor: str, tenant_id: str
) -> dict[str, Any] | None:
    """The entity whose token-mount alias is the tenant id, if one exists."""
    reply = client.write(
        "identity/lookup/entity",
        {"alias_name": tenant_id, "alias_mount_accessor": mount_accessor},
        f"look up the entity of tenant {tenant_id}",
    )
    return (reply or {}).get("data") or None


def set_entity_disabled(client: VaultHTTP, entity_id: str, disabled: bool) -> None:
    word = "disable" if disabled else "enable"
    client.write(
        f"identity/entity/id/{entity_id}",
        {"disabled": disabled},
        f"{word} entity {entity_id}",
    )
    log.info("%sd entity %s", word, entity_id)


def delete_entity(client: VaultHTTP, entity_id: str) -> None:
    """Delete an entity with its aliases; a later token of its alias gets a new one."""
    client.delete(f"identity/entity/id/{entity_id}", f"delete entity {entity_id}")
    log.info("deleted entity %s", entity_id)


def revoke_tenant(
    client: VaultHTTP,
    settings: MintSettings,
    tenant_id: str,
    *,
    enable_again: bool = True,
) -> TenantRevocation:
    """Stop every credential of a tenant at once, then revoke each one.

    With `enable_again` false (offboarding) the entity stays disabled.
    """
    entity = tenant_entity(client, token_mount_accessor(client), tenant_id)
    report = TenantRevocation(tenant_id, entity["id"] if entity else None)
    if entity is not None:
        set_entity_disabled(client, entity["id"], True)
    report.shared_graph_token_removed = remove_shared_graph_token(
        client, settings, tenant_id
    )
    if entity is None:
        return report

    try:
        # A second pass catches tokens minted while the first one ran.
        for _ in range(2):
            owned = find_accessors(client, _belongs_to(entity["id"], tenant_id))
            revoke_accessors(client, owned)
            report.revoked.extend(owned)
    except errors.ConsentVaultError as exc:
        raise type(exc)(
            f"{exc}; entity {entity['id']} of tenant {tenant_id} stays disabled, "
            "so its tokens stay refused: run the revocation again"
        ) from None
    if enable_again:
        set_entity_disabled(client, entity["id"], False)
        report.entity_enabled_again = True
    log.info("tenant %s: %d token(s) revoked", tenant_id, len(report.revoked))
    return report


def revoke_all(client: VaultHTTP, settings: MintSettings) -> list[str]:
    """Break glass: stop every tenant's tokens at once, then revoke each one.

    The entities of all tenants with a record are disabled first (a token of
    a tenant whose record is already gone is still revoked by its role below,
    only not in the first instant), then every token of the token role is
    revoked and the entities are enabled again.
    """
    mount_accessor = token_mount_accessor(client)
    entities = [
        entity["id"]
        for tenant_id in list_tenants(client, settings)
        if (entity := tenant_entity(client, mount_accessor, tenant_id))
    ]
    for entity_id in entities:
        set_entity_disabled(client, entity_id, True)
    roles = (settings.token_role, settings.refresh_token_role)
    owned = find_accessors(client, lambda data: data.get("role") in roles)
    revoke_accessors(client, owned)
    for tenant_id in list_locks(client, settings):
        remove_shared_graph_token(client, settings, tenant_id)
    for entity_id in entities:
        set_entity_disabled(client, entity_id, False)
    log.info("revoked all %d token(s) of roles %s", len(owned), ", ".join(roles))
    return owned


def list_tenants(client: VaultHTTP, settings: MintSettings) -> list[str]:
    path = f"{settings.kv_mount}/metadata/{settings.tenants_prefix}"
    try:
        return [key for key in client.list(path, f"list {path}") if "/" not in key]
    except errors.NotFound:
        return []


def find_accessors(
    client: VaultHTTP, wanted: Callable[[dict[str, Any]], bool]
) -> list[str]:
    """Accessors of the live tokens whose lookup data `wanted` accepts."""
    accessors = client.list("auth/token/accessors", "list token accessors")

    def check(worker: VaultHTTP, accessor: str) -> str | None:
        try:
            data = lookup_accessor(worker, accessor)
        except errors.NotFound:
            return None  # expired or revoked since the listing
        return accessor if wanted(data) else None

    return [found for found in _in_parallel(client, check, accessors) if found]


def revoke_accessors(client: VaultHTTP, accessors: Iterable[str]) -> None:
    def revoke(worker: VaultHTTP, accessor: str) -> None:
        revoke_accessor(worker, accessor, check=False)

    list(_in_parallel(client, revoke, list(accessors)))


def remove_shared_graph_token(
    client: VaultHTTP, settings: MintSettings, tenant_id: str
) -> bool:
    """Delete the single-flight record that may hold a fresh Graph token."""
    path = f"{settings.kv_mount}/metadata/{settings.locks_prefix}/{tenant_id}"
    try:
        client.read(path, f"look for {path}")
    except errors.NotFound:
        return False
    client.delete(path, f"delete {path}")
    return True


def list_locks(client: VaultHTTP, settings: MintSettings) -> list[str]:
    path = f"{settings.kv_mount}/metadata/{settings.locks_prefix}"
    try:
        return client.list(path, f"list {path}")
    except errors.NotFound:
        return []


def _belongs_to(entity_id: str, tenant_id: str) -> Callable[[dict[str, Any]], bool]:
    def wanted(data: dict[str, Any]) -> bool:
        meta = data.get("meta") or {}
        return data.get("entity_id") == entity_id or meta.get("tenant") == tenant_id

    return wanted


def _in_parallel(
    client: VaultHTTP, call: Callable[[VaultHTTP, str], Any], items: list[str]
) -> list[Any]:
    """`call(worker, item)` for each item, each thread on its own connection."""
    if len(items) < 2:
        return [call(client, item) for item in items]
    local = threading.local()
    workers: list[VaultHTTP] = []

    def run(item: str) -> Any:
        if not hasattr(local, "worker"):
            local.worker = client.with_token(client.token or "")
            workers.append(local.worker)
        return call(local.worker, item)

    try:
        with ThreadPoolExecutor(max_workers=PARALLEL_CALLS) as pool:
            return list(pool.map(run, items))
    finally:
        for worker in workers:
            worker.close()
