"""Bad input and broken servers: a clear message and the documented code."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator

import hvac
import pytest
import trustme

from consentvault.settings import PROJECT_ROOT

from .helpers import new_tenant, run_cli


def mint(vault, tenant: str, **env: str):
    return run_cli(
        ["mint", "vault-token", "--tenant", tenant],
        vault.env(vault.token_with("ci_minter"), **env),
    )


def test_missing_token_role(vault):
    tenant = new_tenant(vault)
    role_path = f"auth/token/roles/{vault.settings.vault.token_role}"
    role = vault.root.read(role_path)["data"]
    vault.root.delete(role_path)
    try:
        result = mint(vault, tenant)
    finally:
        vault.root.write_data(role_path, data=role)
    assert result.exit_code == 3
    assert "the token role 'tenant-reader' does not exist" in result.stderr
    assert mint(vault, tenant).exit_code == 0


def test_plain_http_to_a_tls_server(vault):
    """Vault's 400 to plain HTTP exited 2 from mint where hvac commands said 4."""
    plain = vault.address.replace("https://", "http://", 1)
    result = mint(vault, new_tenant(vault), VAULT_ADDR=plain)
    assert result.exit_code == 4
    assert "Vault answered HTTP 400 to plain HTTP: is the address https?" in (
        result.stderr
    )


def test_wrong_ca_bundle(vault, tmp_path):
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_bytes(trustme.CA().cert_pem.bytes())
    result = mint(vault, new_tenant(vault), VAULT_CACERT=str(other_ca))
    assert result.exit_code == 4
    assert "TLS verification failed" in result.stderr


def test_skip_verify_is_refused(vault):
    result = mint(vault, new_tenant(vault), VAULT_SKIP_VERIFY="true")
    assert result.exit_code == 3
    assert "never disables TLS verification" in result.stderr


@pytest.fixture
def sealed_vault(tmp_path) -> Iterator[str]:
    """A dev OpenBao of its own, sealed: the shared sandbox stays unsealed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root_token = secrets.token_hex(16)
    address = f"http://127.0.0.1:{port}"
    with open(tmp_path / "bao.log", "wb") as log:
        process = subprocess.Popen(
            [
                str(PROJECT_ROOT / ".venv" / "bin" / "bao"),
                "server",
                "-dev",
                "-dev-no-store-token",
                f"-dev-root-token-id={root_token}",
                f"-dev-listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HOME": str(tmp_path)},
        )
    try:
        client = hvac.Client(url=address, token=root_token)
        for _ in range(200):
            try:
                if not client.sys.is_sealed():
                    break
            except Exception:
                time.sleep(0.05)
        client.sys.seal()
        yield address
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_sealed_vault(vault, sealed_vault):
    result = run_cli(
        ["mint", "vault-token", "--tenant", "00000000-0000-4000-8000-000000000001"],
        vault.env("some-token", VAULT_ADDR=sealed_vault),
    )
    assert result.exit_code == 4
    assert "Vault is sealed" in result.stderr


def test_revoke_with_a_bad_operator_token(vault):
    result = run_cli(
        ["revoke", "--tenant", new_tenant(vault)], vault.env("not-a-real-token")
    )
    assert result.exit_code == 5
