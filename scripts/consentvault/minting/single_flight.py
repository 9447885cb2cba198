"""One refresh per tenant at a time, across processes, coordinated in Vault.

A refresh token rotates when used, so twenty CI jobs refreshing one tenant at
once would redeem it twenty times and leave the record with whichever rotated
token was written last. Instead the jobs meet at a lock record
(`<kv_mount>/<locks_prefix>/<tenant>`, KV v2 with check-and-set):

- one job takes it (a CAS write of `refreshing` with a short lease), refreshes,
  and writes `done` with the new access token, sealed with transit for that
  tenant (so only a token bound to the tenant can open it) and its expiry;
- the others poll, and once it is `done` open the shared access token instead
  of refreshing; a leader that fails writes `failed` with the reason, which
  its waiters report in turn;
- a lease that runs out (a leader that died) lets the next job take over.

A `done` token is reused by later callers too while it has
`REUSE_MARGIN_SECONDS` left, so bursts of mints cost one refresh.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from consentvault import errors
from consentvault.minting.light_settings import MintSettings
from consentvault.minting.vaulthttp import VaultHTTP

log = logging.getLogger(__name__)

LEASE_SECONDS = 30
WAIT_SECONDS = 60
POLL_SECONDS = 0.1
REUSE_MARGIN_SECONDS = 300


@dataclass(frozen=True)
class SharedToken:
    expires_epoch: float
    reused: bool
    access_token: str = field(repr=False)

    @property
    def expires_at(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expires_epoch))


class Cipher(Protocol):
    def seal(self, tenant_id: str, plaintext: str) -> str: ...

    def open(self, tenant_id: str, ciphertext: str) -> str: ...


def single_flight(
    minter: VaultHTTP,
    settings: MintSettings,
    tenant_id: str,
    *,
    refresh: Callable[[], SharedToken],
    cipher: Cipher,
    wait_seconds: float = WAIT_SECONDS,
) -> SharedToken:
    """The tenant's access token: refreshed here, or reused from another job."""
    lock = _Lock(minter, settings.lock_path(tenant_id), tenant_id)
    holder = secrets.token_hex(8)
    saw_refreshing = False
    deadline = time.monotonic() + wait_seconds
    while True:
        version, data = lock.read()
        state, now = data.get("state"), time.time()
        if state == "done" and data.get("expires_at", 0) - now >= REUSE_MARGIN_SECONDS:
            token = cipher.open(tenant_id, data["access_token"])
            return SharedToken(float(data["expires_at"]), True, token)
        if state == "failed" and saw_refreshing:
            raise _leader_failure(tenant_id, data.get("error"))
        if state == "refreshing" and data.get("held_until", 0) > now:
            saw_refreshing = True
            if time.monotonic() > deadline:
                raise errors.Conflict(
                    f"tenant {tenant_id}: another job has held the refresh lock for "
                    f"over {wait_seconds:.0f} s"
                )
            time.sleep(POLL_SECONDS)
            continue
        taken = lock.write(
            {
                "state": "refreshing",
                "holder": holder,
                "held_until": now + LEASE_SECONDS,
            },
            cas=version,
        )
        if taken is not None:
            return _lead(lock, taken, holder, tenant_id, refresh, cipher)


def _lead(
    lock: _Lock,
    version: int,
    holder: str,
    tenant_id: str,
    refresh: Callable[[], SharedToken],
    cipher: Cipher,
) -> SharedToken:
    log.info("tenant %s: took the refresh lock", tenant_id)
    try:
        fresh = refresh()
    except BaseException as exc:
        reason = "consent" if isinstance(exc, errors.ConsentError) else "other"
        # Tell the waiters; the refresh's own error is what this job reports.
        with contextlib.suppress(errors.ConsentVaultError):
            lock.write({"state": "failed", "holder": holder, "error": reason}, version)
        raise
    sealed = cipher.seal(tenant_id, fresh.access_token)
    data = {
        "state": "done",
        "holder": holder,
        "access_token": sealed,
        "expires_at": fresh.expires_epoch,
    }
    if lock.write(data, version) is None:
        log.warning("tenant %s: lost the refresh lock before sharing", tenant_id)
    return fresh


class _Lock:
    def __init__(self, client: VaultHTTP, path: str, tenant_id: str) -> None:
        self.client = client
        self.path = path
        self.tenant_id = tenant_id

    def read(self) -> tuple[int, dict[str, Any]]:
        """(current version, data); (0, {}) for no lock record yet."""
        try:
            reply = self.client.read(self.path, f"read the refresh lock {self.path}")
        except errors.NotFound:
            return 0, {}
        body = (reply or {}).get("data") or {}
        version = int((body.get("metadata") or {}).get("version") or 0)
        return version, body.get("data") or {}

    def write(self, data: dict[str, Any], cas: int) -> int | None:
        """The new version, or None if someone else wrote first."""
        try:
            reply = self.client.write(
                self.path,
                {"options": {"cas": cas}, "data": data},
                f"write the refresh lock {self.path}",
            )
        except errors.Conflict:
            return None
        except errors.UsageError as exc:
            if "check-and-set" in str(exc):
                return None
            raise
        return int(((reply or {}).get("data") or {}).get("version") or 0)


def _leader_failure(tenant_id: str, reason: str | None) -> errors.ConsentVaultError:
    if reason == "consent":
        return errors.ConsentError(
            f"tenant {tenant_id} needs consent again: the concurrent refresh was "
            "refused and the record is marked needs_consent"
        )
    return errors.IdentityPlatformUnavailable(
        f"tenant {tenant_id}: the concurrent refresh this job waited for failed"
    )
