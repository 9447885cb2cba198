"""The Entra ID stack: app registration, service principal and credentials."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_azuread.data_azuread_client_config import (
    DataAzureadClientConfig,
)
from cdktf_cdktf_provider_azuread.provider import AzureadProvider
from cdktf_cdktf_provider_time.provider import TimeProvider
from constructs import Construct

from stacks.backend import configure_backend
from stacks.config import EntraStackConfig
from stacks.entra_app import AppRegistration
from stacks.entra_credentials import AppCredentials


class EntraStack(TerraformStack):
    def __init__(self, scope: Construct, id_: str, *, config: EntraStackConfig):
        super().__init__(scope, id_)
        configure_backend(self, config.placement)
        # Credentials come from `az login` or ARM_* variables, never from here.
        AzureadProvider(self, "azuread")
        TimeProvider(self, "time")

        home = DataAzureadClientConfig(self, "home_tenant")
        registration = AppRegistration(self, "app", entra=config.entra)
        credentials = AppCredentials(
            self,
            "credentials",
            application=registration.application,
            entra=config.entra,
            placement=config.placement,
        )

        # Read by the Vault stack (cross-stack references) and by operators.
        self.client_id = registration.application.client_id
        self.tenant_id = home.tenant_id
        self.client_secret = credentials.client_secret.current_secret
        self.application_object_id = registration.application.object_id

        TerraformOutput(self, "client_id", value=self.client_id)
        TerraformOutput(self, "tenant_id", value=self.tenant_id)
        TerraformOutput(self, "application_object_id", value=self.application_object_id)
        TerraformOutput(
            self,
            "service_principal_object_id",
            value=registration.service_principal.object_id,
        )
        TerraformOutput(self, "client_secret", value=self.client_secret, sensitive=True)
