"""The `consent` commands: a consent URL, the callback server, redemption."""

from __future__ import annotations

import json
import sys
from urllib.parse import urlsplit

import click
from click.core import ParameterSource

from consentvault import errors
from consentvault.records import TenantRecord
from consentvault.settings import load_settings
from consentvault.vaultclient import client_from_environment

FORMATS = click.Choice(["text", "json"])
FORMAT_HELP = "text for people, json for scripts."


@click.group()
def consent() -> None:
    """Send a customer's admin to consent, and store what the consent yields.

    The app's client id and secret are read from Vault (the stacks put them
    there); the caller's Vault token (VAULT_TOKEN) needs the consent-broker
    policy.
    """


@consent.command()
@click.option(
    "--mode",
    type=click.Choice(["admin", "delegated"]),
    default="admin",
    show_default=True,
    help="admin: application permissions; delegated: auth-code flow with PKCE.",
)
@click.option("--tenant", help="Send the admin to this tenant (a GUID).")
@click.option("--redirect-uri", help="One of the app's redirect URIs (default: first).")
@click.option(
    "--format", "output_format", type=FORMATS, default="text", help=FORMAT_HELP
)
def url(
    mode: str, tenant: str | None, redirect_uri: str | None, output_format: str
) -> None:
    """Print the URL to send a customer's administrator to.

    The flow's state is stored in Vault, single use, and expires after
    vault.consent_state_ttl_seconds, so any process may take the callback.

    \b
    Example:
      consentvault consent url --mode delegated
    """
    from consentvault.consent.urls import start_consent

    settings = load_settings()
    link = start_consent(
        client_from_environment(settings),
        settings,
        mode=mode,  # type: ignore[arg-type]
        tenant=tenant,
        redirect_uri=redirect_uri,
    )
    if output_format == "json":
        click.echo(
            json.dumps(
                {"url": link.url, "mode": link.mode, "expires_at": link.expires_at}
            )
        )
    else:
        click.echo(link.url)


@consent.command()
@click.option(
    "--callback-url",
    envvar="CONSENTVAULT_CALLBACK_URL",
    help="'-': read the whole redirect URL the browser reached from stdin.",
)
@click.option(
    "--state",
    envvar="CONSENTVAULT_CONSENT_STATE",
    help="'-': read the callback's state from stdin.",
)
@click.option(
    "--code",
    envvar="CONSENTVAULT_CONSENT_CODE",
    help="'-': read the authorization code from stdin.",
)
@click.option("--admin-consent", help="The admin-consent callback's admin_consent.")
@click.option("--tenant", help="The admin-consent callback's tenant.")
@click.option("--error", "error_code", help="The callback's error, if it carried one.")
@click.option("--error-description", help="The callback's error_description.")
@click.option(
    "--format", "output_format", type=FORMATS, default="text", help=FORMAT_HELP
)
def redeem(
    callback_url: str | None,
    state: str | None,
    code: str | None,
    admin_consent: str | None,
    tenant: str | None,
    error_code: str | None,
    error_description: str | None,
    output_format: str,
) -> None:
    """Redeem one consent callback and store the tenant's record.

    Give the whole callback URL, or its parameters one by one. The callback
    URL, state and code are secrets, so they are never taken from the command
    line (where other users and the shell history see them): give '-' to read
    one of them from stdin, or set CONSENTVAULT_CALLBACK_URL,
    CONSENTVAULT_CONSENT_STATE or CONSENTVAULT_CONSENT_CODE.

    \b
    Example:
      consentvault consent redeem --callback-url - < callback.txt
      CONSENTVAULT_CONSENT_STATE=... consentvault consent redeem \\
        --admin-consent True --tenant T
    """
    from consentvault.consent import callback
    from consentvault.consent.redemption import Redemption

    secrets = _secret_options(click.get_current_context())
    if callback_url and any((state, code, admin_consent, tenant, error_code)):
        raise errors.UsageError(
            "give either --callback-url or the parameters, not both"
        )
    if callback_url:
        parsed = callback.from_url(secrets["callback_url"])
    else:
        params = {
            "state": secrets["state"],
            "code": secrets["code"],
            "admin_consent": admin_consent,
            "tenant": tenant,
            "error": error_code,
            "error_description": error_description,
        }
        parsed = callback.from_params(
            {k: v for k, v in params.items() if v is not None}
        )

    settings = load_settings()
    record = Redemption(client_from_environment(settings), settings).redeem(parsed)
    _echo_record(record, output_format)


@consent.command()
@click.option(
    "--cert",
    "cert_file",
    type=click.Path(dir_okay=False, exists=True),
    help="TLS certificate (default: the sandbox's server certificate).",
)
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, exists=True),
    help="TLS private key (default: the sandbox's server key).",
)
@click.option(
    "--once", is_flag=True, help="Stop after one callback; exit with its code."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=0.0,
    help="With --once: give up after this many seconds (0: wait).",
)
def serve(
    cert_file: str | None, key_file: str | None, once: bool, timeout: float
) -> None:
    """Take consent callbacks on the configured redirect URI.

    Each callback is redeemed and stored; the browser gets a short page saying
    what happened. With --once, the exit code is that callback's.

    \b
    Example:
      consentvault consent serve --once --timeout 600
    """
    from consentvault.consent.redemption import Redemption
    from consentvault.consent.server import (
        CallbackApp,
        make_callback_server,
        serve_callbacks,
    )
    from consentvault.consent.urls import redirect_uri_for

    settings = load_settings()
    redirect_uri = redirect_uri_for(settings)
    if urlsplit(redirect_uri).scheme == "https" and not (cert_file and key_file):
        cert_file, key_file = sandbox_certificate(
            redirect_uri, cert_file, key_file, environment=settings.name
        )
    redemption = Redemption(client_from_environment(settings), settings)
    app = CallbackApp(redemption.redeem, urlsplit(redirect_uri).path)
    server = make_callback_server(
        app,
        redirect_uri,
        cert_file=cert_file,
        key_file=key_file,
        environment_file=settings.source,
    )
    click.echo(f"Waiting for consent callbacks on {redirect_uri}", err=True)
    outcome = serve_callbacks(server, app, once=once, timeout=timeout)
    if once and outcome is None:
        raise errors.ConsentError(f"no callback arrived within {timeout:g} s")
    if outcome is not None:
        if outcome.error is not None:
            raise outcome.error
        click.echo(outcome.describe())


def sandbox_certificate(
    redirect_uri: str,
    cert_file: str | None,
    key_file: str | None,
    *,
    environment: str | None = None,
) -> tuple[str, str]:
    """The sandbox's server certificate, for a loopback redirect URI only.

    Its CA is the sandbox's own, which no customer's browser trusts: for any
    other host the certificate must be given.
    """
    from consentvault.sandbox.paths import SandboxPaths
    from consentvault.vaultenv import is_loopback

    host = urlsplit(redirect_uri).hostname or ""
    if not is_loopback(host):
        raise errors.ConfigError(
            f"the redirect URI {redirect_uri} is https on {host}, not loopback: "
            "pass --cert and --key for that host (the sandbox's certificate "
            "serves loopback only)"
        )
    pki = SandboxPaths.from_environment(environment=environment).pki
    cert, key = pki / "server.pem", pki / "server-key.pem"
    if not (cert.is_file() and key.is_file()):
        raise errors.ConfigError(
            "no TLS certificate: pass --cert and --key, or start the sandbox"
        )
    return cert_file or str(cert), key_file or str(key)


# Secret options of `redeem` -> the environment variable that may carry each.
_SECRET_OPTIONS = {
    "callback_url": "CONSENTVAULT_CALLBACK_URL",
    "state": "CONSENTVAULT_CONSENT_STATE",
    "code": "CONSENTVAULT_CONSENT_CODE",
}


def _secret_options(ctx: click.Context) -> dict[str, str | None]:
    """The secret options' values, each from stdin ('-') or its variable.

    A literal value on the command line is refused: it would show in
    /proc/<pid>/cmdline and in the shell history.
    """
    values: dict[str, str | None] = {}
    from_stdin = [name for name in _SECRET_OPTIONS if ctx.params[name] == "-"]
    if len(from_stdin) > 1:
        raise errors.UsageError(
            "only one of --callback-url, --state and --code can read stdin ('-')"
        )
    for name, variable in _SECRET_OPTIONS.items():
        value = ctx.params[name]
        option = "--" + name.replace("_", "-")
        literal = ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
        if value == "-":
            value = _read_stdin(option)
        elif value is not None and literal:
            raise errors.UsageError(
                f"{option} takes no value on the command line (other users and "
                f"the shell history would see it): pass '{option} -' and give "
                f"it on stdin, or set {variable}"
            )
        values[name] = value or None
    return values


def _read_stdin(option: str) -> str:
    text = sys.stdin.read(64 * 1024).strip()
    if not text:
        raise errors.UsageError(f"{option} -: nothing on stdin")
    return text


def _echo_record(record: TenantRecord, output_format: str) -> None:
    if output_format == "json":
        click.echo(json.dumps(record.metadata(), sort_keys=True))
        return
    granted = ", ".join(record.granted) or "-"
    click.echo(
        f"tenant {record.tenant_id}: {record.mode} consent stored "
        f"(status {record.status}, version {record.version}, granted: {granted})"
    )
