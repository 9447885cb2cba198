"""The application registry, driven as the azuread provider drives Graph.

`POST /graph/v1.0/applications`, `addPassword`, `removePassword`,
`POST /graph/v1.0/servicePrincipals` and the `$filter=appId eq '...'` lookups
answer with Graph's field names. Secrets are returned once, by `addPassword`,
and kept only as digests.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from datetime import UTC, datetime, timedelta

from consentvault.sandbox.entra.directory import Directory, digest
from consentvault.sandbox.entra.permissions import (
    GRAPH_APP_ID,
    graph_service_principal,
)

SECRET_DAYS_DEFAULT = 730
_FILTER_APP_ID = re.compile(r"^\s*appId\s+eq\s+'([0-9a-fA-F-]{36})'\s*$")
_FILTER_NAME = re.compile(r"^\s*displayName\s+eq\s+'([^']*)'\s*$")


class GraphRequestError(Exception):
    """A management request Graph would refuse: (status, code, message)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise GraphRequestError(
            400, "Request_BadRequest", "Invalid value specified for property."
        ) from None


def public_view(app: dict) -> dict:
    """The application as Graph shows it: secrets reduced to their hints."""
    hidden = ("passwordCredentials", "federatedIdentityCredentials")
    shown = {k: v for k, v in app.items() if k not in hidden}
    shown["passwordCredentials"] = [
        {k: v for k, v in p.items() if k not in ("secretDigest", "expiresAt")}
        for p in app["passwordCredentials"]
    ]
    return shown


def _validated_fields(body: dict) -> dict:
    fields = {}
    if "displayName" in body:
        if not isinstance(body["displayName"], str) or not body["displayName"]:
            raise GraphRequestError(
                400, "Request_BadRequest", "displayName must be a non-empty string."
            )
        fields["displayName"] = body["displayName"]
    if "signInAudience" in body:
        fields["signInAudience"] = str(body["signInAudience"])
    if "web" in body:
        web = body["web"] or {}
        uris = web.get("redirectUris", []) if isinstance(web, dict) else None
        if not isinstance(uris, list) or not all(
            isinstance(u, str) and u.startswith("https://") for u in uris
        ):
            raise GraphRequestError(
                400,
                "Request_BadRequest",
                "Redirect URIs must be absolute https URLs.",
            )
        fields["web"] = {"redirectUris": list(uris)}
    if "requiredResourceAccess" in body:
        access = body["requiredResourceAccess"] or []
        if not isinstance(access, list) or not all(
            _is_resource_entry(entry) for entry in access
        ):
            raise GraphRequestError(
                400,
                "Request_BadRequest",
                "requiredResourceAccess must be a list of resource entries.",
            )
        fields["requiredResourceAccess"] = access
    return fields


def _is_resource_entry(entry) -> bool:
    if not isinstance(entry, dict):
        return False
    grants = entry.get("resourceAccess", [])
    return isinstance(grants, list) and all(isinstance(g, dict) for g in grants)


def create_application(directory: Directory, body: dict) -> dict:
    fields = _validated_fields(body)
    if "displayName" not in fields:
        raise GraphRequestError(
            400, "Request_BadRequest", "Property displayName is required."
        )
    app = {
        "id": str(uuid.uuid4()),
        "appId": str(uuid.uuid4()),
        "createdDateTime": _iso(datetime.now(UTC)),
        "publisherDomain": directory.tenant(directory.home_tenant)["domain"],
        "signInAudience": "AzureADMyOrg",
        "web": {"redirectUris": []},
        "requiredResourceAccess": [],
        "passwordCredentials": [],
        **fields,
    }
    directory.data["applications"][app["id"]] = app
    return app


def add_password(directory: Directory, app: dict, body: dict) -> dict:
    now = datetime.now(UTC)
    end = body.get("endDateTime")
    end_at = _parse_iso(end) if end else now + timedelta(days=SECRET_DAYS_DEFAULT)
    alphabet = string.ascii_letters + string.digits + "_-~."
    tail = "".join(secrets.choice(alphabet) for _ in range(37))
    secret = f"{tail[:3]}8Q~{tail[3:]}"
    credential = {
        "customKeyIdentifier": None,
        "displayName": body.get("displayName"),
        "endDateTime": _iso(end_at),
        "hint": secret[:3],
        "keyId": str(uuid.uuid4()),
        "startDateTime": _iso(now),
    }
    app["passwordCredentials"].append(
        {
            **credential,
            "secretDigest": digest(secret),
            "expiresAt": end_at.timestamp(),
        }
    )
    return {**credential, "secretText": secret}


def remove_password(app: dict, body: dict) -> None:
    key_id = str(body.get("keyId", ""))
    before = len(app["passwordCredentials"])
    app["passwordCredentials"] = [
        p for p in app["passwordCredentials"] if p["keyId"] != key_id
    ]
    if len(app["passwordCredentials"]) == before:
        raise GraphRequestError(
            404, "Request_ResourceNotFound", f"No password with keyId '{key_id}'."
        )


def ensure_service_principal(directory: Directory, tenant_id: str, app: dict) -> dict:
    """The app's service principal in `tenant_id`, created on first need."""
    for sp in directory.data["service_principals"].values():
        if sp["appId"] == app["appId"] and sp["tenantId"] == tenant_id:
            return sp
    sp = {
        "id": str(uuid.uuid4()),
        "appId": app["appId"],
        "displayName": app["displayName"],
        "servicePrincipalType": "Application",
        "accountEnabled": True,
        "appOwnerOrganizationId": directory.home_tenant,
        "tenantId": tenant_id,
        "appRoles": [],
        "oauth2PermissionScopes": [],
    }
    directory.data["service_principals"][sp["id"]] = sp
    return sp


def _shown_sp(sp: dict) -> dict:
    return {k: v for k, v in sp.items() if k != "tenantId"}


def find_application(directory: Directory, object_id: str) -> dict:
    app = directory.data["applications"].get(object_id)
    if app is None:
        raise GraphRequestError(
            404,
            "Request_ResourceNotFound",
            f"Resource '{object_id}' does not exist or one of its queried "
            "reference-property objects are not present.",
        )
    return app


def list_applications(directory: Directory, odata_filter: str | None) -> list[dict]:
    apps = list(directory.data["applications"].values())
    if odata_filter:
        by_app_id = _FILTER_APP_ID.match(odata_filter)
        by_name = _FILTER_NAME.match(odata_filter)
        if by_app_id:
            apps = [a for a in apps if a["appId"] == by_app_id.group(1).lower()]
        elif by_name:
            apps = [a for a in apps if a["displayName"] == by_name.group(1)]
        else:
            raise GraphRequestError(
                400, "Request_UnsupportedQuery", "Unsupported Query."
            )
    return [public_view(a) for a in apps]


def update_application(app: dict, body: dict) -> None:
    app.update(_validated_fields(body))


def list_service_principals(
    directory: Directory, odata_filter: str | None
) -> list[dict]:
    home = directory.home_tenant
    graph_sp = graph_service_principal(directory.data["graph_service_principal"])
    sps = [graph_sp] + [
        _shown_sp(sp)
        for sp in directory.data["service_principals"].values()
        if sp["tenantId"] == home
    ]
    if odata_filter:
        match = _FILTER_APP_ID.match(odata_filter)
        if not match:
            raise GraphRequestError(
                400, "Request_UnsupportedQuery", "Unsupported Query."
            )
        sps = [sp for sp in sps if sp["appId"] == match.group(1).lower()]
    return sps


def create_service_principal(directory: Directory, body: dict) -> dict:
    app_id = str(body.get("appId", "")).lower()
    if app_id == GRAPH_APP_ID:
        raise GraphRequestError(
            409,
            "Request_MultipleObjectsWithSameKeyValue",
            "The service principal for Microsoft Graph already exists.",
        )
    app = directory.application_by_app_id(app_id)
    if app is None:
        raise GraphRequestError(
            400,
            "Request_BadRequest",
            f"The appId '{app_id}' of the service principal does not reference "
            "a valid application object.",
        )
    home = directory.home_tenant
    for sp in directory.data["service_principals"].values():
        if sp["appId"] == app_id and sp["tenantId"] == home:
            raise GraphRequestError(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                "Another object with the same value for property appId already exists.",
            )
    return _shown_sp(ensure_service_principal(directory, home, app))


def delete_application(directory: Directory, app: dict) -> None:
    del directory.data["applications"][app["id"]]
    sps = directory.data["service_principals"]
    for key in [k for k, sp in sps.items() if sp["appId"] == app["appId"]]:
        del sps[key]
    for grants in directory.data["consents"].values():
        grants.pop(app["appId"], None)


def add_federated_credential(app: dict, body: dict) -> dict:
    """A trust in another issuer's tokens; `client_auth` checks assertions."""
    name, issuer, subject = (body.get(k) for k in ("name", "issuer", "subject"))
    audiences = body.get("audiences")
    if not (name and subject and str(issuer or "").startswith("https://")):
        raise GraphRequestError(
            400,
            "Request_BadRequest",
            "name, subject and an https issuer are required.",
        )
    if not isinstance(audiences, list) or len(audiences) != 1:
        raise GraphRequestError(
            400, "Request_BadRequest", "audiences must hold exactly one value."
        )
    credentials = app.setdefault("federatedIdentityCredentials", [])
    if any(c["name"] == name for c in credentials):
        raise GraphRequestError(
            409,
            "Request_MultipleObjectsWithSameKeyValue",
            f"A federated identity credential named '{name}' already exists.",
        )
    credential = {
        "id": str(uuid.uuid4()),
        "name": name,
        "issuer": issuer,
        "subject": subject,
        "audiences": audiences,
        "description": body.get("description") or None,
    }
    credentials.append(credential)
    return credential


def remove_federated_credential(app: dict, credential_id: str) -> None:
    credentials = app.get("federatedIdentityCredentials", [])
    kept = [c for c in credentials if c["id"] != credential_id]
    if len(kept) == len(credentials):
        raise GraphRequestError(
            404,
            "Request_ResourceNotFound",
            f"Resource '{credential_id}' does not exist.",
        )
    app["federatedIdentityCredentials"] = kept


def delete_service_principal(directory: Directory, sp_id: str) -> None:
    sp = directory.data["service_principals"].get(sp_id)
    if sp is None or sp["tenantId"] != directory.home_tenant:
        raise GraphRequestError(
            404, "Request_ResourceNotFound", f"Resource '{sp_id}' does not exist."
        )
    del directory.data["service_principals"][sp_id]
