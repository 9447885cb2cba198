"""`consentvault mint`, `revoke` and `audit`: the click side of minting.

Each command checks its input, logs in, does its one job through a module of
this package and writes its result; errors travel up to `cli.main`, which
prints them and exits with their code. Heavier modules (msal, hvac) are
imported inside the commands that need them.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from consentvault import errors
from consentvault.errors import ConsentVaultError
from consentvault.minting import output
from consentvault.minting.light_settings import MintSettings, load_mint_settings
from consentvault.minting.login import METHODS, LoginOptions, login
from consentvault.minting.tenant_check import check_tenant_id, tenant_record_exists
from consentvault.minting.vaulthttp import VaultHTTP


def login_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that pick the caller's identity, shared by every command."""

    @click.option(
        "--auth",
        "auth_method",
        type=click.Choice(METHODS),
        default="token",
        envvar="CONSENTVAULT_AUTH",
        show_default=True,
        help="How to log in to Vault.",
    )
    @click.option(
        "--role-id",
        envvar="CONSENTVAULT_ROLE_ID",
        help="AppRole role id (the secret id comes wrapped, in "
        "$CONSENTVAULT_SECRET_ID_WRAPPED).",
    )
    @click.option(
        "--jwt-env",
        metavar="NAME",
        help="Environment variable holding the CI id token (GitLab id_tokens).",
    )
    @click.option(
        "--jwt-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="File holding the CI id token.",
    )
    @functools.wraps(command)
    def wrapper(
        auth_method: str,
        role_id: str | None,
        jwt_env: str | None,
        jwt_file: Path | None,
        **kwargs: Any,
    ) -> Any:
        kwargs["login_options"] = LoginOptions(
            method=auth_method, role_id=role_id, jwt_env=jwt_env, jwt_file=jwt_file
        )
        return command(**kwargs)

    return wrapper


@contextlib.contextmanager
def _session(options: LoginOptions) -> Iterator[tuple[MintSettings, VaultHTTP]]:
    """Settings and a logged-in client; a login made here is revoked after.

    A CI job's AppRole or JWT login token would otherwise outlive the job by
    its TTL; the credentials minted with it are orphans and stay valid.
    """
    settings = load_mint_settings()
    client = login(settings, options)
    try:
        yield settings, client
    finally:
        if options.method != "token":
            with contextlib.suppress(ConsentVaultError):
                client.write("auth/token/revoke-self", {}, "revoke the login token")
        client.close()


def _tenant(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    return None if value is None else check_tenant_id(value)


tenant_option = click.option(
    "--tenant",
    "tenant_id",
    required=True,
    envvar="CONSENTVAULT_TENANT",
    callback=_tenant,
    help="The customer's tenant id (a GUID).",
)
out_option = click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --format env: write this file (mode 0600) instead of stdout.",
)
format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(output.FORMATS),
    default="json",
    show_default=True,
    help="How to write the credential.",
)


@click.group()
def mint() -> None:
    """Mint a short-lived credential for one tenant."""


@mint.command("vault-token")
@tenant_option
@click.option("--ttl", help="Lifetime, e.g. 10m (default and maximum: the role's).")
@click.option("--num-uses", type=int, default=0, help="Uses allowed (0: unlimited).")
@click.option("--wrap-ttl", help="Response-wrap the token for this long, e.g. 60s.")
@click.option("--pipeline", help="Token metadata (default: from the CI variables).")
@click.option("--job", help="Token metadata (default: from the CI variables).")
@click.option("--requested-by", help="Token metadata (default: CI actor or user).")
@format_option
@out_option
@login_options
def vault_token(
    tenant_id: str,
    ttl: str | None,
    num_uses: int,
    wrap_ttl: str | None,
    pipeline: str | None,
    job: str | None,
    requested_by: str | None,
    output_format: str,
    out_file: Path | None,
    login_options: LoginOptions,
) -> None:
    """Mint a Vault token that reads and decrypts one tenant's record only.

    \b
    Example:
      export VAULT_TOKEN=$(consentvault mint vault-token \\
          --tenant 7f3c...-... --ttl 10m --format plain)
    """
    from consentvault.minting.vault_token import ci_metadata, mint_vault_token

    output.check_destination(output_format, out_file)
    metadata = ci_metadata(
        {"pipeline": pipeline, "job": job, "requested_by": requested_by}
    )
    with _session(login_options) as (settings, client):
        minted = mint_vault_token(
            client,
            settings,
            tenant_id,
            ttl=ttl,
            num_uses=num_uses,
            wrap_ttl=wrap_ttl,
            metadata=metadata,
        )
        env_name = "VAULT_WRAPPING_TOKEN" if minted.wrapped else "VAULT_TOKEN"
        key = "wrapping_token" if minted.wrapped else "token"
        secret = output.Secret(key, env_name, minted.token)
        credential = output.Credential(facts=minted.facts(), secrets=(secret,))
        undo = functools.partial(_revoke_unwritten_token, client, minted.accessor)
        with _undone_if_unwritten(undo):
            output.emit(credential, output_format, stdout=sys.stdout, out_file=out_file)


@mint.command("graph-token")
@tenant_option
@format_option
@out_option
@login_options
def graph_token(
    tenant_id: str,
    output_format: str,
    out_file: Path | None,
    login_options: LoginOptions,
) -> None:
    """Get a fresh Microsoft Graph access token for one tenant.

    Admin-consent tenants get an app-only token; delegated tenants redeem the
    stored refresh token (concurrent mints for one tenant refresh once).

    \b
    Example:
      consentvault mint graph-token --tenant 7f3c...-... --format env --out g.env
    """
    from consentvault.minting.graph_token import mint_graph_token
    from consentvault.settings import load_settings

    output.check_destination(output_format, out_file)
    with _session(login_options) as (light, client):
        token = mint_graph_token(client, light, load_settings(), tenant_id)
    secret = output.Secret("access_token", "GRAPH_ACCESS_TOKEN", token.access_token)
    credential = output.Credential(facts=token.facts(), secrets=(secret,))
    note = f"a Graph token cannot be revoked; this one expires at {token.expires_at}"
    with _undone_if_unwritten(lambda: note):
        output.emit(credential, output_format, stdout=sys.stdout, out_file=out_file)


@mint.command("azure-sp")
@tenant_option
@format_option
@out_option
@login_options
def azure_sp(
    tenant_id: str,
    output_format: str,
    out_file: Path | None,
    login_options: LoginOptions,
) -> None:
    """Get a dynamic client secret from HashiCorp Vault's Azure secrets engine.

    OpenBao has no Azure secrets engine; there this exits with code 10.

    \b
    Example:
      consentvault mint azure-sp --tenant 7f3c...-... --format env
    """
    from consentvault.minting.azure_sp import mint_azure_sp

    output.check_destination(output_format, out_file)
    with _session(login_options) as (light, client):
        creds = mint_azure_sp(client, light, tenant_id)
        credential = output.Credential(
            facts=creds.facts(),
            secrets=(
                output.Secret(
                    "client_secret", "AZURE_CLIENT_SECRET", creds.client_secret
                ),
                output.Secret("client_id", "AZURE_CLIENT_ID", creds.client_id),
            ),
        )
        undo = functools.partial(_revoke_unwritten_lease, client, creds.lease_id)
        with _undone_if_unwritten(undo):
            output.emit(credential, output_format, stdout=sys.stdout, out_file=out_file)


@contextlib.contextmanager
def _undone_if_unwritten(undo: Callable[[], str]) -> Iterator[None]:
    """If the credential cannot be written out, undo the mint and say so.

    Nobody received it, so a live credential would only be a secret nobody
    knows about; `undo` revokes it (best effort) and describes the outcome.
    """
    try:
        yield
    except ConsentVaultError as exc:
        raise type(exc)(f"{exc}; {undo()}") from None


def _revoke_unwritten_token(client: VaultHTTP, accessor: str) -> str:
    try:
        client.write(
            "auth/token/revoke-accessor",
            {"accessor": accessor},
            f"revoke the unwritten token with accessor {accessor}",
        )
    except ConsentVaultError as exc:
        return (
            f"revoking the minted token (accessor {accessor}) failed ({exc}): run "
            f"`consentvault revoke --accessor {accessor}`"
        )
    return f"the minted token (accessor {accessor}) was revoked"


def _revoke_unwritten_lease(client: VaultHTTP, lease_id: str) -> str:
    try:
        client.write(
            "sys/leases/revoke", {"lease_id": lease_id}, f"revoke lease {lease_id}"
        )
    except ConsentVaultError as exc:
        return (
            f"revoking the minted secret (lease {lease_id}) failed ({exc}): run "
            f"`consentvault revoke --lease {lease_id}`"
        )
    return f"the minted secret (lease {lease_id}) was revoked"


def _not_blank(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    # An empty value must not count as "not given": the command would then
    # fall through to revoking everything.
    if value is not None and not value.strip():
        raise click.BadParameter("must not be empty", ctx=ctx, param=param)
    return value


@click.command()
@click.option(
    "--accessor", callback=_not_blank, help="Revoke the token with this accessor."
)
@click.option(
    "--lease",
    "lease_id",
    callback=_not_blank,
    help="Revoke this lease (e.g. an azure-sp).",
)
@click.option(
    "--tenant",
    "tenant_id",
    callback=_tenant,
    help="Revoke every credential of this tenant, at once.",
)
@click.option(
    "--all", "revoke_everything", is_flag=True, help="Revoke every minted token."
)
@click.option("--yes", is_flag=True, help="Do not ask before --all.")
@login_options
def revoke(
    accessor: str | None,
    lease_id: str | None,
    tenant_id: str | None,
    revoke_everything: bool,
    yes: bool,
    login_options: LoginOptions,
) -> None:
    """Revoke one credential, all of a tenant's, or every one (break glass).

    \b
    Examples:
      consentvault revoke --accessor 0x7dQ...
      consentvault revoke --tenant 7f3c...-...
      consentvault revoke --all --yes
    """
    from consentvault.minting import revocation

    chosen = [accessor, lease_id, tenant_id, True if revoke_everything else None]
    if sum(value is not None for value in chosen) != 1:
        raise click.UsageError(
            "give exactly one of --accessor, --lease, --tenant or --all"
        )
    if revoke_everything and not yes:
        click.confirm(
            "Revoke EVERY token minted from the token role, for every tenant?",
            abort=True,
        )
    with _session(login_options) as (settings, client):
        if accessor is not None:
            revocation.revoke_accessor(client, accessor)
            click.echo(f"revoked the token with accessor {accessor}")
        elif lease_id is not None:
            revocation.revoke_lease(client, lease_id)
            click.echo(f"revoked lease {lease_id}")
        elif tenant_id is not None:
            report = revocation.revoke_tenant(client, settings, tenant_id)
            if report.entity_id is None and not tenant_record_exists(
                client, settings, tenant_id
            ):
                raise errors.NotFound(
                    f"unknown tenant {tenant_id}: no record and no credential"
                )
            click.echo(report.summary())
        elif revoke_everything is True:
            revoked = revocation.revoke_all(client, settings)
            role = settings.token_role
            click.echo(f"revoked {len(revoked)} token(s) minted from role {role}")
        else:
            raise AssertionError("revoke: no target chosen")


@click.group()
def audit() -> None:
    """Check Vault's audit trail."""


@audit.command("verify")
@click.option(
    "--accessor",
    callback=_not_blank,
    help="Also prove this credential's use is logged.",
)
@login_options
def verify(accessor: str | None, login_options: LoginOptions) -> None:
    """Confirm the audit devices are on, the log is written, and a use is in it.

    \b
    Example:
      consentvault audit verify --accessor 0x7dQ...
    """
    from consentvault.minting.audit import verify_audit

    with _session(login_options) as (settings, client):
        report = verify_audit(client, settings, accessor)
    for line in report.lines():
        click.echo(line)
