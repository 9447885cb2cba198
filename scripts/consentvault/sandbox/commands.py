"""`consentvault sandbox up | down | status | env | init-env | approve | reset`."""

from __future__ import annotations

import shlex
import shutil
import sys
from urllib.parse import urlsplit

import click
import hvac.exceptions

from consentvault.errors import (
    ConsentError,
    IdentityPlatformUnavailable,
    NotFound,
    UsageError,
    VaultUnavailable,
)
from consentvault.sandbox.apply.engine import check_supported
from consentvault.sandbox.environments import named_environment
from consentvault.sandbox.paths import SANDBOX_DIR_VARIABLE
from consentvault.sandbox.runtime import DEPLOY_NOTE, Sandbox
from consentvault.settings import load_settings
from consentvault.vaultclient import vault_errors


def _sandbox() -> Sandbox:
    return Sandbox(load_settings())


@click.group()
def sandbox() -> None:
    """Run OpenBao and the Entra stand-in on this machine, provisioned offline.

    The sandbox lives in .sandbox/ (or $CONSENTVAULT_SANDBOX_DIR) and is set up
    from the synthesized stacks in cdktf.out/ (`make synth`).
    """


@sandbox.command()
def up() -> None:
    """Start the sandbox and apply the synthesized stacks to it.

    \b
    Example:
        make synth && consentvault sandbox up
    """
    box = _sandbox()
    # A missing, stale or unsupported synth is refused before anything starts.
    stacks = box.stacks()
    check_supported(stacks)
    started = box.start()
    if started:
        click.echo(f"started: {', '.join(started)}")
    if box.unseal():
        click.echo("openbao was sealed: restarted it, which unsealed it")
    with vault_errors("apply the stacks to the sandbox"):
        report = box.apply(stacks=stacks, echo=click.echo)
    if not started and not report.changes:
        click.echo("already running, 0 changes")
    else:
        click.echo(f"{len(report.changes)} change(s) applied")
    click.echo(DEPLOY_NOTE)
    _echo_processes(box)
    click.echo('Use it from a shell: eval "$(consentvault sandbox env)"')


@sandbox.command()
def down() -> None:
    """Stop OpenBao and the stand-in; their data stays for the next `up`."""
    stopped = _sandbox().stop()
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "not running")


@sandbox.command()
def status() -> None:
    """Show each process, whether OpenBao is unsealed, tenants and drift.

    Exits 4 when OpenBao is not running, not answering or sealed.
    """
    box = _sandbox()
    _echo_processes(box)
    running = box.openbao.pid() is not None
    health = box.openbao.health() if running else None
    if health is not None:
        click.echo(f"openbao sealed: {'yes' if health.sealed else 'no'}")
        if not health.sealed:
            click.echo(f"tenants: {_count_tenants(box)}")
    _echo_stacks(box)
    if not running:
        raise VaultUnavailable("openbao is not running: run `consentvault sandbox up`")
    if health is None:
        raise VaultUnavailable(f"openbao does not answer; see {box.openbao.log_file}")
    if health.sealed:
        raise VaultUnavailable(
            "openbao is sealed: `consentvault sandbox up` restarts it, which unseals it"
        )


def _echo_stacks(box: Sandbox) -> None:
    applied, synth = box.applied_digest(), box.synth_digest()
    recorded = box.recorded_resources()
    if applied is None and recorded:
        click.echo(
            f"stacks: partly applied ({recorded} resource(s) recorded; the last "
            "apply did not finish); run `consentvault sandbox up`"
        )
    elif applied is None:
        click.echo("stacks: never applied")
    elif synth is None:
        click.echo(
            f"stacks: applied; no synth of environment {box.settings.name!r} to "
            f"compare with (run `{box.synth_command}`)"
        )
    else:
        verdict = (
            "match the current synth"
            if applied == synth
            else "differ from the current synth; run `consentvault sandbox up`"
        )
        click.echo(f"stacks: applied {applied[:12]}, {verdict}")


@sandbox.command()
def env() -> None:
    """Print shell lines that point Vault tools and the commands at the sandbox.

    This prints the sandbox's root token (VAULT_TOKEN): only ask for it where
    that is fine. The environment is exported as CONSENTVAULT_ENV=NAME for
    environments/NAME.toml (and CONSENTVAULT_ENV_FILE unset), as
    CONSENTVAULT_ENV_FILE for a file anywhere else.

    \b
    Example:
        eval "$(consentvault sandbox env)"
    """
    box = _sandbox()
    lines = {
        "VAULT_ADDR": box.openbao.address,
        "VAULT_TOKEN": box.openbao.root_token(),
        SANDBOX_DIR_VARIABLE: str(box.paths.root),
    }
    if box.openbao.ca_file:
        lines["VAULT_CACERT"] = str(box.openbao.ca_file)
    # A name, not a path, for environments/NAME.toml: CONSENTVAULT_ENV_FILE
    # beats CONSENTVAULT_ENV, so exporting it would pin every later command
    # and `make synth ENV=...` to this environment.
    name = named_environment(box.settings)
    if name is not None:
        lines["CONSENTVAULT_ENV"] = name
    else:
        lines["CONSENTVAULT_ENV_FILE"] = str(box.settings.source)
    for variable, value in lines.items():
        click.echo(f"export {variable}={shlex.quote(value)}")
    if name is not None:
        # An earlier eval's file would still win over the name.
        click.echo("unset CONSENTVAULT_ENV_FILE")


@sandbox.command("init-env")
@click.option(
    "--name", required=True, help="The new environment: environments/NAME.toml."
)
@click.option(
    "--port-base",
    type=int,
    required=True,
    help="OpenBao on this port, the stand-in on +1, the consent callback on +2, "
    "OpenBao's cluster listener on +3.",
)
@click.option("--replace", is_flag=True, help="Overwrite an existing file.")
def init_env(name: str, port_base: int, replace: bool) -> None:
    """Write an environment for a second sandbox beside the default one.

    It is environments/local.toml with the three ports moved to PORT_BASE and
    every sandbox path in .sandbox-NAME/, the folder the sandbox commands use
    for that environment (unless CONSENTVAULT_SANDBOX_DIR says otherwise).

    \b
    Example:
        consentvault sandbox init-env --name second --port-base 28200
        CONSENTVAULT_ENV=second make demo
    """
    from consentvault.sandbox.environments import write_environment

    target = write_environment(name, port_base, replace=replace)
    click.echo(f"wrote {target}")
    click.echo(f"Use it with CONSENTVAULT_ENV={name} (e.g. `make demo ENV={name}`)")


@sandbox.command()
@click.argument("url")
@click.option(
    "--tenant",
    help="The customer tenant's id, display name or domain (default: the first).",
)
@click.option("--decline", is_flag=True, help="Cancel instead of consenting.")
def approve(url: str, tenant: str | None, decline: bool) -> None:
    """Play the stand-in's administrator on a consent URL; print the callback.

    URL is what `consentvault consent url` printed ('-': read it from stdin).
    The callback URL printed on stdout carries the authorization code: it is
    printed because this command exists to hand it on, to `consent redeem
    --callback-url -`, and is good for one redemption within minutes.

    \b
    Example:
        consentvault consent url --mode delegated \\
          | consentvault sandbox approve - \\
          | consentvault consent redeem --callback-url -
    """
    from consentvault.sandbox.entra import ControlClient, StandinError
    from consentvault.sandbox.entra import approve as sign_in_and_decide

    if url == "-":
        url = sys.stdin.readline().strip()
    if not url:
        raise UsageError("URL -: nothing on stdin")
    box = _sandbox()
    _refuse_foreign_url(url, box.standin.authority)
    if box.standin.pid() is None:
        raise IdentityPlatformUnavailable(
            "the Entra stand-in is not running: run `consentvault sandbox up`"
        )
    control = ControlClient(
        box.standin.authority, box.paths.ca_file, box.standin.control_token()
    )
    tenant_id = _customer_tenant(control.customer_tenants(), tenant)
    try:
        callback = sign_in_and_decide(
            url, ca_file=box.paths.ca_file, tenant=tenant_id, decline=decline
        )
    except StandinError as exc:
        raise ConsentError(f"the stand-in refused: {exc}") from None
    click.echo(callback)


def _refuse_foreign_url(url: str, authority: str) -> None:
    """Only the stand-in's own URLs are approved: nothing else is ever fetched."""
    given, own = urlsplit(url), urlsplit(authority)
    try:
        same = (given.scheme, given.hostname, given.port) == (
            own.scheme,
            own.hostname,
            own.port,
        )
    except ValueError:
        same = False
    if not same:
        # The URL itself is not repeated: it carries the flow's state.
        raise UsageError(
            f"URL is not a consent URL of the sandbox's stand-in ({authority}/...); "
            "pass what `consentvault consent url` printed for this environment"
        )


def _customer_tenant(tenants: list[dict], wanted: str | None) -> str:
    if not tenants:
        raise NotFound("the stand-in has no customer tenants")
    if wanted is None:
        return tenants[0]["id"]
    key = wanted.strip().lower()
    for tenant in tenants:
        names = {tenant["id"], tenant["displayName"].lower(), tenant["domain"]}
        if key in names or f"{key}.onmicrosoft.com" == tenant["domain"]:
            return tenant["id"]
    known = ", ".join(tenant["displayName"] for tenant in tenants)
    raise NotFound(f"no customer tenant {wanted!r} in the stand-in (known: {known})")


@sandbox.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def reset(yes: bool) -> None:
    """Stop the sandbox and delete its folder: data, keys, tokens, state."""
    box = _sandbox()
    root = box.paths.root
    if not root.exists():
        click.echo(f"nothing to remove: {root} does not exist")
        return
    click.echo(
        f"This removes {root}: OpenBao's data, seal key and root token, the "
        "stand-in's tenants and apps, the local CA and the apply state."
    )
    if not yes:
        # Declined: "Aborted." and exit 1, as `tenant remove` and `revoke --all`.
        click.confirm("Remove it?", default=False, abort=True)
    box.stop()
    shutil.rmtree(root)
    click.echo(f"removed {root}")


def _echo_processes(box: Sandbox) -> None:
    for process in box.processes():
        state = f"running, pid {process.pid}" if process.pid else "stopped"
        click.echo(f"{process.name}: {process.address} ({state})")


def _count_tenants(box: Sandbox) -> int:
    vault = box.settings.vault
    try:
        listed = box.vault_client().secrets.kv.v2.list_secrets(
            path=vault.tenants_prefix, mount_point=vault.kv_mount
        )
    except hvac.exceptions.InvalidPath:
        return 0
    return len(listed["data"]["keys"])
