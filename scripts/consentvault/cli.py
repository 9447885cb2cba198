"""The `consentvault` command: a click group whose subcommands load lazily.

CI jobs call `consentvault mint` many times a day, so starting the process must
not import what other subcommands need (msal, the sandbox, Werkzeug). Each
subcommand lives in its own module and is imported only when it is invoked or
when help lists it.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from consentvault.errors import ConsentVaultError

# name -> "module:attribute" of a click command or group.
SUBCOMMANDS = {
    "sandbox": "consentvault.sandbox.commands:sandbox",
    "consent": "consentvault.consent.commands:consent",
    "tenant": "consentvault.tenants:tenant",
    "mint": "consentvault.minting.commands:mint",
    "revoke": "consentvault.minting.commands:revoke",
    "audit": "consentvault.minting.commands:audit",
    "demo": "consentvault.demo:demo",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup)
@click.option(
    "-v", "--verbose", count=True, help="Log each Vault and Entra call (-vv: debug)."
)
@click.version_option(package_name="consentvault")
def cli(verbose: int) -> None:
    """Keep Microsoft 365 consent in Vault; hand out short-lived credentials.

    The environment comes from CONSENTVAULT_ENV (a name under environments/,
    default local) or CONSENTVAULT_ENV_FILE (a path to a TOML file).
    """
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    # urllib3 at DEBUG logs every request line with its query string, which
    # carries a consent flow's state and PKCE challenge: never below INFO.
    logging.getLogger("urllib3").setLevel(max(level, logging.INFO))


def main() -> None:
    """Run the command; the one place that turns our errors into exit codes."""
    try:
        cli.main(standalone_mode=False)
    except ConsentVaultError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C into Abort too; a declined prompt has no such cause.
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(0)
