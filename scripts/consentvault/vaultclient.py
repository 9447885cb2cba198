"""An hvac client for the caller's identity, and hvac errors in our terms.

The client honours the same environment as the vault CLI: VAULT_ADDR,
VAULT_TOKEN (else `~/.vault-token`), VAULT_NAMESPACE and VAULT_CACERT. Where
they are unset, the environment's settings supply the address and CA bundle.
TLS verification is always on: VAULT_SKIP_VERIFY is refused, not honoured.

Every hvac or connection failure is translated here, once, into the error tree
of `consentvault.errors`; callers wrap their Vault calls in `vault_errors()`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import hvac
import hvac.exceptions
import requests

from consentvault import errors
from consentvault.settings import Settings
from consentvault.vaultenv import read_environment
from consentvault.vaultenv import resolve_ca_file as resolve_ca_file

log = logging.getLogger(__name__)

# hvac exception class -> the error we raise for it.
_TRANSLATIONS: dict[
    type[hvac.exceptions.VaultError], type[errors.ConsentVaultError]
] = {
    hvac.exceptions.InvalidRequest: errors.UsageError,
    hvac.exceptions.ParamValidationError: errors.UsageError,
    hvac.exceptions.Unauthorized: errors.PermissionDenied,
    hvac.exceptions.Forbidden: errors.PermissionDenied,
    hvac.exceptions.InvalidPath: errors.NotFound,
    hvac.exceptions.PreconditionFailed: errors.Conflict,
    hvac.exceptions.RateLimitExceeded: errors.VaultUnavailable,
    hvac.exceptions.InternalServerError: errors.VaultUnavailable,
    hvac.exceptions.VaultNotInitialized: errors.VaultUnavailable,
    hvac.exceptions.BadGateway: errors.VaultUnavailable,
    hvac.exceptions.VaultDown: errors.VaultUnavailable,
    hvac.exceptions.UnsupportedOperation: errors.Unsupported,
    hvac.exceptions.UnexpectedError: errors.ConsentVaultError,
    hvac.exceptions.VaultError: errors.ConsentVaultError,
}


def translate(exc: Exception, action: str) -> errors.ConsentVaultError:
    """Our error for an hvac or connection failure while doing `action`."""
    if isinstance(exc, hvac.exceptions.VaultError):
        reason = ", ".join(_plain(e) for e in exc.errors or []) or type(exc).__name__
        if "check-and-set" in reason:
            return errors.Conflict(f"{action}: the record changed meanwhile ({reason})")
        error_class = _TRANSLATIONS.get(type(exc), errors.ConsentVaultError)
        where = f" ({exc.method} {_path_of(exc.url)})" if exc.method else ""
        return error_class(f"{action}: {reason}{where}")
    if isinstance(exc, requests.exceptions.SSLError):
        return errors.VaultUnavailable(
            f"{action}: TLS verification failed; set VAULT_CACERT to the server's CA"
        )
    if isinstance(exc, requests.exceptions.RequestException):
        return errors.VaultUnavailable(
            f"{action}: Vault is unreachable ({type(exc).__name__})"
        )
    raise TypeError(f"not a Vault failure: {type(exc).__name__}")


@contextlib.contextmanager
def vault_errors(action: str) -> Iterator[None]:
    """Turn any hvac or connection failure inside the block into our error."""
    try:
        yield
    except (hvac.exceptions.VaultError, requests.exceptions.RequestException) as exc:
        raise translate(exc, action) from None


def _plain(message: str) -> str:
    """Vault's "1 error occurred:\n\t* permission denied\n\n" as one line."""
    items = [
        line.strip().lstrip("*").strip()
        for line in str(message).splitlines()
        if line.strip() and not line.strip().endswith("occurred:")
    ]
    return "; ".join(items)


def _path_of(url: str | None) -> str:
    """The API path of a request URL, without host or query string."""
    if not url:
        return ""
    path = url.split("://", 1)[-1]
    path = path[path.find("/") :] if "/" in path else "/"
    return path.split("?", 1)[0]


def client_from_environment(settings: Settings | None = None) -> hvac.Client:
    """An hvac client for the caller, configured as the vault CLI would be."""
    found = read_environment(
        settings.vault.address if settings else None,
        settings.vault.ca_file if settings else None,
    )
    if not found.token:
        raise errors.PermissionDenied(
            "no Vault token: set VAULT_TOKEN or log in (vault login)"
        )
    if found.ca_file and not Path(found.ca_file).is_file():
        # requests would fail later with an OSError traceback.
        raise errors.ConfigError(
            f"the Vault CA bundle {found.ca_file} (VAULT_CACERT or vault.ca_file) "
            "is not a readable file"
        )
    return hvac.Client(
        url=found.address,
        token=found.token,
        namespace=found.namespace,
        verify=found.ca_file or True,
    )
