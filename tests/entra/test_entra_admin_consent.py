"""`/adminconsent`: the redirect on approval and on decline, and refusals."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from consentvault.sandbox.entra import StandinError, approve


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_approval_redirects_with_admin_consent_and_tenant(
    consent_url, standin, tenants, app, redirect_uri
):
    location = approve(
        consent_url(tenants[1], state="abc"), ca_file=standin.ca_file, tenant=tenants[1]
    )

    assert location.startswith(redirect_uri + "?")
    assert _query(location) == {
        "admin_consent": "True",
        "tenant": tenants[1],
        "state": "abc",
        "scope": "https://graph.microsoft.com/.default",
    }
    consent = standin.control.consent(tenants[1], app.client_id)
    assert consent["roles"] == ["Organization.Read.All", "User.Read.All"]


def test_organizations_authority_consents_for_the_admins_tenant(
    consent_url, standin, tenants, app
):
    location = approve(
        consent_url("organizations"), ca_file=standin.ca_file, tenant=tenants[2]
    )

    assert _query(location)["tenant"] == tenants[2]
    assert standin.control.consent(tenants[2], app.client_id) is not None
    standin.control.revoke_consent(tenants[2], app.client_id)


def test_decline_redirects_with_access_denied(consent_url, standin, tenants, app):
    location = approve(
        consent_url(tenants[0], state="xyz"),
        ca_file=standin.ca_file,
        tenant=tenants[0],
        decline=True,
    )

    reply = _query(location)
    assert reply["error"] == "access_denied"
    assert reply["error_subcode"] == "cancel"
    assert reply["error_description"].startswith("AADSTS65004: ")
    assert reply["state"] == "xyz"
    assert "admin_consent" not in reply


def test_ordinary_user_cannot_grant_admin_consent(consent_url, standin, tenants):
    tenant = standin.control.customer_tenants()[0]
    user = next(u for u in tenant["users"] if not u["admin"])

    with pytest.raises(StandinError, match="no administrator|AADSTS"):
        approve(
            consent_url(tenant["id"]),
            ca_file=standin.ca_file,
            login=user["userPrincipalName"],
        )


def test_unknown_client_gets_no_redirect(consent_url, standin, tenants):
    url = consent_url(tenants[0], client_id="11111111-2222-3333-4444-555555555555")

    with pytest.raises(StandinError, match="700016"):
        approve(url, ca_file=standin.ca_file, tenant=tenants[0])


def test_admin_of_another_tenant_is_refused(consent_url, standin, tenants):
    other_admin = standin.control.customer_tenants()[1]["users"][0]

    with pytest.raises(StandinError, match="AADSTS50020"):
        approve(
            consent_url(tenants[0]),
            ca_file=standin.ca_file,
            login=other_admin["userPrincipalName"],
        )
