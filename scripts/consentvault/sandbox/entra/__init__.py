"""The Entra stand-in: the identity platform v2.0 and a little Graph, on loopback.

In-process (tests)::

    with running_standin(folder, control_token="...") as standin:
        app = standin.control.register_application(name, [redirect_uri], ...)
        secret = standin.control.add_password(app["id"])["secretText"]
        redirect = approve(consent_url, ca_file=standin.ca_file, tenant=tid)

As a process: `python -m consentvault.sandbox.entra --dir D --port P
--control-token-file F [--pki-dir K] [--pid-file X] [--customer NAME ...]`.

What it serves (`{tenant}` is a tenant GUID, its `.onmicrosoft.com` domain,
`organizations` or `common`):

    /{tenant}/v2.0/.well-known/openid-configuration  discovery
    /{tenant}/discovery/v2.0/keys                     JWKS
    /{tenant}/oauth2/v2.0/authorize                   sign-in page and decision
    /{tenant}/v2.0/adminconsent                       admin consent page, decision
    /{tenant}/oauth2/v2.0/token                       code, refresh, client creds
    /graph/v1.0/organization, /users, /me             reads with a Graph token
    /graph/v1.0/applications/...                      the registry: addPassword,
        removePassword, federatedIdentityCredentials (provisioner or control)
    /graph/v1.0/servicePrincipals[/{id}]              `$filter=appId eq '...'`
    /ci/.well-known/openid-configuration, /ci/keys    the CI OIDC issuer
    /_control/...                                     test control (`control.py`)

The built-in provisioner app's credential is in `<dir>/provisioner.json`.
"""

from consentvault.sandbox.entra.client import (
    Callback,
    ControlClient,
    StandinError,
    approve,
    sign_in,
)
from consentvault.sandbox.entra.directory import TenantSpec
from consentvault.sandbox.entra.server import RunningStandin, running_standin

__all__ = [
    "Callback",
    "ControlClient",
    "RunningStandin",
    "StandinError",
    "TenantSpec",
    "approve",
    "running_standin",
    "sign_in",
]
