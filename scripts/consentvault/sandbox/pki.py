"""The sandbox's local certificate authority, shared by OpenBao and the stand-in.

Whoever starts first creates `pki/ca.pem` (+ `ca-key.pem`) and one server
certificate for 127.0.0.1 and localhost (`server.pem`, `server-key.pem`);
later callers load what is there, so restarts keep the same trust anchor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme

from consentvault.sandbox.paths import write_private

SERVER_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class ServerTLS:
    ca_file: Path
    cert_file: Path
    key_file: Path


def ensure_pki(pki_dir: Path) -> ServerTLS:
    """Create the CA and the loopback server certificate unless they exist."""
    tls = ServerTLS(
        ca_file=pki_dir / "ca.pem",
        cert_file=pki_dir / "server.pem",
        key_file=pki_dir / "server-key.pem",
    )
    ca_key_file = pki_dir / "ca-key.pem"
    if tls.ca_file.exists() and ca_key_file.exists():
        ca = trustme.CA.from_pem(tls.ca_file.read_bytes(), ca_key_file.read_bytes())
    else:
        ca = trustme.CA(organization_name="consentvault sandbox")
        write_private(ca_key_file, ca.private_key_pem.bytes())
        write_private(tls.ca_file, ca.cert_pem.bytes())
        tls.ca_file.chmod(0o644)
    if not (tls.cert_file.exists() and tls.key_file.exists()):
        server = ca.issue_cert(*SERVER_NAMES)
        write_private(tls.key_file, server.private_key_pem.bytes())
        chain = b"".join(blob.bytes() for blob in server.cert_chain_pems)
        write_private(tls.cert_file, chain)
    return tls
