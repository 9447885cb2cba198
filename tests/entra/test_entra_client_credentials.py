"""Client credentials with `/.default`, and the client-authentication errors."""

from __future__ import annotations

import jwt
import pytest
import requests

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_token_carries_the_consented_roles(consented, make_msal, app, standin):
    result = make_msal(consented).acquire_token_for_client(GRAPH_DEFAULT)

    assert result["token_type"] == "Bearer"
    claims = _claims(result["access_token"])
    assert sorted(claims["roles"]) == ["Organization.Read.All", "User.Read.All"]
    assert claims["tid"] == consented
    assert claims["appid"] == app.client_id == claims["azp"]
    assert claims["iss"] == f"{standin.base_url}/{consented}/v2.0"
    assert claims["ver"] == "2.0"
    assert "scp" not in claims
    assert claims["exp"] - claims["iat"] == result["expires_in"]
    assert standin.control.grant_count("client_credentials") == 1


def test_wrong_secret_is_invalid_client_7000215(consented, make_msal):
    result = make_msal(consented, secret="wrong-secret").acquire_token_for_client(
        GRAPH_DEFAULT
    )

    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]
    assert "wrong-secret" not in result["error_description"]


def test_unknown_client_is_refused_with_700016(consented, make_msal):
    result = make_msal(
        consented, client_id="11111111-2222-3333-4444-555555555555"
    ).acquire_token_for_client(GRAPH_DEFAULT)

    assert result["error"] == "unauthorized_client"
    assert result["error_codes"] == [700016]


def test_tenant_without_consent_is_refused_with_65001(make_msal, tenants):
    result = make_msal(tenants[2]).acquire_token_for_client(GRAPH_DEFAULT)

    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [65001]
    assert result["suberror"] == "consent_required"


def test_revoked_consent_is_refused_with_65001(consented, make_msal, standin, app):
    standin.control.revoke_consent(consented, app.client_id)

    result = make_msal(consented).acquire_token_for_client(GRAPH_DEFAULT)

    assert result["error_codes"] == [65001]


def test_scope_without_default_is_invalid_scope(consented, make_msal):
    result = make_msal(consented).acquire_token_for_client(
        ["https://graph.microsoft.com/User.Read.All"]
    )

    assert result["error"] == "invalid_scope"
    assert result["error_codes"] == [1002012]


def test_organizations_authority_is_refused(consented, make_msal):
    cca = make_msal("organizations")
    with pytest.warns(DeprecationWarning, match="specific tenant"):
        result = cca.acquire_token_for_client(GRAPH_DEFAULT)

    assert result["error"] == "invalid_request"
    assert result["error_codes"] == [50059]


def test_unknown_tenant_fails_discovery_with_90002(make_msal, standin):
    unknown = "00000000-0000-0000-0000-00000000beef"
    reply = requests.get(
        f"{standin.base_url}/{unknown}/v2.0/.well-known/openid-configuration",
        verify=str(standin.ca_file),
        timeout=10,
    )
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_tenant"
    assert reply.json()["error_codes"] == [90002]
    with pytest.raises(ValueError, match="double check your tenant"):
        make_msal(unknown)
