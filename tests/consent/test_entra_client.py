"""The msal client: error translation, pinned TLS, retries, the app credential."""

from __future__ import annotations

import time

import pytest

from consentvault import errors
from consentvault.entra_client import (
    _AADSTS,
    GRAPH_DEFAULT_SCOPE,
    AppCredential,
    EntraClient,
    error_from_result,
    read_app_credential,
    unverified_claims,
)


@pytest.fixture
def credential(consent_env) -> AppCredential:
    broker = consent_env.vault_client(consent_env.broker_token)
    return read_app_credential(broker, consent_env.settings)


@pytest.fixture
def consented(cli, consent_env, customers) -> str:
    """A customer tenant that has granted admin consent to the app."""
    from consentvault.sandbox.entra import approve

    tenant = customers[0]
    url = cli(["consent", "url", "--mode", "admin"], consent_env.env()).stdout.strip()
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=tenant)
    result = cli(
        ["consent", "redeem", "--callback-url", "-"], consent_env.env(), redirect
    )
    assert result.exit_code == 0, result.stderr
    return tenant


@pytest.mark.parametrize(("code", "expected"), sorted(_AADSTS.items()))
def test_every_known_code_has_its_error(code, expected):
    error_class, meaning = expected
    result = {
        "error": "invalid_grant",
        "error_description": f"AADSTS{code}: quoted request data secret-XYZ",
        "error_codes": [code],
        "correlation_id": "c0ffee00-0000-4000-8000-000000000001",
    }
    error = error_from_result(result)
    assert type(error) is error_class
    assert str(error).startswith(meaning)
    assert f"AADSTS{code}" in str(error)
    assert "correlation id c0ffee00-0000-4000-8000-000000000001" in str(error)
    assert "secret-XYZ" not in str(error)


def test_codes_are_read_from_the_description_when_no_list_is_given():
    error = error_from_result(
        {"error": "access_denied", "error_description": "AADSTS65004: User declined"}
    )
    assert isinstance(error, errors.ConsentError)
    assert "AADSTS65004" in str(error)


def test_unknown_errors_are_consent_errors_with_a_clean_identifier():
    error = error_from_result({"error": "weird<script>", "trace_id": "a b\nc"})
    assert isinstance(error, errors.ConsentError)
    assert "<" not in str(error) and "\n" not in str(error)


def test_credential_repr_hides_the_secret(credential):
    assert credential.client_secret not in repr(credential)
    assert credential.client_id in repr(credential)


def test_missing_app_credential_is_a_config_error(consent_env):
    vault = consent_env.settings.vault.model_copy(
        update={"app_credential_path": "app/none"}
    )
    settings = consent_env.settings.model_copy(update={"vault": vault})
    with pytest.raises(errors.ConfigError) as caught:
        read_app_credential(consent_env.vault_client(), settings)
    assert caught.value.exit_code == 3
    assert "consentvault-app/app/none" in str(caught.value)


def test_client_credentials_and_claims(consent_env, credential, consented):
    entra = EntraClient(consent_env.settings, credential, tenant=consented)
    result = entra.acquire_token_for_client([GRAPH_DEFAULT_SCOPE])
    claims = unverified_claims(result["access_token"])
    assert claims["tid"] == consented
    assert sorted(claims["roles"]) == sorted(
        consent_env.settings.entra.application_permissions
    )


def test_the_configured_ca_wins_over_the_environment(
    consent_env, credential, consented, monkeypatch
):
    # A bundle without the sandbox's CA: requests would use it if let.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    entra = EntraClient(consent_env.settings, credential, tenant=consented)
    assert "access_token" in entra.acquire_token_for_client([GRAPH_DEFAULT_SCOPE])


def test_an_untrusted_authority_is_refused(consent_env, credential, consented):
    entra_settings = consent_env.settings.entra.model_copy(update={"ca_file": None})
    settings = consent_env.settings.model_copy(update={"entra": entra_settings})
    entra = EntraClient(settings, credential, tenant=consented)
    with pytest.raises(errors.ConfigError) as caught:
        entra.acquire_token_for_client([GRAPH_DEFAULT_SCOPE])
    assert "TLS verification" in str(caught.value)


def test_retry_after_is_honoured(consent_env, credential, consented):
    consent_env.control.reset()
    consent_env.control.fail("token", 429, count=1, retry_after=1)
    entra = EntraClient(consent_env.settings, credential, tenant=consented)
    assert entra.application is not None  # discovery before the clock starts

    started = time.monotonic()
    result = entra.acquire_token_for_client([GRAPH_DEFAULT_SCOPE])

    assert "access_token" in result
    assert time.monotonic() - started >= 1.0
    assert consent_env.control.counts()["endpoint:token"] == 2


def test_discovery_is_retried(consent_env, credential, consented):
    consent_env.control.reset()
    consent_env.control.fail("discovery", 503, count=2)
    entra = EntraClient(consent_env.settings, credential, tenant=consented)
    assert "access_token" in entra.acquire_token_for_client([GRAPH_DEFAULT_SCOPE])
    assert consent_env.control.counts()["endpoint:discovery"] == 3


@pytest.mark.parametrize("tenant", ["../common", "contoso.com", "", "common"])
def test_the_authority_tenant_is_a_guid(consent_env, credential, tenant):
    with pytest.raises(errors.UsageError):
        EntraClient(consent_env.settings, credential, tenant=tenant)


def test_authority_uses_the_normalized_tenant(consent_env, credential):
    tenant = "  3F2C6F0E-0000-4000-8000-000000000001 "

    entra = EntraClient(consent_env.settings, credential, tenant=tenant)

    host = consent_env.settings.entra.authority_host.rstrip("/")
    assert entra.authority == f"{host}/3f2c6f0e-0000-4000-8000-000000000001"
    url = entra.admin_consent_url(
        state="s" * 43, redirect_uri="https://127.0.0.1/cb", scope=GRAPH_DEFAULT_SCOPE
    )
    assert "/3f2c6f0e-0000-4000-8000-000000000001/v2.0/adminconsent?" in url
