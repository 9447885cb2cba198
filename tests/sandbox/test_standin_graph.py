"""The app the offline apply registered works end to end with the real msal."""

from __future__ import annotations

from urllib.parse import urlencode

import msal
import requests

from consentvault.sandbox.entra.client import sign_in

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def test_graph_answers_a_token_got_with_the_applied_app_credential(sandbox):
    vault = sandbox.settings.vault
    credential = sandbox.vault_client().secrets.kv.v2.read_secret_version(
        path=vault.app_credential_path,
        mount_point=vault.app_kv_mount,
        raise_on_deleted_version=True,
    )["data"]["data"]
    customer = sandbox.control.customer_tenants()[0]["id"]
    consent_url = f"{sandbox.authority}/{customer}/v2.0/adminconsent?" + urlencode(
        {
            "client_id": credential["client_id"],
            "redirect_uri": sandbox.settings.entra.redirect_uris[0],
            "state": "graph-test",
            "scope": GRAPH_SCOPE,
        }
    )
    sign_in(consent_url, ca_file=sandbox.ca_file, tenant=customer)
    app = msal.ConfidentialClientApplication(
        credential["client_id"],
        client_credential=credential["client_secret"],
        authority=f"{sandbox.authority}/{customer}",
        instance_discovery=False,
        verify=str(sandbox.ca_file),
    )

    result = app.acquire_token_for_client(scopes=[GRAPH_SCOPE])

    assert "access_token" in result, result.get("error")
    reply = requests.get(
        f"{sandbox.settings.entra.graph_url}/v1.0/organization",
        headers={"Authorization": f"Bearer {result['access_token']}"},
        verify=str(sandbox.ca_file),
        timeout=10,
    )
    assert reply.status_code == 200
    assert reply.json()["value"][0]["id"] == customer


def test_registered_app_asks_for_the_configured_graph_permissions(sandbox):
    vault = sandbox.settings.vault
    client_id = sandbox.vault_client().secrets.kv.v2.read_secret_version(
        path=vault.app_credential_path,
        mount_point=vault.app_kv_mount,
        raise_on_deleted_version=True,
    )["data"]["data"]["client_id"]
    admin = sandbox.box.graph_admin()

    found = admin.request("GET", f"/v1.0/applications?$filter=appId eq '{client_id}'")

    (application,) = found["value"]
    assert application["displayName"] == sandbox.settings.entra.display_name
    assert application["web"]["redirectUris"] == sandbox.settings.entra.redirect_uris
    (graph,) = application["requiredResourceAccess"]
    kinds = [access["type"] for access in graph["resourceAccess"]]
    entra = sandbox.settings.entra
    assert kinds.count("Role") == len(entra.application_permissions)
    assert kinds.count("Scope") == len(entra.delegated_permissions)
