"""`consentvault demo`: the whole story on the local sandbox, one line a step.

Sandbox up, two customers consent (one admin, one delegated) through the
stand-in's scripted administrator, a CI job logs in with AppRole and mints a
Vault token that reads its own tenant's record and is refused the other's,
mints a Graph token and calls Graph with it, an operator revokes the tenant
and the token stops working, and the audit log is shown to hold its use.
Secrets are never printed; accessors and tenant ids stand in for them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import click
import requests

from consentvault import errors
from consentvault.minting.light_settings import MintSettings, load_mint_settings
from consentvault.minting.vaulthttp import VaultHTTP
from consentvault.settings import Settings, load_settings

_PIPELINE = {"pipeline": "demo", "job": "1", "requested_by": "consentvault demo"}


@dataclass
class Story:
    """What the steps share: settings, the sandbox, identities, results."""

    settings: Settings
    light: MintSettings
    box: object = None
    root: object = None
    admin_tenant: str = ""
    delegated_tenant: str = ""
    policy_names: dict | None = None
    # Tenant id -> display name, so lines read "Contoso", not a GUID.
    tenant_names: dict = field(default_factory=dict)
    vault: VaultHTTP | None = None
    minter: VaultHTTP | None = None
    operator: VaultHTTP | None = None
    minted: object = None


class StepFailed(errors.ConsentVaultError):
    """A step's outcome was not what the story expects (for example no refusal)."""


@click.command()
@click.option("--down", is_flag=True, help="Stop the sandbox when the story ends.")
def demo(down: bool) -> None:
    """Run the whole story on the local sandbox (`make demo` runs this).

    \b
    Example:
      make synth && consentvault demo --down
    """
    settings = load_settings()
    story = Story(settings=settings, light=load_mint_settings())
    steps: list[tuple[str, Callable[[Story], str]]] = [
        ("sandbox", sandbox_up),
        ("consent (admin)", consent_admin),
        ("consent (delegated)", consent_delegated),
        ("CI login", ci_login),
        ("mint vault-token", mint_token),
        ("read own record", read_own_record),
        ("read other tenant", read_other_tenant),
        ("mint graph-token", mint_graph),
        ("revoke --tenant", revoke_tenant),
        ("audit verify", verify_audit),
    ]
    started = time.monotonic()
    try:
        for number, (name, step) in enumerate(steps, 1):
            try:
                line = step(story)
            except errors.ConsentVaultError as exc:
                click.echo(f"[{number:2}/{len(steps)}] {name}: FAILED", err=True)
                raise type(exc)(f"demo step '{name}': {exc}") from None
            click.echo(f"[{number:2}/{len(steps)}] {name}: {line}")
    finally:
        for client in (story.vault, story.minter, story.operator):
            if client is not None:
                client.close()
        if down and story.box is not None:
            story.box.stop()
    click.echo(
        f"Done in {time.monotonic() - started:.1f} s: two tenants consented, a "
        "tenant-bound Vault token and a Graph token minted and used, the tenant "
        "revoked at once, its use proven from the audit log."
    )
    if down:
        click.echo("The sandbox is stopped (`consentvault sandbox up` restarts it).")
    else:
        click.echo(
            "The sandbox keeps running; stop it with `consentvault sandbox down`."
        )


def sandbox_up(story: Story) -> str:
    from consentvault.sandbox.apply.engine import check_supported
    from consentvault.sandbox.runtime import Sandbox

    box = Sandbox(story.settings)
    story.box = box
    stacks = box.stacks()
    check_supported(stacks)
    box.start()
    report = box.apply(stacks=stacks, echo=lambda line: None)
    story.root = box.vault_client()
    ca_file = box.openbao.ca_file
    story.vault = VaultHTTP(
        box.openbao.address, ca_file=str(ca_file) if ca_file else None
    )
    story.policy_names = story.settings.policy_names()
    return (
        f"OpenBao at {box.openbao.address}, Entra stand-in at "
        f"{box.standin.authority}, stacks applied ({len(report.changes)} change(s))"
    )


def _customers(story: Story) -> list[dict]:
    from consentvault.sandbox.entra import ControlClient

    box = story.box
    control = ControlClient(
        box.standin.authority, box.paths.ca_file, box.standin.control_token()
    )
    return control.customer_tenants()


def _consent(story: Story, tenant: dict, mode: str) -> str:
    from consentvault.consent.callback import from_url
    from consentvault.consent.redemption import Redemption
    from consentvault.consent.urls import start_consent
    from consentvault.sandbox.entra import approve

    broker = story.vault.to_hvac(_token(story, "consent_broker"))
    link = start_consent(broker, story.settings, mode=mode, tenant=tenant["id"])
    redirect = approve(link.url, ca_file=story.box.paths.ca_file, tenant=tenant["id"])
    record = Redemption(broker, story.settings).redeem(from_url(redirect))
    story.tenant_names[record.tenant_id] = tenant["displayName"]
    kept = "refresh token stored encrypted" if record.secret else "no secret to keep"
    return (
        f"{tenant['displayName']} ({record.tenant_id}) granted "
        f"{', '.join(record.granted)}; {kept}"
    )


def consent_admin(story: Story) -> str:
    tenant = _customers(story)[0]
    story.admin_tenant = tenant["id"]
    return _consent(story, tenant, "admin")


def consent_delegated(story: Story) -> str:
    tenant = _customers(story)[1]
    story.delegated_tenant = tenant["id"]
    return _consent(story, tenant, "delegated")


def ci_login(story: Story) -> str:
    from consentvault.minting.login import LoginOptions, approle_login

    approle = story.settings.vault.approle
    role = f"auth/{approle.path}/role/{approle.role}"
    role_id = story.root.read(f"{role}/role-id")["data"]["role_id"]
    wrapped = story.root.write_data(f"{role}/secret-id", wrap_ttl="60s")["wrap_info"]
    options = LoginOptions(
        method="approle", role_id=role_id, wrapped_secret_id=wrapped["token"]
    )
    # The sandbox's own address, whatever VAULT_ADDR the caller's shell has.
    story.minter = story.vault.with_token(
        approle_login(story.vault, story.light, options)
    )
    story.operator = story.vault.with_token(_token(story, "operator"))
    return (
        f"AppRole {approle.role}: wrapped secret id (accessor {wrapped['accessor']}) "
        "checked for its creation path, unwrapped once, logged in"
    )


def mint_token(story: Story) -> str:
    from consentvault.minting.vault_token import mint_vault_token

    story.minted = mint_vault_token(
        story.minter, story.light, story.admin_tenant, ttl="10m", metadata=_PIPELINE
    )
    return (
        f"for {_name(story, story.admin_tenant)}: accessor {story.minted.accessor}, "
        f"expires {story.minted.expires_at}, not renewable"
    )


def read_own_record(story: Story) -> str:
    path = story.light.tenant_path(story.admin_tenant)
    with story.minter.with_token(story.minted.token) as reader:
        data = reader.read(path, f"read {path}")["data"]["data"]
    return (
        f"{_name(story, story.admin_tenant)}'s record read with it "
        f"(mode {data['mode']}, status {data['status']})"
    )


def read_other_tenant(story: Story) -> str:
    path = story.light.tenant_path(story.delegated_tenant)
    with story.minter.with_token(story.minted.token) as reader:
        try:
            reader.read(path, f"read {path}")
        except errors.PermissionDenied:
            return (
                f"{_name(story, story.delegated_tenant)}'s record refused (403): "
                f"the token is bound to {_name(story, story.admin_tenant)}"
            )
    raise StepFailed(f"the token minted for {story.admin_tenant} could read {path}")


def mint_graph(story: Story) -> str:
    from consentvault.minting.graph_token import mint_graph_token

    token = mint_graph_token(
        story.minter, story.light, story.settings, story.delegated_tenant
    )
    reply = requests.get(
        f"{story.settings.entra.graph_url}/v1.0/me",
        headers={"Authorization": f"Bearer {token.access_token}"},
        verify=str(story.box.paths.ca_file),
        timeout=10,
    )
    if reply.status_code != 200:
        raise StepFailed(f"Graph /me answered HTTP {reply.status_code}")
    return (
        f"for {_name(story, story.delegated_tenant)} (refresh token rotated and "
        f"stored again); Graph /me answered {reply.json().get('displayName')!r}"
    )


def revoke_tenant(story: Story) -> str:
    from consentvault.minting.revocation import revoke_tenant as revoke

    report = revoke(story.operator, story.light, story.admin_tenant)
    path = story.light.tenant_path(story.admin_tenant)
    with story.minter.with_token(story.minted.token) as reader:
        try:
            reader.read(path, f"read {path}")
        except errors.PermissionDenied:
            return (
                f"{_name(story, story.admin_tenant)}: {len(report.revoked)} token(s) "
                f"stopped at once and revoked; accessor {story.minted.accessor} "
                "is refused"
            )
    raise StepFailed(f"accessor {story.minted.accessor} still works after revocation")


def verify_audit(story: Story) -> str:
    from consentvault.minting.audit import verify_audit as verify

    report = verify(story.operator, story.light, story.minted.accessor)
    return (
        f"devices on, log being written; accessor {story.minted.accessor} found in "
        f"{report.requests} request(s) by its HMAC"
    )


def _token(story: Story, identity: str) -> str:
    policy = story.policy_names[identity]
    reply = story.root.auth.token.create(policies=[policy], ttl="30m")
    return reply["auth"]["client_token"]


def _name(story: Story, tenant_id: str) -> str:
    return story.tenant_names.get(tenant_id, tenant_id)
