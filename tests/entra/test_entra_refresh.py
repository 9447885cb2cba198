"""Refresh tokens: rotation as Microsoft does it, expiry and lost consent."""

from __future__ import annotations

import pytest


@pytest.fixture
def signed_in(delegated_sign_in, tenants):
    cca, flow, reply = delegated_sign_in(tenants[0], scopes=("User.Read",))
    return cca.acquire_token_by_auth_code_flow(flow, reply)


def test_refresh_rotates_and_keeps_the_old_token_valid(
    signed_in, make_msal, standin, tenants
):
    first = signed_in["refresh_token"]

    rotated = make_msal(tenants[0]).acquire_token_by_refresh_token(first, ["User.Read"])
    again = make_msal(tenants[0]).acquire_token_by_refresh_token(first, ["User.Read"])

    assert rotated["refresh_token"] != first
    assert again["refresh_token"] not in (first, rotated["refresh_token"])
    assert rotated["id_token_claims"]["tid"] == tenants[0]
    assert standin.control.grant_count("refresh_token") == 2


def test_exactly_one_refresh_is_counted(signed_in, make_msal, standin, tenants):
    make_msal(tenants[0]).acquire_token_by_refresh_token(
        signed_in["refresh_token"], ["User.Read"]
    )

    assert standin.control.grant_count("refresh_token") == 1
    assert standin.control.grant_count("authorization_code") == 1


def test_expired_refresh_token_is_refused_with_70008(
    signed_in, make_msal, standin, tenants
):
    standin.control.expire(tenants[0], kinds=("refresh_tokens",))

    result = make_msal(tenants[0]).acquire_token_by_refresh_token(
        signed_in["refresh_token"], ["User.Read"]
    )

    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [70008]
    assert result["correlation_id"]


def test_revoked_consent_stops_refresh_with_65001(
    delegated_sign_in, make_msal, standin, tenants
):
    cca, flow, reply = delegated_sign_in(tenants[1])
    refresh_token = cca.acquire_token_by_auth_code_flow(flow, reply)["refresh_token"]
    app_id = cca.client_id
    assert standin.control.revoke_consent(tenants[1], app_id) == 1

    result = make_msal(tenants[1]).acquire_token_by_refresh_token(
        refresh_token, ["User.Read"]
    )

    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [65001]
    assert result["suberror"] == "consent_required"


def test_unknown_refresh_token_is_refused(make_msal, tenants):
    result = make_msal(tenants[0]).acquire_token_by_refresh_token(
        "1.AR.not-a-token", ["User.Read"]
    )

    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [9002313]
