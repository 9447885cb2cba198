"""The application registry, called as the azuread provider calls Graph."""

from __future__ import annotations

import json

import msal
import pytest
import requests

from consentvault.sandbox.entra import StandinError
from consentvault.sandbox.entra.permissions import GRAPH_APP_ID


@pytest.fixture
def provisioner_token(standin) -> str:
    """A client-credentials token of the built-in provisioner app."""
    credentials = json.loads((standin.state_dir / "provisioner.json").read_text())
    cca = msal.ConfidentialClientApplication(
        credentials["client_id"],
        client_credential=credentials["client_secret"],
        authority=standin.authority(credentials["tenant_id"]),
        instance_discovery=False,
        verify=str(standin.ca_file),
    )
    result = cca.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    return result["access_token"]


@pytest.fixture
def graph(standin):
    def call(method: str, path: str, token: str | None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(
            method,
            f"{standin.graph_url}/v1.0/{path}",
            headers=headers,
            verify=str(standin.ca_file),
            timeout=10,
            **kwargs,
        )

    return call


def test_provisioner_registers_an_app_with_a_secret(graph, provisioner_token):
    created = graph(
        "POST",
        "applications",
        provisioner_token,
        json={
            "displayName": "registered by test",
            "signInAudience": "AzureADMultipleOrgs",
            "web": {"redirectUris": ["https://127.0.0.1:9/cb"]},
        },
    )
    object_id = created.json()["id"]
    password = graph(
        "POST",
        f"applications/{object_id}/addPassword",
        provisioner_token,
        json={"passwordCredential": {"displayName": "ci"}},
    )
    shown = graph("GET", f"applications/{object_id}", provisioner_token).json()

    assert created.status_code == 201
    assert created.json()["appId"] != object_id
    assert password.json()["secretText"][3:6] == "8Q~"
    assert shown["passwordCredentials"][0]["keyId"] == password.json()["keyId"]
    assert "secretText" not in json.dumps(shown)
    assert password.json()["secretText"] not in json.dumps(shown)


def test_removed_password_no_longer_authenticates(standin, make_msal, tenants):
    control = standin.control
    created = control.register_application("short-lived", ["https://127.0.0.1:9/cb"])
    password = control.add_password(created["id"])
    scopes = ["https://graph.microsoft.com/.default"]
    before = make_msal(
        tenants[0], client_id=created["appId"], secret=password["secretText"]
    ).acquire_token_for_client(scopes)

    control.remove_password(created["id"], password["keyId"])
    after = make_msal(
        tenants[0], client_id=created["appId"], secret=password["secretText"]
    ).acquire_token_for_client(scopes)

    assert before["error_codes"] == [65001]  # authenticated, but no consent there
    assert after["error"] == "invalid_client"
    assert after["error_codes"] == [7000215]


def test_graph_service_principal_lists_real_permission_ids(standin):
    (graph_sp,) = standin.control.service_principals(GRAPH_APP_ID)

    roles = {r["value"]: r["id"] for r in graph_sp["appRoles"]}
    scopes = {s["value"]: s["id"] for s in graph_sp["oauth2PermissionScopes"]}
    assert roles["User.Read.All"] == "df021288-bdef-4463-88db-98f22de89214"
    assert roles["Organization.Read.All"] == "498476ce-e0fe-48b0-b801-37ba7e2685c6"
    assert roles["Directory.Read.All"] == "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
    assert roles["Files.Read.All"] == "01d4889c-1287-42c6-ac1f-5d1e02578ef6"
    assert scopes["User.Read"] == "e1fe6dd8-ba31-4d61-89e7-88639da4683d"
    assert scopes["offline_access"] == "7427e0e9-2fba-42fe-b0c0-848c9e6a8182"
    assert scopes["Files.Read.All"] == "df85f4d6-205c-4ac5-a5ea-6bf408dba283"
    assert scopes["openid"] == "37f7f235-527c-4136-accd-4a02d197296e"
    assert scopes["profile"] == "14dad69e-099b-42c9-810b-d002981feec1"
    assert scopes["Mail.Read"] == "570282fd-fa5c-430d-a7fd-fc8dc98a9dca"


def test_service_principal_for_a_registered_app(standin, app):
    created = standin.control.create_service_principal(app.client_id)

    (found,) = standin.control.service_principals(app.client_id)
    assert found["id"] == created["id"]
    assert created["appId"] == app.client_id
    with pytest.raises(StandinError, match="HTTP 409"):
        standin.control.create_service_principal(app.client_id)


def test_registry_refuses_anonymous_calls(graph):
    reply = graph("POST", "applications", None, json={"displayName": "x"})

    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_registry_refuses_a_customer_tenant_token(graph, make_msal, consented):
    token = make_msal(consented).acquire_token_for_client(
        ["https://graph.microsoft.com/.default"]
    )["access_token"]

    reply = graph("GET", "applications", token)

    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "Authorization_RequestDenied"


def test_bad_registration_is_a_graph_400(standin):
    with pytest.raises(StandinError, match="HTTP 400"):
        standin.control.register_application("", ["https://127.0.0.1:9/cb"])
    with pytest.raises(StandinError, match="HTTP 400"):
        standin.control.register_application("plain http", ["http://127.0.0.1/cb"])


def test_federated_credential_and_service_principal_lifecycle(graph, provisioner_token):
    created = graph(
        "POST", "applications", provisioner_token, json={"displayName": "fic"}
    ).json()
    path = f"applications/{created['id']}/federatedIdentityCredentials"
    body = {
        "name": "ci",
        "issuer": "https://127.0.0.1:1/ci",
        "subject": "repo:example/consentvault:ref:refs/heads/main",
        "audiences": ["api://AzureADTokenExchange"],
    }
    added = graph("POST", path, provisioner_token, json=body)
    duplicate = graph("POST", path, provisioner_token, json=body)
    listed = graph("GET", path, provisioner_token).json()["value"]
    removed = graph("DELETE", f"{path}/{added.json()['id']}", provisioner_token)
    principal = graph(
        "POST", "servicePrincipals", provisioner_token, json={"appId": created["appId"]}
    ).json()
    deleted = graph("DELETE", f"servicePrincipals/{principal['id']}", provisioner_token)
    filtered = graph(
        "GET",
        f"servicePrincipals?$filter=appId eq '{created['appId']}'",
        provisioner_token,
    ).json()["value"]

    assert added.status_code == 201
    assert duplicate.status_code == 409
    assert [c["subject"] for c in listed] == [body["subject"]]
    assert removed.status_code == 204
    assert deleted.status_code == 204
    assert filtered == []


@pytest.mark.parametrize(
    "body",
    [
        {"displayName": "x", "web": "https://127.0.0.1/cb"},
        {"displayName": "x", "web": {"redirectUris": "https://127.0.0.1/cb"}},
        {"displayName": "x", "requiredResourceAccess": [{"resourceAccess": ["id"]}]},
        ["not", "an", "object"],
    ],
    ids=["web-string", "uris-string", "access-strings", "list-body"],
)
def test_malformed_application_bodies_are_400(graph, provisioner_token, body):
    reply = graph("POST", "applications", provisioner_token, json=body)

    assert reply.status_code == 400
    assert reply.json()["error"]["code"] in ("Request_BadRequest", "BadRequest")
