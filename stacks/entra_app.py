"""The multi-tenant app registration, its Graph permissions and its principal."""

from __future__ import annotations

from cdktf_cdktf_provider_azuread.application import (
    Application,
    ApplicationRequiredResourceAccess,
    ApplicationRequiredResourceAccessResourceAccess,
    ApplicationWeb,
)
from cdktf_cdktf_provider_azuread.data_azuread_service_principal import (
    DataAzureadServicePrincipal,
)
from cdktf_cdktf_provider_azuread.service_principal import ServicePrincipal
from constructs import Construct

from consentvault.settings import EntraSettings

# Microsoft Graph's application id is the same in every tenant; the ids of its
# roles and scopes are looked up by name from its service principal.
MICROSOFT_GRAPH_CLIENT_ID = "00000003-0000-0000-c000-000000000000"


class AppRegistration(Construct):
    def __init__(self, scope: Construct, id_: str, *, entra: EntraSettings) -> None:
        super().__init__(scope, id_)

        graph = DataAzureadServicePrincipal(
            self, "microsoft_graph", client_id=MICROSOFT_GRAPH_CLIENT_ID
        )
        roles = [
            ApplicationRequiredResourceAccessResourceAccess(
                id=graph.app_role_ids.lookup(name), type="Role"
            )
            for name in entra.application_permissions
        ]
        scopes = [
            ApplicationRequiredResourceAccessResourceAccess(
                id=graph.oauth2_permission_scope_ids.lookup(name), type="Scope"
            )
            for name in entra.delegated_permissions
        ]

        self.application = Application(
            self,
            "application",
            display_name=entra.display_name,
            sign_in_audience=entra.sign_in_audience,
            web=ApplicationWeb(redirect_uris=list(entra.redirect_uris)),
            required_resource_access=[
                ApplicationRequiredResourceAccess(
                    resource_app_id=graph.client_id, resource_access=roles + scopes
                )
            ],
        )
        self.service_principal = ServicePrincipal(
            self, "service_principal", client_id=self.application.client_id
        )
