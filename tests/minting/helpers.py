"""Helpers the minting tests share: tenant records and the CLI runner."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from click.testing import CliRunner

from consentvault.cli import cli
from consentvault.errors import ConsentVaultError
from consentvault.records import TenantRecord, TenantRecords


def new_tenant(
    vault, *, mode: str = "admin", status: str = "active", secret: dict | None = None
) -> str:
    """Store a tenant record the way consent redemption would."""
    tenant_id = str(uuid.uuid4())
    store = TenantRecords(vault.root, vault.settings)
    ciphertext = store.encrypt_secret(tenant_id, secret) if secret else ""
    store.create(
        TenantRecord(
            tenant_id=tenant_id,
            mode=mode,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            granted=("User.Read.All",),
            secret=ciphertext,
        )
    )
    return tenant_id


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(
    args: list[str], env: dict[str, str], input: str | None = None
) -> CliResult:
    """Run `consentvault ARGS` in process, with `cli.main`'s exit codes."""
    runner = CliRunner()
    result = runner.invoke(cli, args, env=env, input=input)
    code = result.exit_code
    stderr = result.stderr
    if isinstance(result.exception, ConsentVaultError):
        code = result.exception.exit_code
        stderr += f"Error: {result.exception}\n"
    elif result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(code, result.stdout, stderr)


def read_record(client, tenant_id: str) -> dict:
    """A tenant record's data as `client` sees it (raises if refused)."""
    reply = client.secrets.kv.v2.read_secret_version(
        path=f"tenants/{tenant_id}",
        mount_point="consentvault",
        raise_on_deleted_version=True,
    )
    return reply["data"]["data"]


def consent(vault, tenant_id: str, mode: str) -> None:
    """Consent `tenant_id` in `mode` through the stand-in's scripted admin."""
    from consentvault.sandbox.entra import approve

    broker = vault.token_with("consent_broker")
    url = run_cli(["consent", "url", "--mode", mode], vault.env(broker))
    assert url.exit_code == 0, url.stderr
    redirect = approve(url.stdout.strip(), ca_file=vault.ca_file, tenant=tenant_id)
    redeemed = run_cli(
        ["consent", "redeem", "--callback-url", "-"], vault.env(broker), input=redirect
    )
    assert redeemed.exit_code == 0, redeemed.stderr
