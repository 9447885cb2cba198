"""The Vault stack: engines, audit, policies, token role, CI auth, app secret."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_vault.data_vault_auth_backend import DataVaultAuthBackend
from cdktf_cdktf_provider_vault.provider import VaultProvider
from constructs import Construct

from stacks.backend import configure_backend
from stacks.config import VaultStackConfig
from stacks.entra_stack import EntraStack
from stacks.vault_app_credential import AppCredential
from stacks.vault_audit import AuditDevices
from stacks.vault_azure_secrets import AzureSecrets
from stacks.vault_ci_auth import AppRoleCiAuth, JwtCiAuth
from stacks.vault_engines import SecretEngines
from stacks.vault_policies import PolicySet
from stacks.vault_token_role import reader_role, refresher_role


class VaultStack(TerraformStack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: VaultStackConfig,
        entra: EntraStack,
    ) -> None:
        super().__init__(scope, id_)
        vault = config.vault
        names = config.policy_names
        configure_backend(self, config.placement)
        # The token comes from VAULT_TOKEN (or ~/.vault-token), never from here.
        ca_file = vault.ca_file and config.placement.path_from_workdir(vault.ca_file)
        VaultProvider(self, "vault", address=vault.address, ca_cert_file=ca_file)

        token_auth = DataVaultAuthBackend(self, "token_auth", path="token")
        engines = SecretEngines(self, "engines", vault=vault)
        audit = AuditDevices(self, "audit", devices=list(vault.audit))
        policies = PolicySet(
            self,
            "policies",
            vault=vault,
            policy_names=names,
            token_accessor=token_auth.accessor,
        )
        token_role = reader_role(
            self,
            "tenant_token_role",
            vault=vault,
            policy=policies.policies["tenant_reader"].name,
        )
        refresh_role = refresher_role(
            self,
            "tenant_refresh_role",
            vault=vault,
            policy=policies.policies["tenant_refresher"].name,
        )

        minter_policy = policies.policies["ci_minter"].name
        if vault.jwt:
            JwtCiAuth(
                self,
                "jwt_ci",
                jwt=vault.jwt,
                minter_policy=minter_policy,
                placement=config.placement,
            )
        approle = AppRoleCiAuth(
            self, "approle_ci", approle=vault.approle, minter_policy=minter_policy
        )
        if vault.azure.enabled:
            AzureSecrets(
                self,
                "azure_secrets",
                azure=vault.azure,
                tenant_id=entra.tenant_id,
                client_id=entra.client_id,
                client_secret=entra.client_secret,
                application_object_id=entra.application_object_id,
            )
        app_credential = AppCredential(
            self,
            "app_credential",
            vault=vault,
            client_id=entra.client_id,
            client_secret=entra.client_secret,
            tenant_id=entra.tenant_id,
        )

        TerraformOutput(self, "kv_mount", value=engines.kv.path)
        TerraformOutput(self, "transit_mount", value=engines.transit.path)
        TerraformOutput(self, "token_role", value=token_role.role.role_name)
        TerraformOutput(self, "refresh_token_role", value=refresh_role.role.role_name)
        TerraformOutput(self, "token_auth_accessor", value=token_auth.accessor)
        TerraformOutput(self, "approle_path", value=approle.backend.path)
        TerraformOutput(
            self, "audit_devices", value=[device.path for device in audit.devices]
        )
        TerraformOutput(self, "app_kv_mount", value=app_credential.mount.path)
        TerraformOutput(self, "app_credential_path", value=app_credential.secret.name)
