"""`mint azure-sp`: a dynamic client secret from Vault's Azure secrets engine.

HashiCorp Vault's engine (`GET <path>/creds/<role>`) adds a secret to the app
with a lease: revoking the lease (`revoke --lease`) removes the secret in
Entra. OpenBao has no Azure plugin, so on the sandbox this says so (exit 10).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from consentvault import errors
from consentvault.minting.light_settings import MintSettings
from consentvault.minting.tenant_check import require_active_tenant
from consentvault.minting.vaulthttp import VaultHTTP

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AzureCredential:
    tenant_id: str
    client_id: str
    lease_id: str
    lease_duration: int
    expires_at: str
    client_secret: str = field(repr=False)

    def facts(self) -> dict[str, Any]:
        return {
            "kind": "azure-sp",
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "lease_id": self.lease_id,
            "lease_duration": self.lease_duration,
            "expires_at": self.expires_at,
        }


def mint_azure_sp(
    client: VaultHTTP, settings: MintSettings, tenant_id: str
) -> AzureCredential:
    if not settings.azure_enabled:
        raise errors.Unsupported(
            "azure-sp needs HashiCorp Vault's Azure secrets engine, which this "
            f"environment does not enable ({settings.source}: vault.azure.enabled "
            "= false); OpenBao has no such plugin"
        )
    require_active_tenant(client, settings, tenant_id)
    path = f"{settings.azure_path}/creds/{settings.azure_role}"
    try:
        reply = client.read(path, f"get Azure credentials from {path}") or {}
    except (errors.NotFound, errors.Unsupported):
        raise errors.Unsupported(
            f"no Azure secrets engine role at {path} on {client.address}: the server "
            "lacks the plugin (OpenBao has none) or the stack did not enable it"
        ) from None
    except errors.PermissionDenied as exc:
        raise errors.PermissionDenied(
            f"{exc}; Vault answers 403 both when the policy lacks {path} and when "
            "no Azure secrets engine is mounted there (OpenBao has none)"
        ) from None
    data = reply.get("data") or {}
    if not data.get("client_id") or not data.get("client_secret"):
        raise errors.ConsentVaultError(f"GET /v1/{path} returned no credentials")
    duration = int(reply.get("lease_duration") or 0)
    credential = AzureCredential(
        tenant_id=tenant_id,
        client_id=str(data["client_id"]),
        lease_id=str(reply.get("lease_id") or ""),
        lease_duration=duration,
        expires_at=time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + duration)
        ),
        client_secret=str(data["client_secret"]),
    )
    log.info(
        "azure-sp for tenant %s: client id %s, lease %s, expires %s",
        tenant_id,
        credential.client_id,
        credential.lease_id,
        credential.expires_at,
    )
    return credential
