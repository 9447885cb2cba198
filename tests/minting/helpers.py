"""Helpers the minting tests share: tenant records, the CLI runner, redaction."""

from __future__ import annotations

import json
import re
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
    store.ensure_key(tenant_id)
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


# Secret values seen by the tests (value -> name), masked in failure messages.
_KNOWN_SECRETS: dict[str, str] = {}
# Shapes of secrets nobody registered: Vault/OpenBao tokens, JWTs, the
# stand-in's refresh tokens and codes, Entra-style client secrets.
TOKEN_SHAPED = re.compile(
    r"\b(?:hv[sbr]\.|[sbr]\.)[A-Za-z0-9_-]{20,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_.-]*"
    r"|\b1\.A[QR]\.[A-Za-z0-9_-]{20,}"
    r"|[A-Za-z0-9_~.-]{3}8Q~[A-Za-z0-9_~.-]{34}"
)
_SECRET_KEYS = {"token", "wrapping_token", "access_token", "client_secret"}


def remember_secret(name: str, value: str | None) -> None:
    """Mask `value` as `<secret:name>` in every failure message from now on."""
    if value:
        _KNOWN_SECRETS[value] = name


def redact(text: str) -> str:
    """`text` with every known or token-shaped secret replaced by its name."""
    for value in sorted(_KNOWN_SECRETS, key=len, reverse=True):
        text = text.replace(value, f"<secret:{_KNOWN_SECRETS[value]}>")
    return TOKEN_SHAPED.sub("<secret:token-shaped>", text)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def why(self) -> str:
        """For an assertion message: the exit code and the redacted stderr."""
        return f"exit {self.exit_code}; stderr: {redact(self.stderr)}"


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
    _remember_printed_secrets(args, result.stdout)
    return CliResult(code, result.stdout, stderr)


def _remember_printed_secrets(args: list[str], stdout: str) -> None:
    """Register credentials a command printed (json or env format)."""
    try:
        printed = json.loads(stdout)
    except ValueError:
        printed = dict(
            line.split("=", 1) for line in stdout.splitlines() if "=" in line
        )
    if not isinstance(printed, dict):
        return
    command = " ".join(a for a in args[:2] if not a.startswith("-"))
    for key, value in printed.items():
        if (key in _SECRET_KEYS or key.isupper()) and isinstance(value, str):
            remember_secret(f"{command} {key}", value)


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
    assert url.exit_code == 0, url.why()
    redirect = approve(url.stdout.strip(), ca_file=vault.ca_file, tenant=tenant_id)
    redeemed = run_cli(
        ["consent", "redeem", "--callback-url", "-"], vault.env(broker), input=redirect
    )
    assert redeemed.exit_code == 0, redeemed.why()
