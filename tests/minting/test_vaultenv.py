"""Both Vault clients read the caller's environment and errors the same way."""

from __future__ import annotations

import hvac.exceptions
import pytest

from consentvault import errors, vaultclient
from consentvault.minting import vaulthttp
from consentvault.vaultenv import check_address


@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 501, 502, 503])
def test_both_clients_give_a_status_the_same_exit_code(status):
    action, where = "probe", "GET /v1/x"
    light = vaulthttp.error_for(status, ["boom"], action, where)
    hvac_error = hvac.exceptions.VaultError.from_status(status, errors=["boom"])
    full = vaultclient.translate(hvac_error, action)
    assert light.exit_code == full.exit_code, status


def test_not_initialised_is_vault_unavailable():
    error = vaulthttp.error_for(501, ["Vault is not initialized"], "probe", "x")
    assert isinstance(error, errors.VaultUnavailable)
    assert error.exit_code == 4


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_blank_vault_token_falls_back_to_the_token_file_in_both(
    monkeypatch, tmp_path, value
):
    (tmp_path / ".vault-token").write_text("from-the-token-file\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("VAULT_TOKEN", value)
    monkeypatch.setenv("VAULT_ADDR", "https://127.0.0.1:9")

    light = vaulthttp.client_from_environment()
    full = vaultclient.client_from_environment()

    assert light.token == full.token == "from-the-token-file"


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:8200",
        "http://127.9.9.9:1",
        "http://[::1]:8200",
        "http://localhost:8200",
        "https://vault.example.com:8200",
    ],
)
def test_accepted_addresses(address):
    assert check_address(address) == address


@pytest.mark.parametrize(
    "address",
    [
        "http://10.0.0.5:8200",
        "http://vault.example.com",
        "http://[2001:db8::1]:1",
        "ftp://127.0.0.1",
        "vault.example.com:8200",
    ],
)
def test_plain_http_off_loopback_is_refused_by_both_clients(monkeypatch, address):
    monkeypatch.setenv("VAULT_ADDR", address)
    monkeypatch.setenv("VAULT_TOKEN", "unused")
    for make_client in (
        vaulthttp.client_from_environment,
        vaultclient.client_from_environment,
    ):
        with pytest.raises(errors.ConfigError) as refused:
            make_client()
        assert refused.value.exit_code == 3
        assert address in str(refused.value)


def test_skip_verify_is_refused_by_both_clients(monkeypatch):
    monkeypatch.setenv("VAULT_ADDR", "https://127.0.0.1:9")
    monkeypatch.setenv("VAULT_SKIP_VERIFY", "true")
    for make_client in (
        vaulthttp.client_from_environment,
        vaultclient.client_from_environment,
    ):
        with pytest.raises(errors.ConfigError, match="never disables TLS"):
            make_client()
