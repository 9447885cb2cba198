"""The Entra stand-in: the identity platform v2.0 and a little Graph, on loopback.

    with running_standin(folder, control_token="...") as standin:
        app = standin.control.register_application(...)
        redirect = approve(consent_url, ca_file=standin.ca_file, tenant=tid)

Run it as a process with `python -m consentvault.sandbox.entra --dir D ...`.
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
