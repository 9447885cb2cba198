"""Is this tenant one we may mint for? Read from its record, without hvac."""

from __future__ import annotations

from typing import Any

from consentvault import errors
from consentvault.minting.light_settings import MintSettings
from consentvault.minting.vaulthttp import VaultHTTP
from consentvault.tenant_ids import canonical_or_none


def check_tenant_id(value: str) -> str:
    """The tenant id as a lower-case GUID, or a usage error."""
    tenant_id = canonical_or_none(value)
    if tenant_id is None:
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise errors.UsageError(f"tenant id {shown!r} is not a GUID")
    return tenant_id


def tenant_record_exists(
    client: VaultHTTP, settings: MintSettings, tenant_id: str
) -> bool:
    """True if the tenant has a record (of any status)."""
    path = settings.tenant_path(tenant_id)
    try:
        reply = client.read(path, f"read tenant record {path}")
    except errors.NotFound:
        return False
    return bool((reply or {}).get("data", {}).get("data"))


def require_active_tenant(
    client: VaultHTTP, settings: MintSettings, tenant_id: str
) -> dict[str, Any]:
    """The tenant's record data if its status is `active`.

    Unknown (or deleted) tenants raise `NotFound`; a tenant that must consent
    again, or was revoked, raises `ConsentError`. The caller needs only read
    access to the record: the secret in it stays ciphertext.
    """
    path = settings.tenant_path(tenant_id)
    try:
        reply = client.read(path, f"read tenant record {path}")
    except errors.NotFound:
        reply = None
    data = (reply or {}).get("data", {}).get("data")
    if not data:
        raise errors.NotFound(f"unknown tenant {tenant_id}: no record at {path}")
    status = data.get("status", "active")
    if status == "needs_consent":
        raise errors.ConsentError(
            f"tenant {tenant_id} needs consent again: its admin must re-consent "
            "before credentials can be minted"
        )
    if status != "active":
        raise errors.ConsentError(f"tenant {tenant_id} is {status}: nothing is minted")
    return data
