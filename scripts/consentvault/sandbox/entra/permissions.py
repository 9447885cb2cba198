"""Microsoft Graph's own service principal: its permission names and ids.

These are the public ids Microsoft publishes for Graph (the same in every
tenant); the azuread provider resolves permission names to them through
`GET /servicePrincipals?$filter=appId eq '00000003-...'`, and so does the
stand-in's Graph. Only the permissions the project can ask for are listed.
"""

from __future__ import annotations

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_DISPLAY_NAME = "Microsoft Graph"
# Resource identifiers a client may put in front of a scope for Graph.
GRAPH_RESOURCE_URIS = ("https://graph.microsoft.com", GRAPH_APP_ID)
GRAPH_AUDIENCE = "https://graph.microsoft.com"

# name -> id of application permissions (appRoles).
APP_ROLES = {
    "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "Files.Read.All": "01d4889c-1287-42c6-ac1f-5d1e02578ef6",
    "Mail.Read": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
    "Organization.Read.All": "498476ce-e0fe-48b0-b801-37ba7e2685c6",
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
}

# name -> (id, whether only an administrator may consent) of delegated
# permissions (oauth2PermissionScopes).
DELEGATED_SCOPES = {
    "Directory.Read.All": ("06da0dbc-49e2-44d2-8312-53f166ab848a", True),
    "email": ("64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", False),
    "Files.Read.All": ("df85f4d6-205c-4ac5-a5ea-6bf408dba283", False),
    "Mail.Read": ("570282fd-fa5c-430d-a7fd-fc8dc98a9dca", False),
    "offline_access": ("7427e0e9-2fba-42fe-b0c0-848c9e6a8182", False),
    "openid": ("37f7f235-527c-4136-accd-4a02d197296e", False),
    "Organization.Read.All": ("4908d5b9-3fb2-4b1e-9336-1888b7937185", True),
    "profile": ("14dad69e-099b-42c9-810b-d002981feec1", False),
    "User.Read": ("e1fe6dd8-ba31-4d61-89e7-88639da4683d", False),
    "User.Read.All": ("a154be20-db9c-4678-8ab7-66f6cc099a59", True),
    "User.ReadBasic.All": ("b340eb25-3456-403f-be2f-af7a0d370277", False),
}

# OpenID Connect scopes: they shape the reply, they are not Graph access.
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


def role_name(role_id: str) -> str | None:
    return next((n for n, i in APP_ROLES.items() if i == role_id), None)


def scope_name(scope_id: str) -> str | None:
    return next((n for n, (i, _) in DELEGATED_SCOPES.items() if i == scope_id), None)


def needs_admin(scope: str) -> bool:
    return DELEGATED_SCOPES.get(scope, ("", True))[1]


def graph_service_principal(sp_object_id: str) -> dict:
    """Graph's service principal as `GET /servicePrincipals` shows it."""
    return {
        "id": sp_object_id,
        "appId": GRAPH_APP_ID,
        "displayName": GRAPH_DISPLAY_NAME,
        "servicePrincipalType": "Application",
        "accountEnabled": True,
        "appRoles": [
            {
                "id": role_id,
                "value": name,
                "displayName": name,
                "description": name,
                "allowedMemberTypes": ["Application"],
                "isEnabled": True,
                "origin": "Application",
            }
            for name, role_id in APP_ROLES.items()
        ],
        "oauth2PermissionScopes": [
            {
                "id": scope_id,
                "value": name,
                "type": "Admin" if admin_only else "User",
                "adminConsentDisplayName": name,
                "adminConsentDescription": name,
                "userConsentDisplayName": name,
                "userConsentDescription": name,
                "isEnabled": True,
            }
            for name, (scope_id, admin_only) in DELEGATED_SCOPES.items()
        ],
    }
