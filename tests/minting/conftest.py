"""The minting tests run against the shared sandbox, as the real identities.

`vault` wraps the session's sandbox with what these tests need: a ci-minter
token from an AppRole login, operator and broker tokens carrying exactly
their policies, hvac clients that verify the sandbox's CA, and the
environment a `consentvault` invocation needs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import hvac
import pytest

from consentvault.settings import Settings

from .helpers import remember_secret


@dataclass
class LiveVault:
    sandbox: object

    @property
    def settings(self) -> Settings:
        return self.sandbox.settings

    @property
    def address(self) -> str:
        return self.sandbox.vault_addr

    @property
    def ca_file(self) -> Path:
        return self.sandbox.ca_file

    @property
    def root(self) -> hvac.Client:
        return self.sandbox.vault_client()

    def client(self, token: str | None) -> hvac.Client:
        return hvac.Client(url=self.address, token=token, verify=str(self.ca_file))

    def token_with(self, identity: str, ttl: str = "30m") -> str:
        """A token of one identity: ci-minter logs in with AppRole as CI does."""
        if identity == "ci_minter":
            return self.approle_login()
        policy = self.settings.policy_names()[identity]
        reply = self.root.auth.token.create(policies=[policy], ttl=ttl)
        token = reply["auth"]["client_token"]
        remember_secret(f"{identity} token", token)
        return token

    def approle_login(self) -> str:
        approle = self.settings.vault.approle
        root = self.root
        role_id = root.read(f"auth/{approle.path}/role/{approle.role}/role-id")
        secret = root.write(f"auth/{approle.path}/role/{approle.role}/secret-id")
        reply = self.client(None).auth.approle.login(
            role_id=role_id["data"]["role_id"],
            secret_id=secret["data"]["secret_id"],
            mount_point=approle.path,
        )
        token = reply["auth"]["client_token"]
        remember_secret("ci_minter token", token)
        return token

    def env(self, token: str | None = None, **extra: str) -> dict[str, str]:
        values = {
            "CONSENTVAULT_ENV_FILE": str(self.sandbox.env_file),
            "VAULT_ADDR": self.address,
            "VAULT_CACERT": str(self.ca_file),
            **extra,
        }
        if token:
            values["VAULT_TOKEN"] = token
        return values


@pytest.fixture
def vault(sandbox) -> LiveVault:
    return LiveVault(sandbox)


@pytest.fixture(autouse=True)
def clean_ci_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CI variable or ~/.vault-token of the developer leaks into a test."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "ACTIONS_", "CI_", "GITLAB_")):
            monkeypatch.delenv(name)
