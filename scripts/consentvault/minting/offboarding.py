"""`tenant remove`: revoke everything of a tenant, then destroy its key and record.

Destroying the tenant's transit key is crypto-shredding: the ciphertext of its
secrets left in older KV versions, backups or snapshots can no longer be
decrypted by anyone, root included. The key goes before the record, so a
removal that fails midway can simply be run again.

The steps run in an order that leaves no window: the record is marked
`revoked` first (check-and-set), so no mint starts for the tenant from then
on; then its entity is disabled, the shared Graph-token record deleted and
its tokens revoked (see `revocation`). Once the key is gone the entity itself
is deleted, so nothing of the tenant is left to block a later consent: the
first mint after it gets a fresh entity through the token role's
`allowed_entity_aliases`. The entity goes before the record, for the same
reason as the key.

The reason is written into one last version of the record just before the
record is destroyed. Vault's audit log keeps that request (its values HMAC'd
with the audit device's key, so `sys/audit-hash` of the reason finds it), which
makes the reason part of the tamper-evident trail rather than a local note.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from consentvault.minting.light_settings import MintSettings
from consentvault.minting.revocation import (
    TenantRevocation,
    delete_entity,
    revoke_tenant,
)
from consentvault.minting.vaulthttp import VaultHTTP
from consentvault.records import TenantRecord, TenantRecords, utc_now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Removal:
    revocation: TenantRevocation
    final_version: int
    key_destroyed: bool

    def summary(self) -> str:
        key = "transit key destroyed" if self.key_destroyed else "no transit key"
        entity = self.revocation.entity_id
        entity_done = f"entity {entity} deleted" if entity else "no entity"
        return (
            f"tenant {self.revocation.tenant_id} removed: "
            f"{len(self.revocation.revoked)} token(s) revoked, "
            f"reason written as version {self.final_version}, {key}, "
            f"{entity_done}, record destroyed (all versions)"
        )


def remove_tenant(
    client: VaultHTTP,
    records: TenantRecords,
    settings: MintSettings,
    tenant_id: str,
    *,
    reason: str,
    removed_by: str,
) -> Removal:
    """Offboard one tenant; `NotFound` before anything changes if unknown."""
    records.read(tenant_id)

    def mark_removed(record: TenantRecord) -> TenantRecord:
        extra = {
            **record.extra,
            "removed_reason": reason,
            "removed_by": removed_by,
            "removed_at": utc_now(),
        }
        return dataclasses.replace(record, status="revoked", secret="", extra=extra)

    final = records.update(tenant_id, mark_removed, idempotent=True)
    revocation = revoke_tenant(client, settings, tenant_id, enable_again=False)
    key_destroyed = records.destroy_key(tenant_id)
    if revocation.entity_id is not None:
        delete_entity(client, revocation.entity_id)
    records.destroy(tenant_id)
    log.info("tenant %s removed (final version %d)", tenant_id, final.version)
    return Removal(revocation, final.version, key_destroyed)
