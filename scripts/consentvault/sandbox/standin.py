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
from tenacity import retry, retry_if_result, stop_after_delay, wait_fixed

from consentvault.errors import ConfigError, IdentityPlatformUnavailable
from consentvault.sandbox.paths import SandboxPaths, write_private
from consentvault.sandbox.pki import ensure_pki
from consentvault.sandbox.process import (
    port_is_free,
    running_pid,
    start_background,
    stop_pid,
)
from consentvault.settings import PROJECT_ROOT, Settings

STARTUP_TIMEOUT_SECONDS = 20


class StandinProcess:
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
    def pid_file(self) -> Path:
        return self.dir / "pid"

    @property
    def log_file(self) -> Path:
        return self.dir / "server.log"

    @property
    def provisioner_file(self) -> Path:
        return self.dir / "provisioner.json"

    def pid(self) -> int | None:
        return running_pid(self.pid_file, str(self.dir))

    def control_token(self) -> str:
        return self.paths.entra_control_token_file.read_text().strip()

    def start(self) -> bool:
        """Start unless running and wait until it serves. True if it started."""
        started = self.launch()
        if started:
            self.wait_ready()
        return started

    def launch(self) -> bool:
        """Start the process unless it runs; do not wait. True if it started."""
        if self.pid() is not None:
            return False
        if not port_is_free(self.port):
            raise ConfigError(
                f"127.0.0.1:{self.port} is taken by another process; pick another "
                f"port in entra.authority_host of {self.environment_file}"
            )
        ensure_pki(self.paths.pki)
        if not self.paths.entra_control_token_file.exists():
            write_private(
                self.paths.entra_control_token_file, secrets.token_urlsafe(32)
            )
        start_background(
            [
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
            ],
            pid_file=self.pid_file,
            log_file=self.log_file,
            cwd=PROJECT_ROOT,
            env=None,
        )
        return True

    def stop(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        stop_pid(pid)
        self.pid_file.unlink(missing_ok=True)
        return True

    def healthy(self) -> bool:
        url = f"{self.authority}/organizations/v2.0/.well-known/openid-configuration"
        try:
            reply = requests.get(url, verify=str(self.paths.ca_file), timeout=2)
        except requests.RequestException:
            return False
        return reply.status_code == 200 and self.provisioner_file.exists()

    def wait_ready(self) -> None:
        poll = retry(
            retry=retry_if_result(lambda ok: not ok),
            # A server that exited (bad arguments, port taken) fails at once.
            stop=stop_after_delay(STARTUP_TIMEOUT_SECONDS) | self._exited,
            wait=wait_fixed(0.05),
            retry_error_callback=lambda state: self._startup_failed(),
        )
        poll(self.healthy)()

    def _exited(self, retry_state) -> bool:
        return self.pid() is None

    def _startup_failed(self) -> None:
        pid = self.pid()
        if pid is not None:
            stop_pid(pid)
        raise IdentityPlatformUnavailable(
            f"the Entra stand-in at {self.authority} did not become ready; "
            f"see {self.log_file}"
        )
