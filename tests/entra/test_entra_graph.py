"""The minimal Graph: good tokens are served, others refused as Graph does."""

from __future__ import annotations

import time

import jwt
import pytest
import requests

from consentvault.sandbox.entra import approve

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]


@pytest.fixture
def get(standin):
    def call(path: str, token: str | None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(
            f"{standin.graph_url}/v1.0/{path}",
            headers=headers,
            verify=str(standin.ca_file),
            timeout=10,
        )

    return call


@pytest.fixture
def app_token(consented, make_msal) -> str:
    return make_msal(consented).acquire_token_for_client(GRAPH_DEFAULT)["access_token"]


def _assert_graph_error(reply: requests.Response, status: int, code: str) -> None:
    assert reply.status_code == status
    error = reply.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["innerError"]["request-id"]
    assert error["innerError"]["date"]


def test_users_and_organization_of_the_tokens_tenant(get, app_token, consented):
    users = get("users", app_token)
    organization = get("organization", app_token)

    assert users.status_code == 200
    upns = [u["userPrincipalName"] for u in users.json()["value"]]
    assert upns and all(
        upn.startswith(("admin@", "adelevance@", "leegu@")) for upn in upns
    )
    assert organization.json()["value"][0]["id"] == consented


def test_token_only_sees_its_own_tenant(get, app_token, standin, consented):
    theirs = {t["domain"] for t in standin.control.customer_tenants()}
    ours = standin.control.tenants()["tenants"]
    own_domain = next(t["domain"] for t in ours if t["id"] == consented)

    upns = [u["userPrincipalName"] for u in get("users", app_token).json()["value"]]

    assert {upn.split("@")[1] for upn in upns} == {own_domain}
    assert len(theirs) == 3


def test_delegated_token_reads_me_and_users(get, delegated_sign_in, tenants):
    cca, flow, reply = delegated_sign_in(tenants[0], scopes=("User.Read",))
    token = cca.acquire_token_by_auth_code_flow(flow, reply)["access_token"]

    me = get("me", token)

    assert me.status_code == 200
    assert me.json()["userPrincipalName"].startswith("admin@")
    assert get("users", token).status_code == 200


def test_missing_token_is_401(get):
    _assert_graph_error(get("users", None), 401, "InvalidAuthenticationToken")


def test_expired_token_is_401(get, app_token, standin, consented):
    standin.control.expire(consented, kinds=("access_tokens",))

    reply = get("users", app_token)

    _assert_graph_error(reply, 401, "InvalidAuthenticationToken")
    assert "expired" in reply.json()["error"]["message"]
    assert "WWW-Authenticate" in reply.headers


def test_token_from_another_issuer_is_401(get, app_token, standin):
    """A token signed by the CI issuer's key must not pass as a Graph token."""
    claims = jwt.decode(app_token, options={"verify_signature": False})
    forged = standin.control.issue_ci_token(claims=claims)

    _assert_graph_error(get("users", forged), 401, "InvalidAuthenticationToken")


def test_token_past_its_exp_is_401(get, app_token, standin):
    ci_token = standin.control.issue_ci_token(ttl=-10)
    _assert_graph_error(
        get("organization", ci_token), 401, "InvalidAuthenticationToken"
    )


def test_missing_permission_is_403(get, consented, make_msal, standin, app):
    # Only Organization.Read.All: a fresh consent record with just that role.
    standin.control.revoke_consent(consented, app.client_id)
    approve(
        f"{standin.base_url}/{consented}/v2.0/adminconsent?client_id={app.client_id}"
        "&redirect_uri=https://127.0.0.1:9/consent/callback&state=s"
        "&scope=https://graph.microsoft.com/Organization.Read.All",
        ca_file=standin.ca_file,
        tenant=consented,
    )
    token = make_msal(consented).acquire_token_for_client(GRAPH_DEFAULT)
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["roles"] == ["Organization.Read.All"]

    _assert_graph_error(
        get("users", token["access_token"]), 403, "Authorization_RequestDenied"
    )
    assert get("organization", token["access_token"]).status_code == 200
    standin.control.revoke_consent(consented, app.client_id)


def test_token_is_verifiable_with_the_published_keys(app_token, standin, consented):
    keys = requests.get(
        f"{standin.base_url}/{consented}/discovery/v2.0/keys",
        verify=str(standin.ca_file),
        timeout=10,
    ).json()
    key = jwt.PyJWK(keys["keys"][0])

    claims = jwt.decode(
        app_token, key.key, algorithms=["RS256"], audience="https://graph.microsoft.com"
    )

    assert claims["tid"] == consented
    assert claims["exp"] > time.time()
