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
- the leader renews its lease (check-and-set) every `RENEW_SECONDS` while it
  refreshes, so a slow refresh (retries after 429/5xx, HTTP timeouts) keeps
  the lock; it stops renewing after `REFRESH_LIMIT_SECONDS`, so a hung leader
  loses it all the same;
- a lease that runs out (a leader that died) lets the next job take over.

`held_until` is the leader's wall-clock time, read by other machines. A
waiter therefore also watches the lock itself: a lease counts as lapsed only
if `held_until` is more than `CLOCK_SKEW_SECONDS` in the past, or the lock
has not changed for `LEASE_SECONDS` by the waiter's own monotonic clock
(a live leader renews well within that). Clocks may thus differ by up to
`CLOCK_SKEW_SECONDS` without a live leader being overtaken early; a dead
leader's lock is taken over after at most `LEASE_SECONDS` of silence.

A `done` token is reused by later callers too while it has
`REUSE_MARGIN_SECONDS` left, so bursts of mints cost one refresh.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from consentvault import errors
from consentvault.minting.light_settings import MintSettings
from consentvault.minting.vaulthttp import VaultHTTP

log = logging.getLogger(__name__)

LEASE_SECONDS = 30
RENEW_SECONDS = LEASE_SECONDS / 3
CLOCK_SKEW_SECONDS = 15
# The identity platform calls of one refresh are bounded by entra_client's
# retries (4 attempts, 10 s timeouts, Retry-After honoured up to 10 s each).
REFRESH_LIMIT_SECONDS = 120
WAIT_SECONDS = REFRESH_LIMIT_SECONDS + LEASE_SECONDS
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
    watched = _Silence()
    while True:
        version, data = lock.read()
        state, now = data.get("state"), time.time()
        if state == "done" and data.get("expires_at", 0) - now >= REUSE_MARGIN_SECONDS:
            token = cipher.open(tenant_id, data["access_token"])
            return SharedToken(float(data["expires_at"]), True, token)
        if state == "failed" and saw_refreshing:
            raise _leader_failure(tenant_id, data.get("error"))
        if state == "refreshing" and not _lapsed(data, now, watched.since(version)):
            saw_refreshing = True
            if time.monotonic() > deadline:
                raise errors.Conflict(
                    f"tenant {tenant_id}: another job has held the refresh lock for "
                    f"over {wait_seconds:.0f} s"
                )
            time.sleep(POLL_SECONDS)
            continue
        taken = lock.write(_refreshing(holder), cas=version)
        if taken is not None:
            return _lead(lock, taken, holder, tenant_id, refresh, cipher)


def _refreshing(holder: str) -> dict[str, Any]:
    return {
        "state": "refreshing",
        "holder": holder,
        "held_until": time.time() + LEASE_SECONDS,
    }


def _lapsed(data: dict[str, Any], now: float, silent_for: float) -> bool:
    """Whether a `refreshing` lock may be taken over (see the module docstring)."""
    stale = float(data.get("held_until", 0)) + CLOCK_SKEW_SECONDS < now
    return stale or silent_for > LEASE_SECONDS


class _Silence:
    """How long, by this process's monotonic clock, a lock version has stood."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.seen_at = time.monotonic()

    def since(self, version: int) -> float:
        if version != self.version:
            self.version, self.seen_at = version, time.monotonic()
        return time.monotonic() - self.seen_at


def _lead(
    lock: _Lock,
    version: int,
    holder: str,
    tenant_id: str,
    refresh: Callable[[], SharedToken],
    cipher: Cipher,
) -> SharedToken:
    log.info("tenant %s: took the refresh lock", tenant_id)
    with _LeaseKeeper(lock, version, holder) as keeper:
        try:
            fresh = refresh()
        except BaseException as exc:
            reason = "consent" if isinstance(exc, errors.ConsentError) else "other"
            # Tell the waiters; the refresh's own error is what this job reports.
            with contextlib.suppress(errors.ConsentVaultError):
                lock.write(
                    {"state": "failed", "holder": holder, "error": reason},
                    keeper.stop(),
                )
            raise
        sealed = cipher.seal(tenant_id, fresh.access_token)
        data = {
            "state": "done",
            "holder": holder,
            "access_token": sealed,
            "expires_at": fresh.expires_epoch,
        }
        if lock.write(data, keeper.stop()) is None:
            log.warning("tenant %s: lost the refresh lock before sharing", tenant_id)
    return fresh


class _LeaseKeeper:
    """Renews the leader's lease from a thread while the refresh runs.

    Each renewal is a check-and-set on the version the previous write made;
    `stop()` ends the renewals (joining the thread, so the version it returns
    is the last one written) for the final write.
    The thread talks to Vault on its own connection (`VaultHTTP` is not thread
    safe).
    """

    def __init__(self, lock: _Lock, version: int, holder: str) -> None:
        self._lock = lock
        self._holder = holder
        self._version = version
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> int:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()
        return self._version

    def _run(self) -> None:
        give_up = time.monotonic() + REFRESH_LIMIT_SECONDS
        own = self._lock.on_own_connection()
        try:
            while not self._stopped.wait(RENEW_SECONDS):
                if time.monotonic() > give_up:
                    log.warning("%s: refresh too slow, lease left to lapse", own.path)
                    return
                renewed = own.write(_refreshing(self._holder), self._version)
                if renewed is None:
                    log.warning("%s: lease taken over by another job", own.path)
                    return
                self._version = renewed
        except errors.ConsentVaultError as exc:
            log.warning("%s: lease renewal failed (%s)", own.path, type(exc).__name__)
        finally:
            own.client.close()


class _Lock:
    def __init__(self, client: VaultHTTP, path: str, tenant_id: str) -> None:
        self.client = client
        self.path = path
        self.tenant_id = tenant_id

    def on_own_connection(self) -> _Lock:
        token = self.client.token or ""
        return _Lock(self.client.with_token(token), self.path, self.tenant_id)

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
