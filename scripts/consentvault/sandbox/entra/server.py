"""Serving the stand-in over HTTPS on loopback, in-process or as a process."""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from consentvault.sandbox.entra.app import Standin
from consentvault.sandbox.entra.client import ControlClient
from consentvault.sandbox.entra.directory import TenantSpec
from consentvault.sandbox.pki import ensure_pki

HOST = "127.0.0.1"


class _QuietRequestHandler(WSGIRequestHandler):
    """werkzeug logs the request line with its query string; the app logs instead."""

    def log_request(self, code="-", size="-") -> None:
        return None


def build_server(
    state_dir: Path,
    *,
    port: int = 0,
    control_token: str | None = None,
    pki_dir: Path | None = None,
    customers: tuple[TenantSpec, ...] | None = None,
) -> tuple[BaseWSGIServer, Path]:
    """A threaded HTTPS server for the stand-in and the CA file that trusts it."""
    tls = ensure_pki(pki_dir or state_dir / "pki")
    standin = Standin(state_dir, control_token=control_token, customers=customers)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.cert_file, tls.key_file)
    server = make_server(
        HOST,
        port,
        standin,
        threaded=True,
        request_handler=_QuietRequestHandler,
        ssl_context=context,
    )
    return server, tls.ca_file


@dataclass(frozen=True)
class RunningStandin:
    base_url: str
    ca_file: Path
    state_dir: Path
    control: ControlClient | None

    @property
    def graph_url(self) -> str:
        return self.base_url + "/graph"

    def authority(self, tenant: str) -> str:
        return f"{self.base_url}/{tenant}"


@contextlib.contextmanager
def running_standin(
    state_dir: Path,
    *,
    port: int = 0,
    control_token: str | None = None,
    pki_dir: Path | None = None,
    customers: tuple[TenantSpec, ...] | None = None,
) -> Iterator[RunningStandin]:
    """Run the stand-in in a thread of this process for the `with` block."""
    server, ca_file = build_server(
        Path(state_dir),
        port=port,
        control_token=control_token,
        pki_dir=pki_dir,
        customers=customers,
    )
    base_url = f"https://{HOST}:{server.server_port}"
    thread = threading.Thread(
        target=server.serve_forever, name="entra-standin", daemon=True
    )
    thread.start()
    try:
        control = (
            ControlClient(base_url, ca_file, control_token) if control_token else None
        )
        yield RunningStandin(base_url, ca_file, Path(state_dir), control)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
