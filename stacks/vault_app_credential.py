"""The Entra app's credential, kept in KV so no pipeline variable holds it."""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_vault.kv_secret_v2 import KvSecretV2
from consentvault.settings import VaultSettings
from constructs import Construct


class AppCredential(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vault: VaultSettings,
        kv_mount: str,
        client_id: str,
        client_secret: str,
        tenant_id: str,
    ) -> None:
        super().__init__(scope, id_)

        # The mount requires check-and-set; cas 0 means "only if absent", which
        # fits the first apply. The version of a later rewrite is not known at
        # synth time; docs/deploy.md says what to do if Vault refuses one.
        self.secret = KvSecretV2(
            self,
            "secret",
            mount=kv_mount,
            name=vault.app_credential_path,
            cas=0,
            data_json=Fn.jsonencode(
                {
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "tenant_id": tenant_id,
                }
            ),
        )
