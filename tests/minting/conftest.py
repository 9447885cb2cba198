"""Fixtures for the minting tests: a dev OpenBao with the real policies.

Until the shared `sandbox` fixture provisions from the synthesized stacks,
this starts `bao server -dev` and creates by hand what the Vault stack would:
the KV and transit mounts, the token role, and the four policies rendered
from `policies/*.hcl.j2`.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hvac
import jinja2
import pytest
from consentvault.settings import PROJECT_ROOT, Settings, load_settings

BAO = PROJECT_ROOT / ".venv" / "bin" / "bao"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class DevVault:
    address: str
    root_token: str
    settings: Settings
    env_file: Path
    root: hvac.Client

    def client(self, token: str) -> hvac.Client:
        return hvac.Client(url=self.address, token=token)

    def token_with(self, identity: str, ttl: str = "30m") -> str:
        """A token carrying one of the project's policies, as its login gives."""
        policy = self.settings.policy_names()[identity]
        reply = self.root.auth.token.create(policies=[policy], ttl=ttl)
        return reply["auth"]["client_token"]

    def env(self, token: str | None = None, **extra: str) -> dict[str, str]:
        values = {
            "CONSENTVAULT_ENV_FILE": str(self.env_file),
            "VAULT_ADDR": self.address,
            **extra,
        }
        if token:
            values["VAULT_TOKEN"] = token
        return values


def _render_policies(client: hvac.Client, settings: Settings) -> None:
    accessor = client.sys.list_auth_methods()["data"]["token/"]["accessor"]
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROJECT_ROOT / "policies"),
        undefined=jinja2.StrictUndefined,
    )
    names = settings.policy_names()
    for identity, name in names.items():
        template = environment.get_template(f"{identity.replace('_', '-')}.hcl.j2")
        text = template.render(
            vault=settings.vault, policy_names=names, token_accessor=accessor
        )
        client.sys.create_or_update_policy(name, text)


def _provision(client: hvac.Client, settings: Settings) -> None:
    vault = settings.vault
    client.sys.enable_secrets_engine(
        "kv", path=vault.kv_mount, options={"version": "2"}
    )
    client.secrets.kv.v2.configure(cas_required=True, mount_point=vault.kv_mount)
    client.sys.enable_secrets_engine("transit", path=vault.transit_mount)
    for key in (vault.transit_key, vault.transit_state_key):
        client.secrets.transit.create_key(
            key, derived=True, mount_point=vault.transit_mount
        )
    _render_policies(client, settings)
    client.write(
        f"auth/token/roles/{vault.token_role}",
        orphan=True,
        renewable=False,
        token_type="service",
        token_ttl=900,
        token_explicit_max_ttl=3600,
        allowed_policies=[settings.policy_names()["tenant_reader"]],
        allowed_entity_aliases=["*"],
        token_no_default_policy=True,
    )


@pytest.fixture(scope="session")
def dev_vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevVault]:
    tmp = tmp_path_factory.mktemp("minting-bao")
    port = _free_port()
    root_token = secrets.token_hex(16)
    address = f"http://127.0.0.1:{port}"
    log = open(tmp / "bao.log", "wb")
    process = subprocess.Popen(
        [
            str(BAO),
            "server",
            "-dev",
            "-dev-no-store-token",
            f"-dev-root-token-id={root_token}",
            f"-dev-listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "HOME": str(tmp)},
    )
    try:
        root = hvac.Client(url=address, token=root_token)
        for _ in range(200):
            try:
                if root.sys.is_initialized() and not root.sys.is_sealed():
                    break
            except Exception:
                time.sleep(0.05)
        text = (PROJECT_ROOT / "environments" / "local.toml").read_text()
        text = text.replace(
            'address = "https://127.0.0.1:18200"', f'address = "{address}"'
        )
        env_file = tmp / "dev.toml"
        env_file.write_text(text)
        settings = load_settings(path=env_file)
        _provision(root, settings)
        yield DevVault(address, root_token, settings, env_file, root)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def vault(dev_vault: DevVault) -> DevVault:
    return dev_vault


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Vault, CI or CA variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("VAULT_", "CONSENTVAULT_", "GITHUB_", "ACTIONS_", "CI_")):
            monkeypatch.delenv(name)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
