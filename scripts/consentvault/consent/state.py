"""Pending consent flows, kept in Vault so any process can take the callback.

A flow lives at `<kv_mount>/<consent_state_prefix>/<sha256-hex of state>`: the
state value itself never appears in a path, because audit logs keep paths in
clear. Everything secret about the flow (the state, msal's PKCE verifier and
nonce) is sealed with the `consent-state` transit key, with the KV path as
context, so a KV read alone reveals none of it.

A flow is used at most once: taking it marks it used with check-and-set on the
version that was read, so of two concurrent callbacks (or a callback and its
replay) exactly one gets the flow and the other gets `Conflict`. A used flow
stays until it expires, so that a replay is told "already used".
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Any, Literal

import hvac
import hvac.exceptions

from consentvault import errors
from consentvault.records import transit_decrypt, transit_encrypt
from consentvault.settings import Settings
from consentvault.vaultclient import vault_errors

log = logging.getLogger(__name__)

Mode = Literal["admin", "delegated"]


def new_state() -> str:
    """A fresh, unguessable state value (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


def state_digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class PendingFlow:
    """A taken flow: what redemption needs, secrets included (never printed)."""

    mode: Mode
    redirect_uri: str
    tenant_hint: str
    scopes: tuple[str, ...]
    expires_at: int
    flow: dict[str, Any] = dataclasses.field(repr=False)
    state: str = dataclasses.field(default="", repr=False)
    # The KV version that marked the flow used; `release` writes over it.
    used_version: int = 0


class ConsentStates:
    """Start and take pending consent flows."""

    def __init__(self, client: hvac.Client, settings: Settings) -> None:
        self.client = client
        self.vault = settings.vault

    def path(self, state: str) -> str:
        return f"{self.vault.consent_state_prefix}/{state_digest(state)}"

    def start(
        self,
        *,
        mode: Mode,
        flow: dict[str, Any],
        redirect_uri: str,
        tenant_hint: str,
        scopes: list[str],
    ) -> int:
        """Store a new flow (`flow["state"]` is its key); returns its expiry."""
        state = flow["state"]
        path = self.path(state)
        expires_at = int(time.time()) + self.vault.consent_state_ttl_seconds
        sealed = transit_encrypt(
            self.client,
            mount=self.vault.transit_mount,
            key=self.vault.transit_state_key,
            context=path,
            plaintext=json.dumps(flow).encode(),
        )
        data = {
            "mode": mode,
            "redirect_uri": redirect_uri,
            "tenant_hint": tenant_hint,
            "scopes": list(scopes),
            "created_at": int(time.time()),
            "expires_at": expires_at,
            "used": False,
            "sealed": sealed,
        }
        with vault_errors(f"store consent state {self.vault.kv_mount}/{path}"):
            self.client.secrets.kv.v2.create_or_update_secret(
                path=path, secret=data, cas=0, mount_point=self.vault.kv_mount
            )
        log.info("stored %s consent state %s", mode, state_digest(state)[:12])
        return expires_at

    def take(self, state: str) -> PendingFlow:
        """Mark the flow of `state` used and return it.

        Unknown state: `NotFound`; already used (or taken concurrently):
        `Conflict`; expired: `ConsentError`.
        """
        path = self.path(state)
        where = f"{self.vault.kv_mount}/{path}"
        data, version = self._read(path)
        if data is None:
            raise errors.NotFound("unknown consent state: start a new consent flow")
        if data.get("used"):
            raise errors.Conflict("consent state already used: a callback is replayed")
        if int(data.get("expires_at", 0)) <= time.time():
            self._destroy(path)
            raise errors.ConsentError("consent state expired: start a new consent flow")

        used = {**data, "used": True, "used_at": int(time.time())}
        try:
            with vault_errors(f"mark consent state used {where}"):
                written = self.client.secrets.kv.v2.create_or_update_secret(
                    path=path, secret=used, cas=version, mount_point=self.vault.kv_mount
                )
        except errors.Conflict:
            raise errors.Conflict(
                "consent state already used: another callback took it"
            ) from None

        flow = self._unseal(path, data["sealed"])
        # The path is the state's digest; compare the value itself as well.
        if not hmac.compare_digest(str(flow.get("state", "")), state):
            raise errors.NotFound("unknown consent state: start a new consent flow")
        return PendingFlow(
            mode=data["mode"],
            redirect_uri=str(data.get("redirect_uri", "")),
            tenant_hint=str(data.get("tenant_hint", "")),
            scopes=tuple(data.get("scopes") or ()),
            expires_at=int(data["expires_at"]),
            flow=flow,
            state=state,
            used_version=int(written["data"]["version"]),
        )

    def release(self, pending: PendingFlow) -> bool:
        """Make a taken flow usable again after the platform failed transiently.

        Only the taker can release it (check-and-set on the version that marked
        it used), so at most one callback still succeeds. False if that failed.
        """
        path = self.path(pending.state)
        data, version = self._read(path)
        if data is None or version != pending.used_version:
            return False
        unused = {k: v for k, v in data.items() if k != "used_at"} | {"used": False}
        try:
            with vault_errors(f"release consent state {self.vault.kv_mount}/{path}"):
                self.client.secrets.kv.v2.create_or_update_secret(
                    path=path,
                    secret=unused,
                    cas=version,
                    mount_point=self.vault.kv_mount,
                )
        except errors.ConsentVaultError as exc:
            log.warning("could not release consent state: %s", exc)
            return False
        log.info(
            "released consent state %s for a retry", state_digest(pending.state)[:12]
        )
        return True

    def version(self, state: str) -> int:
        """The KV version of a state's entry (0 if there is none)."""
        return self._read(self.path(state))[1]

    def _read(self, path: str) -> tuple[dict[str, Any] | None, int]:
        with vault_errors(f"read consent state {self.vault.kv_mount}/{path}"):
            try:
                response = self.client.secrets.kv.v2.read_secret_version(
                    path=path,
                    mount_point=self.vault.kv_mount,
                    raise_on_deleted_version=True,
                )
            except hvac.exceptions.InvalidPath:
                return None, 0
        return response["data"]["data"], int(response["data"]["metadata"]["version"])

    def _destroy(self, path: str) -> None:
        """Remove an expired flow for good (every version and its metadata)."""
        with vault_errors(f"destroy consent state {self.vault.kv_mount}/{path}"):
            self.client.secrets.kv.v2.delete_metadata_and_all_versions(
                path=path, mount_point=self.vault.kv_mount
            )

    def _unseal(self, path: str, sealed: str) -> dict[str, Any]:
        plaintext = transit_decrypt(
            self.client,
            mount=self.vault.transit_mount,
            key=self.vault.transit_state_key,
            context=path,
            ciphertext=sealed,
        )
        flow = json.loads(plaintext)
        if not isinstance(flow, dict):
            raise errors.ConsentVaultError("consent state holds no flow")
        return flow
