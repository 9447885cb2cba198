"""The Entra app's credential, kept in KV so no pipeline variable holds it."""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_vault.kv_secret_backend_v2 import KvSecretBackendV2
from cdktf_cdktf_provider_vault.kv_secret_v2 import KvSecretV2
from cdktf_cdktf_provider_vault.mount import Mount
from constructs import Construct

from consentvault.settings import VaultSettings


class AppCredential(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vault: VaultSettings,
        client_id: str,
        client_secret: str,
        tenant_id: str,
    ) -> None:
        super().__init__(scope, id_)

        self.mount = Mount(
            self,
            "mount",
            path=vault.app_kv_mount,
            type="kv-v2",
            description="consentvault app credential, written by the Vault stack",
        )
        # Terraform is the only writer here, so check-and-set would protect
        # nothing; without it every deploy after a rotation writes a new version.
        self.config = KvSecretBackendV2(
            self,
            "config",
            mount=self.mount.path,
            cas_required=False,
            max_versions=vault.kv_max_versions,
        )

        # No `cas`: the provider sends it beside `options`, where Vault does not
        # look, so it would check nothing. Removing the resource destroys every
        # version, since each one holds a client secret.
        self.secret = KvSecretV2(
            self,
            "secret",
            mount=self.config.mount,
            name=vault.app_credential_path,
            delete_all_versions=True,
            data_json=Fn.jsonencode(
                {
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "tenant_id": tenant_id,
                }
            ),
        )
