"""The Entra stand-in as a background process of the sandbox.

It runs as `python -m consentvault.sandbox.entra --dir D --port P ...` with
the sandbox's CA and server certificate (`--pki-dir`); the control token
(0600) lets tests steer it and is created here, once.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

import requests

from consentvault.errors import ConfigError, IdentityPlatformUnavailable
from consentvault.sandbox.paths import SandboxPaths, write_private
from consentvault.sandbox.pki import ensure_pki
from consentvault.sandbox.server import BackgroundServer
from consentvault.settings import Settings


class StandinProcess(BackgroundServer):
    port_setting = "entra.authority_host"
    startup_timeout_seconds = 20

    def __init__(self, settings: Settings, paths: SandboxPaths) -> None:
        self.paths = paths
        self.dir = paths.entra
        self.authority = settings.entra.authority_host.rstrip("/")
        address = urlsplit(self.authority)
        if address.hostname not in ("127.0.0.1", "localhost") or not address.port:
            raise ConfigError(
                f"entra.authority_host {self.authority!r}: the stand-in serves only "
                "on 127.0.0.1 with an explicit port"
            )
        self.port = address.port
        self.environment_file = settings.source

    @property
    def provisioner_file(self) -> Path:
        return self.dir / "provisioner.json"

    def control_token(self) -> str:
        return self.paths.entra_control_token_file.read_text().strip()

    def healthy(self) -> bool:
        url = f"{self.authority}/organizations/v2.0/.well-known/openid-configuration"
        try:
            reply = requests.get(url, verify=str(self.paths.ca_file), timeout=2)
        except requests.RequestException:
            return False
        return reply.status_code == 200 and self.provisioner_file.exists()

    def wait_ready(self) -> None:
        self._wait_for(self.healthy, bool)

    def _pid_marker(self) -> str:
        return str(self.dir)

    def _prepare(self) -> None:
        ensure_pki(self.paths.pki)
        if not self.paths.entra_control_token_file.exists():
            write_private(
                self.paths.entra_control_token_file, secrets.token_urlsafe(32)
            )

    def _argv(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "consentvault.sandbox.entra",
            "--dir",
            str(self.dir),
            "--port",
            str(self.port),
            "--control-token-file",
            str(self.paths.entra_control_token_file),
            "--pki-dir",
            str(self.paths.pki),
            "--pid-file",
            str(self.pid_file),
        ]

    def _not_ready_error(self) -> IdentityPlatformUnavailable:
        return IdentityPlatformUnavailable(
            f"the Entra stand-in at {self.authority} did not become ready; "
            f"see {self.log_file}"
        )
