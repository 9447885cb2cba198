"""msal's authorization code flow with PKCE against the stand-in."""

from __future__ import annotations

import base64
import json

import pytest

from consentvault.sandbox.entra import StandinError, sign_in


def test_code_flow_returns_entra_shaped_tokens(delegated_sign_in, tenants):
    cca, flow, reply = delegated_sign_in(tenants[0], scopes=("User.Read",))

    result = cca.acquire_token_by_auth_code_flow(flow, reply)

    assert "error" not in result, result.get("error_description")
    assert result["token_type"] == "Bearer"
    assert result["expires_in"] > 3000 and result["ext_expires_in"] > 3000
    assert result["refresh_token"]
    claims = result["id_token_claims"]
    assert claims["tid"] == tenants[0]
    assert claims["ver"] == "2.0"
    assert claims["iss"].endswith(f"/{tenants[0]}/v2.0")
    assert claims["preferred_username"].startswith("admin@")
    client_info = json.loads(base64.urlsafe_b64decode(result["client_info"] + "=="))
    assert client_info == {"uid": claims["oid"], "utid": tenants[0]}
    assert "User.Read" in result["scope"].split()


def test_id_token_echoes_the_nonce_msal_sent(delegated_sign_in, tenants):
    """msal sends SHA-256 hex of its flow nonce and checks it comes back."""
    cca, flow, reply = delegated_sign_in(tenants[0])

    result = cca.acquire_token_by_auth_code_flow(flow, reply)

    assert result["id_token_claims"]["nonce"] != flow["nonce"]
    assert len(result["id_token_claims"]["nonce"]) == 64


@pytest.mark.parametrize("authority", ["organizations", "common"])
def test_multi_tenant_authority_signs_in_the_chosen_tenant(
    delegated_sign_in, tenants, authority
):
    """msal checks no `tid`: the caller reads it from the id token claims."""
    cca, flow, reply = delegated_sign_in(tenants[1], authority=authority)

    result = cca.acquire_token_by_auth_code_flow(flow, reply)

    assert result["id_token_claims"]["tid"] == tenants[1]


def test_replayed_code_is_refused_with_54005(delegated_sign_in, make_msal, tenants):
    cca, flow, reply = delegated_sign_in(tenants[0])
    assert "access_token" in cca.acquire_token_by_auth_code_flow(flow, reply)

    again = make_msal(tenants[0]).acquire_token_by_auth_code_flow(flow, reply)

    assert again["error"] == "invalid_grant"
    assert again["error_codes"] == [54005]
    assert again["error_description"].startswith("AADSTS54005: ")
    assert again["correlation_id"]


def test_expired_code_is_refused_with_70008(delegated_sign_in, standin, tenants):
    cca, flow, reply = delegated_sign_in(tenants[0])
    standin.control.expire(tenants[0], kinds=("codes",))

    result = cca.acquire_token_by_auth_code_flow(flow, reply)

    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [70008]


def test_pkce_mismatch_is_refused_with_501481(delegated_sign_in, tenants):
    cca, flow, reply = delegated_sign_in(tenants[0])
    tampered = {**flow, "code_verifier": "x" * 43}

    result = cca.acquire_token_by_auth_code_flow(tampered, reply)

    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [501481]
    assert "trace_id" in result and "timestamp" in result


def test_declined_sign_in_comes_back_as_access_denied(delegated_sign_in, tenants):
    cca, flow, reply = delegated_sign_in(tenants[0], decline=True)

    assert reply["error"] == "access_denied"
    assert reply["error_subcode"] == "cancel"
    assert reply["error_description"].startswith("AADSTS65004: ")
    assert reply["state"] == flow["state"]
    assert cca.acquire_token_by_auth_code_flow(flow, reply)["error"] == "access_denied"


def test_ordinary_user_cannot_consent_to_admin_scopes(
    delegated_sign_in, standin, tenants
):
    tenant = standin.control.customer_tenants()[2]
    user = next(u for u in tenant["users"] if not u["admin"])

    with pytest.raises(StandinError, match="AADSTS90094"):
        delegated_sign_in(
            tenant["id"], scopes=("User.Read.All",), login=user["userPrincipalName"]
        )


def test_query_response_mode_redirects_with_code_and_state(make_msal, standin, tenants):
    cca = make_msal(tenants[0])
    with pytest.warns(UserWarning, match="form_post"):
        flow = cca.initiate_auth_code_flow(
            ["User.Read"], redirect_uri="https://127.0.0.1:9/consent/callback"
        )

    callback = sign_in(flow["auth_uri"], ca_file=standin.ca_file, tenant=tenants[0])

    assert callback.method == "GET"
    assert callback.url.startswith("https://127.0.0.1:9/consent/callback?code=")
    assert callback.params["state"] == flow["state"]
    assert "access_token" in cca.acquire_token_by_auth_code_flow(flow, callback.params)


def test_unregistered_redirect_uri_gets_an_error_page(make_msal, standin, tenants):
    cca = make_msal(tenants[0])
    flow = cca.initiate_auth_code_flow(
        ["User.Read"], redirect_uri="https://evil.example/cb", response_mode="form_post"
    )

    with pytest.raises(StandinError, match="50011"):
        sign_in(flow["auth_uri"], ca_file=standin.ca_file, tenant=tenants[0])
