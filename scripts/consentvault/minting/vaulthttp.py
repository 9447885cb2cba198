"""A small Vault HTTP client for the minting hot path, on `http.client`.

hvac pulls in requests and every API module (about 0.2 s of imports), which is
more than a whole `bao token create`. Minting needs a handful of endpoints, so
this client speaks the HTTP API directly: one keep-alive connection, the
caller's token in a header (never in a URL or message), TLS always verified,
and Vault's answers translated into `consentvault.errors` in one place.

Not thread safe: give each thread its own client.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
from typing import Any
from urllib.parse import urlsplit

from consentvault import errors
from consentvault.vaultenv import read_environment

log = logging.getLogger(__name__)

# Status -> error class, as hvac's table maps them (see vaultclient.py).
_STATUS_ERRORS: dict[int, type[errors.ConsentVaultError]] = {
    400: errors.UsageError,
    401: errors.PermissionDenied,
    403: errors.PermissionDenied,
    404: errors.NotFound,
    405: errors.Unsupported,
    412: errors.Conflict,
    429: errors.VaultUnavailable,
    500: errors.VaultUnavailable,
    502: errors.VaultUnavailable,
    501: errors.VaultUnavailable,  # not initialised
    503: errors.VaultUnavailable,
}


def error_for(status: int, reasons: list[str], action: str, where: str) -> Exception:
    """Our error for a Vault reply with `status` and its `errors` list."""
    reason = "; ".join(r.strip() for r in reasons if r) or f"HTTP {status}"
    if "check-and-set" in reason:
        return errors.Conflict(f"{action}: the record changed meanwhile ({reason})")
    if status == 503 and "sealed" in reason:
        return errors.VaultUnavailable(f"{action}: Vault is sealed ({where})")
    error_class = _STATUS_ERRORS.get(status, errors.ConsentVaultError)
    return error_class(f"{action}: {reason} ({where})")


class VaultHTTP:
    """Calls to one Vault server with one token."""

    def __init__(
        self,
        address: str,
        *,
        token: str | None = None,
        namespace: str | None = None,
        ca_file: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(address.rstrip("/"))
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise errors.ConfigError(f"Vault address {address!r} is not an http(s) URL")
        self.address = address.rstrip("/")
        self.namespace = namespace
        self.ca_file = ca_file
        self.timeout = timeout
        self._token = token
        self._parts = parts
        self._connection: http.client.HTTPConnection | None = None

    def __repr__(self) -> str:
        return f"VaultHTTP({self.address!r}, token={'set' if self._token else 'unset'})"

    @property
    def token(self) -> str | None:
        return self._token

    def with_token(self, token: str) -> VaultHTTP:
        """A client for the same server that sends `token` instead."""
        return VaultHTTP(
            self.address,
            token=token,
            namespace=self.namespace,
            ca_file=self.ca_file,
            timeout=self.timeout,
        )

    def to_hvac(self, token: str | None = None) -> Any:
        """An hvac client for the same server (for modules built on hvac)."""
        import hvac

        return hvac.Client(
            url=self.address,
            token=token or self._token,
            namespace=self.namespace,
            verify=self.ca_file or True,
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> VaultHTTP:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Requests

    def read(self, path: str, action: str) -> dict[str, Any] | None:
        return self.request("GET", path, action=action)

    def write(
        self, path: str, body: dict[str, Any] | None, action: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        return self.request("POST", path, body or {}, action=action, **kwargs)

    def list(self, path: str, action: str) -> list[str]:
        reply = self.request("LIST", path, action=action) or {}
        return list(reply.get("data", {}).get("keys", []))

    def delete(self, path: str, action: str) -> None:
        self.request("DELETE", path, action=action)

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        action: str,
        wrap_ttl: str | None = None,
        token: str | None = None,
    ) -> dict[str, Any] | None:
        """Send one API call; the parsed JSON reply, None for 204.

        `action` says what the call is for, in words; it starts every error
        message. `token` overrides the client's token for this one call (used
        to unwrap a response-wrapping token).
        """
        url_path = f"{self._parts.path}/v1/{path.lstrip('/')}"
        where = f"{method} /v1/{path.lstrip('/')}"
        headers = {"Accept": "application/json"}
        sent_token = token or self._token
        if sent_token:
            headers["X-Vault-Token"] = sent_token
        if self.namespace:
            headers["X-Vault-Namespace"] = self.namespace
        if wrap_ttl:
            headers["X-Vault-Wrap-TTL"] = wrap_ttl
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        status, raw = self._send(method, url_path, payload, headers, action)
        log.info("vault %s -> %d", where, status)
        parsed = _parse(raw)
        if status == 400 and b"HTTP request to an HTTPS server" in raw:
            # Go's TLS server answers plain HTTP so: the address is wrong.
            raise errors.VaultUnavailable(
                f"{action}: Vault answered HTTP 400 to plain HTTP: is the address "
                f"https? ({self.address})"
            )
        if status >= 400:
            reasons = parsed.get("errors", []) if isinstance(parsed, dict) else []
            raise error_for(status, [str(r) for r in reasons], action, where)
        return parsed if isinstance(parsed, dict) else None

    def _send(
        self,
        method: str,
        url_path: str,
        payload: bytes | None,
        headers: dict[str, str],
        action: str,
    ) -> tuple[int, bytes]:
        # A kept-alive connection the server has since closed fails on first
        # use; one fresh connection is then tried before giving up.
        for attempt in (1, 2):
            reused = self._connection is not None
            connection = self._connection or self._connect(action)
            try:
                connection.request(method, url_path, body=payload, headers=headers)
                response = connection.getresponse()
                raw = response.read()
            except ssl.SSLError as exc:
                self.close()
                raise errors.VaultUnavailable(
                    f"{action}: TLS verification failed ({exc.reason}); set "
                    "VAULT_CACERT to the server's CA bundle"
                ) from None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if reused and attempt == 1:
                    continue
                raise errors.VaultUnavailable(
                    f"{action}: Vault at {self.address} is unreachable "
                    f"({type(exc).__name__})"
                ) from None
            if response.will_close:
                self.close()
            else:
                self._connection = connection
            return response.status, raw
        raise AssertionError("unreachable")

    def _connect(self, action: str) -> http.client.HTTPConnection:
        host, port = self._parts.hostname or "", self._parts.port
        if self._parts.scheme == "http":
            return http.client.HTTPConnection(host, port, timeout=self.timeout)
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise errors.ConfigError(
                f"{action}: cannot load the CA bundle {self.ca_file} ({exc})"
            ) from None
        return http.client.HTTPSConnection(
            host, port, timeout=self.timeout, context=context
        )


def _parse(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def client_from_environment(
    address: str | None = None, ca_file: str | None = None
) -> VaultHTTP:
    """A client configured as the vault CLI would be (see `vaultenv`).

    The environment wins over the given address and CA bundle (from settings).
    """
    found = read_environment(address, ca_file)
    return VaultHTTP(
        found.address,
        token=found.token,
        namespace=found.namespace,
        ca_file=found.ca_file,
    )
