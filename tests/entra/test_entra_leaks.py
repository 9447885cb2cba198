"""No code, token, secret, state or verifier reaches the log or an error body."""

from __future__ import annotations

import logging

import requests

from consentvault.sandbox.entra import approve

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]


def test_no_secret_in_the_server_log_or_error_bodies(
    caplog, standin, app, consent_url, delegated_sign_in, make_msal, tenants
):
    caplog.set_level(logging.INFO)
    approve(consent_url(tenants[0], state="admin-state-value"), ca_file=standin.ca_file)
    cca, flow, reply = delegated_sign_in(tenants[0], scopes=("User.Read",))
    tokens = cca.acquire_token_by_auth_code_flow(flow, reply)
    refreshed = make_msal(tenants[0]).acquire_token_by_refresh_token(
        tokens["refresh_token"], ["User.Read"]
    )
    app_token = make_msal(tenants[0]).acquire_token_for_client(GRAPH_DEFAULT)
    graph = requests.get(
        f"{standin.graph_url}/v1.0/users?$filter=userPrincipalName eq 'x'",
        headers={"Authorization": f"Bearer {app_token['access_token']}"},
        verify=str(standin.ca_file),
        timeout=10,
    )
    token_url = f"{standin.base_url}/{tenants[0]}/oauth2/v2.0/token"
    error_bodies = [
        requests.post(
            token_url, data=form, verify=str(standin.ca_file), timeout=10
        ).text
        for form in (
            {
                "grant_type": "authorization_code",
                "client_id": app.client_id,
                "client_secret": app.secret,
                "code": reply["code"],
                "redirect_uri": flow["redirect_uri"],
                "code_verifier": flow["code_verifier"],
            },
            {
                "grant_type": "client_credentials",
                "client_id": app.client_id,
                "client_secret": app.secret + "-wrong",
                "scope": GRAPH_DEFAULT[0],
            },
            {
                "grant_type": "refresh_token",
                "client_id": app.client_id,
                "client_secret": app.secret,
                "refresh_token": tokens["refresh_token"] + "x",
            },
        )
    ]

    secrets_seen = [
        app.secret,
        reply["code"],
        reply["state"],
        flow["nonce"],
        flow["code_verifier"],
        tokens["access_token"],
        tokens["refresh_token"],
        tokens["id_token"],
        refreshed["refresh_token"],
        app_token["access_token"],
        "admin-state-value",
    ]
    assert graph.status_code == 200
    assert all('"error_codes"' in body for body in error_bodies)
    log_text = caplog.text
    assert "POST /" in log_text and "/oauth2/v2.0/token 200" in log_text
    assert "$filter" not in log_text
    for value in secrets_seen:
        assert value not in log_text
        assert all(value not in body for body in error_bodies)
