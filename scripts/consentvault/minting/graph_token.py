"""`mint graph-token`: a fresh Microsoft Graph access token for one tenant.

Admin-consent tenants get an app-only token (client-credentials grant against
the tenant's authority). Delegated tenants redeem their stored refresh token,
which is transit ciphertext the ci-minter cannot open: the minter mints itself
a token of the refresher role, bound to the tenant, lasting minutes and a few
uses, which may decrypt that one record and write it back. Workers only ever
get tokens of the reader role, which cannot write.

Refresh tokens rotate on use, so concurrent mints for one tenant must refresh
once, not race: see `single_flight`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from consentvault import errors
from consentvault.minting.light_settings import MintSettings
from consentvault.minting.revocation import revoke_accessor
from consentvault.minting.single_flight import SharedToken, single_flight
from consentvault.minting.tenant_check import require_active_tenant
from consentvault.minting.vault_token import mint_vault_token
from consentvault.minting.vaulthttp import VaultHTTP
from consentvault.settings import Settings

if TYPE_CHECKING:
    from consentvault.records import TenantRecords

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GraphToken:
    tenant_id: str
    mode: str
    expires_at: str
    shared: bool
    access_token: str = field(repr=False)

    def facts(self) -> dict[str, Any]:
        return {
            "kind": "graph-token",
            "tenant_id": self.tenant_id,
            "mode": self.mode,
            "expires_at": self.expires_at,
            "reused_shared_token": self.shared,
        }


class TenantRefresher:
    """The minter's own refresher token for one tenant and what it may do."""

    def __init__(self, minter: VaultHTTP, light: MintSettings, settings: Settings):
        self.minter = minter
        self.light = light
        self.settings = settings
        self._token: str | None = None
        self._accessor: str | None = None

    def __enter__(self) -> TenantRefresher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._accessor is not None:
            revoke_accessor(self.minter, self._accessor, check=False)

    def records(self, tenant_id: str) -> TenantRecords:
        from consentvault.records import TenantRecords

        hvac_client = self.minter.to_hvac(self._token_for(tenant_id))
        return TenantRecords(hvac_client, self.settings)

    def seal(self, tenant_id: str, plaintext: str) -> str:
        from consentvault.records import transit_encrypt

        return transit_encrypt(
            self.minter.to_hvac(self._token_for(tenant_id)),
            mount=self.light.transit_mount,
            key=self.light.tenant_key(tenant_id),
            plaintext=plaintext.encode(),
        )

    def open(self, tenant_id: str, ciphertext: str) -> str:
        from consentvault.records import transit_decrypt

        return transit_decrypt(
            self.minter.to_hvac(self._token_for(tenant_id)),
            mount=self.light.transit_mount,
            key=self.light.tenant_key(tenant_id),
            ciphertext=ciphertext,
        ).decode()

    def _token_for(self, tenant_id: str) -> str:
        if self._token is None:
            minted = mint_vault_token(
                self.minter,
                self.light,
                tenant_id,
                ttl=self.light.refresh_token_ttl,
                metadata={"purpose": "graph-token"},
                role=self.light.refresh_token_role,
            )
            self._token, self._accessor = minted.token, minted.accessor
        return self._token


def mint_graph_token(
    minter: VaultHTTP, light: MintSettings, settings: Settings, tenant_id: str
) -> GraphToken:
    record = require_active_tenant(minter, light, tenant_id)
    if record.get("mode") == "admin":
        return _client_credentials(minter, light, settings, tenant_id)
    with TenantRefresher(minter, light, settings) as reader:
        shared = single_flight(
            minter,
            light,
            tenant_id,
            refresh=lambda: _refresh(reader, settings, tenant_id),
            cipher=reader,
        )
    log.info(
        "graph-token for tenant %s (delegated%s), expires %s",
        tenant_id,
        ", reused" if shared.reused else "",
        shared.expires_at,
    )
    return GraphToken(
        tenant_id, "delegated", shared.expires_at, shared.reused, shared.access_token
    )


def _client_credentials(
    minter: VaultHTTP, light: MintSettings, settings: Settings, tenant_id: str
) -> GraphToken:
    from consentvault.entra_client import (
        GRAPH_DEFAULT_SCOPE,
        EntraClient,
        read_app_credential,
    )

    credential = read_app_credential(minter.to_hvac(), settings)
    entra = EntraClient(settings, credential, tenant=tenant_id)
    reply = entra.acquire_token_for_client([GRAPH_DEFAULT_SCOPE])
    expires_at = _expiry(int(reply.get("expires_in", 0)))
    log.info("graph-token for tenant %s (admin), expires %s", tenant_id, expires_at)
    return GraphToken(tenant_id, "admin", expires_at, False, reply["access_token"])


def _refresh(
    reader: TenantRefresher, settings: Settings, tenant_id: str
) -> SharedToken:
    """Redeem the stored refresh token; store the rotated one (check-and-set)."""
    from consentvault.entra_client import (
        EntraClient,
        graph_scopes,
        read_app_credential,
    )
    from consentvault.records import utc_now

    records = reader.records(tenant_id)
    record = records.read(tenant_id)
    refresh_token = records.decrypt_secret(record).get("refresh_token")
    if not refresh_token:
        raise errors.ConsentError(f"tenant {tenant_id} has no stored refresh token")
    credential = read_app_credential(reader.minter.to_hvac(), settings)
    entra = EntraClient(settings, credential, tenant=tenant_id)
    scopes = graph_scopes(settings.entra.delegated_permissions)
    try:
        # entra_client repeats the grant after a 429 or 5xx (safe: see there).
        reply = entra.acquire_token_by_refresh_token(refresh_token, scopes)
    except errors.ConsentError as exc:
        _mark_needs_consent(records, tenant_id)
        raise errors.ConsentError(
            f"tenant {tenant_id} needs consent again: the stored refresh token was "
            f"refused ({exc}); the record is marked needs_consent"
        ) from None

    rotated = reply.get("refresh_token")
    secret = record.secret
    if rotated and rotated != refresh_token:
        secret = records.encrypt_secret(tenant_id, {"refresh_token": rotated})
    records.write(
        dataclasses.replace(record, secret=secret, last_refreshed_at=utc_now())
    )
    log.info(
        "refreshed tenant %s (%s refresh token)",
        tenant_id,
        "rotated" if secret != record.secret else "kept the",
    )
    return SharedToken(
        expires_epoch=time.time() + int(reply.get("expires_in", 0)),
        reused=False,
        access_token=reply["access_token"],
    )


def _mark_needs_consent(records: Any, tenant_id: str) -> None:
    def needs_consent(record: Any) -> Any:
        return dataclasses.replace(record, status="needs_consent")

    records.update(tenant_id, needs_consent, idempotent=True)
    log.warning("tenant %s marked needs_consent", tenant_id)


def _expiry(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))
