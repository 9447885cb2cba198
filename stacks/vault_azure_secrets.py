"""HashiCorp Vault's Azure secrets engine: dynamic client secrets on the app."""

from __future__ import annotations

from cdktf_cdktf_provider_vault.azure_secret_backend import AzureSecretBackend
from cdktf_cdktf_provider_vault.azure_secret_backend_role import (
    AzureSecretBackendRole,
)
from constructs import Construct

from consentvault.settings import AzureSecretsSettings
from stacks.durations import duration_seconds


class AzureSecrets(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        azure: AzureSecretsSettings,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        application_object_id: str,
    ) -> None:
        super().__init__(scope, id_)

        # The engine signs in as the app itself; it manages only the app's
        # own passwords, so it needs no subscription-wide role.
        self.backend = AzureSecretBackend(
            self,
            "backend",
            path=azure.path,
            subscription_id=str(azure.subscription_id),
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret=client_secret,
        )
        # Each secret it issues is a new password on the existing app, gone
        # at `explicit_max_ttl` whatever happens to renewals.
        self.role = AzureSecretBackendRole(
            self,
            "role",
            backend=self.backend.path,
            role=azure.role,
            application_object_id=application_object_id,
            ttl=str(duration_seconds(azure.ttl)),
            explicit_max_ttl=str(duration_seconds(azure.explicit_max_ttl)),
        )
