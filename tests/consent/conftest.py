"""A short-lived OpenBao dev server with the consent mounts, for these tests."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import hvac
import pytest
from consentvault.settings import PROJECT_ROOT, Settings, load_settings

BAO = PROJECT_ROOT / ".venv" / "bin" / "bao"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings_file(tmp: Path, vault_address: str) -> Path:
    text = (PROJECT_ROOT / "environments" / "local.toml").read_text()
    text = text.replace(
        'address = "https://127.0.0.1:18200"', f'address = "{vault_address}"'
    )
    path = tmp / "dev.toml"
    path.write_text(text)
    return path


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


@pytest.fixture(scope="session")
def dev_vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("devbao")
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
        client = hvac.Client(url=address, token=root_token)
        for _ in range(100):
            try:
                if client.sys.is_initialized() and not client.sys.is_sealed():
                    break
            except Exception:
                pass
            time.sleep(0.05)
        settings_path = _settings_file(tmp, address)
        settings = load_settings(path=settings_path)
        _provision(client, settings)
        yield {
            "address": address,
            "root_token": root_token,
            "settings": settings,
            "settings_path": settings_path,
            "client": client,
        }
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def vault_env(dev_vault):
    """The Vault client and settings the record tests use."""
    return type(
        "VaultEnv",
        (),
        {"client": dev_vault["client"], "settings": dev_vault["settings"]},
    )
