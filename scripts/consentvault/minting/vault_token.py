"""`mint vault-token`: a token from the token role, bound to one tenant.

The token carries `entity_alias = <tenant id>`, so Vault gives it an entity
whose alias on the token auth mount is named after the tenant; the reader
policy is templated on that name and opens that tenant's record only.
"""

from __future__ import annotations

import dataclasses
import getpass
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from consentvault import errors
from consentvault.minting.light_settings import MintSettings, duration_seconds
from consentvault.minting.tenant_check import require_active_tenant
from consentvault.minting.vaulthttp import VaultHTTP

log = logging.getLogger(__name__)

# Where CI providers say which pipeline, job and person asked: GitHub, GitLab.
_CI_METADATA = {
    "pipeline": ("GITHUB_WORKFLOW_REF", "CI_PIPELINE_URL"),
    "job": ("GITHUB_RUN_ID", "CI_JOB_ID"),
    "requested_by": ("GITHUB_ACTOR", "GITLAB_USER_LOGIN"),
}


@dataclass(frozen=True)
class MintedToken:
    """A minted token, or (wrapped) the wrapping token that holds it.

    The facts always describe the minted token itself; when it is wrapped,
    `wrapping_*` describe the wrapping token, which `token` then is.
    """

    tenant_id: str
    accessor: str
    ttl: int
    expires_at: str
    num_uses: int
    policies: tuple[str, ...]
    entity_id: str | None
    metadata: dict[str, str]
    wrapped: bool = False
    wrapping_accessor: str | None = None
    wrapping_ttl: int | None = None
    wrapping_expires_at: str | None = None
    token: str = field(default="", repr=False)

    def facts(self) -> dict[str, Any]:
        """Everything about the token that is safe to log and print."""
        return {
            "kind": "vault-token",
            "tenant_id": self.tenant_id,
            "accessor": self.accessor,
            "ttl": self.ttl,
            "expires_at": self.expires_at,
            "renewable": False,
            "num_uses": self.num_uses,
            "policies": list(self.policies),
            "entity_id": self.entity_id,
            "metadata": self.metadata,
            "wrapped": self.wrapped,
            "wrapping_accessor": self.wrapping_accessor,
            "wrapping_ttl": self.wrapping_ttl,
            "wrapping_expires_at": self.wrapping_expires_at,
        }


def ci_metadata(overrides: dict[str, str | None]) -> dict[str, str]:
    """Token metadata from flags, else the CI provider's variables."""
    found: dict[str, str] = {}
    for key, variables in _CI_METADATA.items():
        value = overrides.get(key) or next(
            (os.environ[name] for name in variables if os.environ.get(name)), None
        )
        if key == "requested_by" and not value:
            value = getpass.getuser()
        if value:
            found[key] = value
    return found


def check_ttl(ttl: str | None, settings: MintSettings) -> int:
    """The TTL in seconds; over the role's maximum is refused before any call."""
    if ttl is None:
        return settings.minted_ttl_seconds
    try:
        seconds = duration_seconds(ttl)
    except ValueError as exc:
        raise errors.UsageError(f"--ttl: {exc}") from None
    if seconds <= 0:
        raise errors.UsageError("--ttl must be positive")
    if seconds > settings.minted_max_ttl_seconds:
        raise errors.UsageError(
            f"--ttl {ttl} is over the token role's maximum of "
            f"{settings.minted_max_ttl}; Vault would silently shorten it"
        )
    return seconds


def mint_vault_token(
    client: VaultHTTP,
    settings: MintSettings,
    tenant_id: str,
    *,
    ttl: str | None = None,
    num_uses: int = 0,
    wrap_ttl: str | None = None,
    metadata: dict[str, str] | None = None,
    role: str | None = None,
) -> MintedToken:
    """Mint a tenant-bound, non-renewable token (checked input, then one call).

    `role` defaults to the worker-facing reader role; `mint graph-token`
    passes the refresher role for its own write-back token.
    """
    ttl_seconds = check_ttl(ttl, settings)
    if num_uses < 0:
        raise errors.UsageError("--num-uses must be 0 (unlimited) or more")
    if wrap_ttl is not None:
        _check_wrap_ttl(wrap_ttl)
    require_active_tenant(client, settings, tenant_id)

    meta = {"tenant": tenant_id, **(metadata or {})}
    body = {
        "entity_alias": tenant_id,
        "ttl": f"{ttl_seconds}s",
        "renewable": False,
        "num_uses": num_uses,
        "meta": meta,
    }
    role = role or settings.token_role
    reply = _create(client, role, body, wrap_ttl) or {}
    minted = _from_reply(reply, tenant_id, num_uses, meta, ttl_seconds)
    if minted.wrapped:
        minted = _with_wrapped_token_facts(client, minted)
    log.info(
        "minted vault-token for tenant %s: accessor %s, expires %s%s",
        tenant_id,
        minted.accessor,
        minted.expires_at,
        " (wrapped)" if minted.wrapped else "",
    )
    return minted


def _create(
    client: VaultHTTP, role: str, body: dict[str, Any], wrap_ttl: str | None
) -> dict[str, Any] | None:
    path = f"auth/token/create/{role}"
    action = f"mint a token from role {role}"
    try:
        return client.write(path, body, action, wrap_ttl=wrap_ttl)
    except errors.UsageError as exc:
        if "unknown role" in str(exc) or "role not found" in str(exc):
            raise errors.ConfigError(
                f"{action}: the token role {role!r} does not exist on "
                f"{client.address}; apply the Vault stack first"
            ) from None
        raise
    except errors.PermissionDenied:
        tenant_id = body["entity_alias"]
        if _entity_disabled(client, tenant_id):
            raise errors.PermissionDenied(
                f"{action}: tenant {tenant_id}: its entity is disabled. A "
                "revocation (revoke --tenant) may be running: mint again once it "
                "is done. If none is, an operator can re-enable it with "
                f"`consentvault revoke --tenant {tenant_id}`"
            ) from None
        raise errors.PermissionDenied(
            f"{action}: this identity may not mint from it (POST /v1/{path} refused; "
            "log in as the ci-minter)"
        ) from None


def _entity_disabled(client: VaultHTTP, tenant_id: str) -> bool:
    """Whether the tenant's entity is disabled (by a revocation, running or not)."""
    from consentvault.minting.revocation import tenant_entity, token_mount_accessor

    try:
        entity = tenant_entity(client, token_mount_accessor(client), tenant_id)
    except errors.ConsentVaultError:
        return False
    return bool(entity and entity.get("disabled"))


def _from_reply(
    reply: dict[str, Any],
    tenant_id: str,
    num_uses: int,
    meta: dict[str, str],
    ttl_seconds: int,
) -> MintedToken:
    wrap_info = reply.get("wrap_info")
    if wrap_info:
        # Until the lookup by accessor: the token's TTL as requested.
        wrapping_ttl = int(wrap_info["ttl"])
        return MintedToken(
            tenant_id=tenant_id,
            accessor=wrap_info.get("wrapped_accessor", ""),
            ttl=ttl_seconds,
            expires_at=_expiry(ttl_seconds),
            num_uses=num_uses,
            policies=(),
            entity_id=None,
            metadata=meta,
            wrapped=True,
            wrapping_accessor=wrap_info.get("accessor"),
            wrapping_ttl=wrapping_ttl,
            wrapping_expires_at=_expiry(wrapping_ttl),
            token=wrap_info["token"],
        )
    auth = reply["auth"]
    ttl = int(auth["lease_duration"])
    return MintedToken(
        tenant_id=tenant_id,
        accessor=auth["accessor"],
        ttl=ttl,
        expires_at=_expiry(ttl),
        num_uses=num_uses,
        policies=tuple(auth.get("policies") or ()),
        entity_id=auth.get("entity_id") or None,
        metadata=meta,
        token=auth["client_token"],
    )


def _with_wrapped_token_facts(client: VaultHTTP, minted: MintedToken) -> MintedToken:
    """The wrapped token's own policies, entity and TTL, looked up by accessor.

    A failed lookup keeps the requested TTL and leaves policies and entity
    empty: the token exists and the caller holds its wrapping token.
    """
    try:
        reply = client.write(
            "auth/token/lookup-accessor",
            {"accessor": minted.accessor},
            f"look up the wrapped token {minted.accessor}",
        )
    except errors.ConsentVaultError as exc:
        log.warning("wrapped token %s: no lookup (%s)", minted.accessor, exc)
        return minted
    data = (reply or {}).get("data") or {}
    ttl = int(data.get("ttl") or minted.ttl)
    return dataclasses.replace(
        minted,
        ttl=ttl,
        expires_at=_expiry(ttl),
        policies=tuple(data.get("policies") or ()),
        entity_id=data.get("entity_id") or None,
    )


def _check_wrap_ttl(wrap_ttl: str) -> None:
    try:
        if duration_seconds(wrap_ttl) <= 0:
            raise ValueError("must be positive")
    except ValueError as exc:
        raise errors.UsageError(f"--wrap-ttl: {exc}") from None


def _expiry(ttl: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + ttl))
