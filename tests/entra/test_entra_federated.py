"""Workload identity federation: a CI id token as the app's client assertion."""

from __future__ import annotations

import msal
import pytest

from consentvault.sandbox.entra import approve

SUBJECT = "repo:example/consentvault:ref:refs/heads/main"
EXCHANGE = "api://AzureADTokenExchange"
GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]


@pytest.fixture(scope="module")
def federated_app(standin) -> dict:
    control = standin.control
    created = control.register_application(
        "federated",
        ["https://127.0.0.1:9/cb"],
        application_permissions=["User.Read.All"],
    )
    control.add_federated_credential(
        created["id"], name="ci", issuer=f"{standin.base_url}/ci", subject=SUBJECT
    )
    return created


def _msal(standin, tenant: str, client_id: str, assertion: str):
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential={"client_assertion": lambda: assertion},
        authority=standin.authority(tenant),
        instance_discovery=False,
        verify=str(standin.ca_file),
    )


def test_ci_token_signs_the_app_in_without_a_secret(standin, federated_app, tenants):
    tenant = tenants[0]
    approve(
        f"{standin.base_url}/{tenant}/v2.0/adminconsent"
        f"?client_id={federated_app['appId']}&redirect_uri=https://127.0.0.1:9/cb"
        "&state=s&scope=https://graph.microsoft.com/.default",
        ca_file=standin.ca_file,
        tenant=tenant,
    )
    assertion = standin.control.issue_ci_token(audience=EXCHANGE)

    result = _msal(
        standin, tenant, federated_app["appId"], assertion
    ).acquire_token_for_client(GRAPH_DEFAULT)

    assert "access_token" in result, result.get("error_description")


def test_assertion_for_another_subject_is_refused(standin, federated_app, tenants):
    assertion = standin.control.issue_ci_token(
        audience=EXCHANGE, ref="refs/heads/feature"
    )

    result = _msal(
        standin, tenants[0], federated_app["appId"], assertion
    ).acquire_token_for_client(GRAPH_DEFAULT)

    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [70021]


def test_expired_assertion_is_refused(standin, federated_app, tenants):
    assertion = standin.control.issue_ci_token(audience=EXCHANGE, ttl=-60)

    result = _msal(
        standin, tenants[0], federated_app["appId"], assertion
    ).acquire_token_for_client(GRAPH_DEFAULT)

    assert result["error_codes"] == [700024]
