"""The caller's Vault environment, read in one place for both Vault clients.

The hvac client (`vaultclient`) and the light one (`minting.vaulthttp`) must
find Vault the same way, so both read it here, as the vault CLI would:
VAULT_ADDR, VAULT_TOKEN (else `~/.vault-token`), VAULT_NAMESPACE and
VAULT_CACERT, with the environment's settings as the fallback for the address
and CA bundle. This module imports nothing heavy (no hvac, requests or
pydantic), so `mint vault-token` stays fast.

Two choices are enforced here for both clients: TLS verification is never
turned off (VAULT_SKIP_VERIFY is refused), and plain `http://` is accepted
only for a loopback address.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from consentvault.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
_TRUE = {"1", "true", "yes"}


@dataclass(frozen=True)
class VaultEnvironment:
    address: str
    namespace: str | None
    ca_file: str | None
    token: str | None = field(repr=False)


def read_environment(
    address: str | None = None, ca_file: str | None = None
) -> VaultEnvironment:
    """Where Vault is and who the caller is; `address`/`ca_file` from settings.

    A relative `ca_file` from settings is taken from the project root;
    VAULT_CACERT is used as given.
    """
    if os.environ.get("VAULT_SKIP_VERIFY", "").strip().lower() in _TRUE:
        raise ConfigError(
            "VAULT_SKIP_VERIFY is set: consentvault never disables TLS verification; "
            "set VAULT_CACERT to the server's CA bundle instead"
        )
    chosen = os.environ.get("VAULT_ADDR", "").strip() or address
    if not chosen:
        raise ConfigError("no Vault address: set VAULT_ADDR")
    check_address(chosen)
    return VaultEnvironment(
        address=chosen,
        namespace=os.environ.get("VAULT_NAMESPACE", "").strip() or None,
        ca_file=os.environ.get("VAULT_CACERT", "").strip() or resolve_ca_file(ca_file),
        token=token_from_environment(),
    )


def token_from_environment() -> str | None:
    """VAULT_TOKEN, else the vault CLI's token file, else None.

    A VAULT_TOKEN of only whitespace counts as unset, as an empty one does.
    """
    token = os.environ.get("VAULT_TOKEN", "").strip()
    if token:
        return token
    with contextlib.suppress(OSError):
        return (Path.home() / ".vault-token").read_text(
            encoding="utf-8"
        ).strip() or None
    return None


def check_address(address: str) -> str:
    """`address` if it is https, or http on a loopback host; else `ConfigError`.

    A token sent over plain http to another machine can be read on the way.
    """
    parts = urlsplit(address.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"Vault address {address!r} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"Vault address {address!r} is plain http to a host other than "
            "loopback: the token would cross the network in clear; use https"
        )
    return address


def resolve_ca_file(value: str | None) -> str | None:
    """A CA bundle path from settings; relative paths start at the project root."""
    if not value:
        return None
    path = Path(value)
    return str(path if path.is_absolute() else PROJECT_ROOT / path)


def is_loopback(host: str) -> bool:
    """Whether `host` is localhost or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
