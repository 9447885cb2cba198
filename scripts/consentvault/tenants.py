"""The `tenant` commands: what Vault holds about each customer tenant.

Only metadata is ever shown (mode, status, grants, who and when); the secret
material stays transit ciphertext and is not even read back for display.
`tenant remove` (offboarding) lives here too: it reads the record through
`_open_records` and leaves the revocation and destruction to
`minting.offboarding`.
"""

from __future__ import annotations

import json
import os

import click
import hvac.exceptions

from consentvault import errors
from consentvault.records import TenantRecord, TenantRecords
from consentvault.settings import load_settings
from consentvault.vaultclient import client_from_environment, vault_errors

FORMATS = click.Choice(["text", "json"])
FORMAT_HELP = "text for people, json for scripts."
_COLUMNS = ("tenant_id", "mode", "status", "granted", "consented_at", "version")


@click.group()
def tenant() -> None:
    """List and inspect the consented tenants' records (never their secrets)."""


def _open_records() -> TenantRecords:
    settings = load_settings()
    return TenantRecords(client_from_environment(settings), settings)


@tenant.command("list")
@click.option(
    "--format", "output_format", type=FORMATS, default="text", help=FORMAT_HELP
)
def list_tenants(output_format: str) -> None:
    """List every tenant with a record.

    \b
    Example:
      consentvault tenant list --format json
    """
    records = _open_records()
    tenant_ids = records.list_ids()
    if not tenant_ids:
        _check_mount_exists(records)
    rows = [
        record
        for tenant_id in tenant_ids
        if (record := _read_or_skip(records, tenant_id)) is not None
    ]
    if output_format == "json":
        click.echo(json.dumps([row.metadata() for row in rows], sort_keys=True))
    elif not rows:
        click.echo("No tenants.", err=True)
    else:
        click.echo(_table([_row(record) for record in rows]))


@tenant.command("show")
@click.argument("tenant_id", envvar="CONSENTVAULT_TENANT")
@click.option(
    "--format", "output_format", type=FORMATS, default="text", help=FORMAT_HELP
)
def show_tenant(tenant_id: str, output_format: str) -> None:
    """Show one tenant's record metadata.

    \b
    Example:
      consentvault tenant show 3f2c6f0e-0000-4000-8000-000000000001
    """
    record = _open_records().read(tenant_id)
    metadata = record.metadata()
    if output_format == "json":
        click.echo(json.dumps(metadata, sort_keys=True))
        return
    width = max(len(key) for key in metadata)
    for key, value in metadata.items():
        click.echo(f"{key.ljust(width)}  {_text(value)}")


@tenant.command("remove")
@click.argument("tenant_id", envvar="CONSENTVAULT_TENANT")
@click.option("--reason", required=True, help="Why; kept in the audit log, as an HMAC.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def remove_tenant(tenant_id: str, reason: str, yes: bool) -> None:
    """Offboard a tenant: revoke its credentials, destroy its key, record and entity.

    \b
    Example:
      consentvault tenant remove 3f2c6f0e-... --reason "contract ended"
    """
    import getpass

    from consentvault.minting.light_settings import load_mint_settings
    from consentvault.minting.login import LoginOptions, login
    from consentvault.minting.offboarding import remove_tenant as offboard
    from consentvault.records import normalize_tenant_id

    tenant_id = normalize_tenant_id(tenant_id)
    if not reason.strip():
        raise click.UsageError("--reason must say why the tenant is removed")
    if not yes:
        click.confirm(
            f"Revoke every credential of tenant {tenant_id} and destroy its record?",
            abort=True,
        )
    records = _open_records()
    light = load_mint_settings()
    with login(light, LoginOptions()) as client:
        removal = offboard(
            client,
            records,
            light,
            tenant_id,
            reason=reason.strip(),
            removed_by=getpass.getuser(),
        )
    click.echo(removal.summary())


def _read_or_skip(records: TenantRecords, tenant_id: str) -> TenantRecord | None:
    """One record for the list, or None: one bad record must not hide the rest."""
    try:
        return records.read(tenant_id)
    except (errors.PermissionDenied, errors.VaultUnavailable):
        raise
    except errors.ConsentVaultError as exc:
        # A soft-deleted record (NotFound) or one that is malformed.
        click.echo(f"Warning: skipped tenant {tenant_id}: {exc}", err=True)
        return None


def _check_mount_exists(records: TenantRecords) -> None:
    """An empty list is only believable if the KV mount exists where we look.

    A mistyped VAULT_ADDR path or VAULT_NAMESPACE otherwise reads as "No
    tenants." Vault answers 404 for a missing mount or namespace; a token that
    may not read the mount's config cannot tell, and the list stands.
    """
    mount = records.vault.kv_mount
    namespace = os.environ.get("VAULT_NAMESPACE", "").strip() or "root"
    with vault_errors(f"read the configuration of KV mount {mount}"):
        try:
            records.client.secrets.kv.v2.read_configuration(mount_point=mount)
        except hvac.exceptions.InvalidPath:
            raise errors.NotFound(
                f"KV mount {mount} not found at {records.client.url} in namespace "
                f"{namespace}: check VAULT_ADDR and VAULT_NAMESPACE"
            ) from None
        except hvac.exceptions.Forbidden:
            return


def _row(record: TenantRecord) -> dict[str, str]:
    metadata = record.metadata()
    return {column: _text(metadata[column]) for column in _COLUMNS}


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], dict):
            return f"{len(value)} earlier grant(s)"
        return ", ".join(str(item) for item in value) or "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if value not in ("", None) else "-"


def _table(rows: list[dict[str, str]]) -> str:
    widths = {c: max(len(c), *(len(row[c]) for row in rows)) for c in _COLUMNS}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in _COLUMNS).rstrip()]
    for row in rows:
        lines.append("  ".join(row[c].ljust(widths[c]) for c in _COLUMNS).rstrip())
    return "\n".join(lines)
