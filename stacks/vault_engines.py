"""The secrets engines: KV v2 for tenant records, transit for their secrets.

The app credential has a mount of its own (`stacks/vault_app_credential.py`).
"""

from __future__ import annotations

from cdktf_cdktf_provider_vault.kv_secret_backend_v2 import KvSecretBackendV2
from cdktf_cdktf_provider_vault.mount import Mount
from cdktf_cdktf_provider_vault.transit_secret_backend_key import (
    TransitSecretBackendKey,
)
from constructs import Construct

from consentvault.settings import VaultSettings
from stacks.durations import duration_seconds


class SecretEngines(Construct):
    def __init__(self, scope: Construct, id_: str, *, vault: VaultSettings) -> None:
        super().__init__(scope, id_)

        self.kv = Mount(
            self,
            "kv",
            path=vault.kv_mount,
            type="kv-v2",
            description="consentvault tenant records, consent state, refresh locks",
        )
        # Every write names the version it replaces: no lost updates.
        self.kv_config = KvSecretBackendV2(
            self,
            "kv_config",
            mount=self.kv.path,
            cas_required=True,
            max_versions=vault.kv_max_versions,
        )

        self.transit = Mount(
            self,
            "transit",
            path=vault.transit_mount,
            type="transit",
            description="consentvault encryption of tenant secrets and consent state",
        )
        # The consent-state key is derived: the context (the state's KV path)
        # picks a per-flow key. Tenants' keys are not here: the consent broker
        # creates one per tenant (`<tenant_key_prefix><tenant-guid>`) when it
        # first stores the tenant, and `tenant remove` destroys it.
        self.state_key = TransitSecretBackendKey(
            self,
            "key_consent_state",
            backend=self.transit.path,
            name=vault.transit_state_key,
            derived=True,
            exportable=False,
            allow_plaintext_backup=False,
            deletion_allowed=False,
            auto_rotate_period=duration_seconds(vault.transit_rotation_period),
        )
