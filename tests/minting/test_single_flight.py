"""The single-flight lock in Vault: a slow leader keeps its lease."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from consentvault.minting import single_flight
from consentvault.minting.light_settings import load_mint_settings
from consentvault.minting.single_flight import SharedToken
from consentvault.minting.vaulthttp import VaultHTTP


class InTheClear:
    """A stand-in cipher: these tests share a made-up value, not a token."""

    def seal(self, tenant_id: str, plaintext: str) -> str:
        return plaintext

    def open(self, tenant_id: str, ciphertext: str) -> str:
        return ciphertext


@pytest.fixture
def short_lease(monkeypatch):
    monkeypatch.setattr(single_flight, "LEASE_SECONDS", 1.0)
    monkeypatch.setattr(single_flight, "RENEW_SECONDS", 0.25)
    monkeypatch.setattr(single_flight, "CLOCK_SKEW_SECONDS", 0.0)


def test_a_refresh_longer_than_the_lease_still_refreshes_once(vault, short_lease):
    light = load_mint_settings(path=vault.sandbox.env_file)
    token = vault.token_with("ci_minter")
    tenant = str(uuid.uuid4())
    refreshes: list[str] = []
    results: dict[str, SharedToken] = {}

    def slow_refresh() -> SharedToken:
        refreshes.append("refreshed")
        time.sleep(3.0)  # three leases long
        return SharedToken(time.time() + 3600, False, "made-up-access-token")

    def job(name: str) -> None:
        with VaultHTTP(vault.address, token=token, ca_file=str(vault.ca_file)) as c:
            results[name] = single_flight.single_flight(
                c, light, tenant, refresh=slow_refresh, cipher=InTheClear()
            )

    leader = threading.Thread(target=job, args=("leader",))
    leader.start()
    time.sleep(0.5)
    follower = threading.Thread(target=job, args=("follower",))
    follower.start()
    leader.join(timeout=30)
    follower.join(timeout=30)

    assert refreshes == ["refreshed"]
    assert results["leader"].reused is False
    assert results["follower"].reused is True
    assert results["follower"].access_token == "made-up-access-token"


def test_a_silent_lock_is_taken_over(vault, short_lease):
    light = load_mint_settings(path=vault.sandbox.env_file)
    tenant = str(uuid.uuid4())
    # A leader that died mid-refresh: its lease runs far into the future by
    # its own (skewed) clock, but nobody renews it.
    vault.root.secrets.kv.v2.create_or_update_secret(
        path=f"locks/{tenant}",
        secret={"state": "refreshing", "holder": "gone", "held_until": 4e9},
        cas=0,
        mount_point="consentvault",
    )
    token = vault.token_with("ci_minter")
    with VaultHTTP(vault.address, token=token, ca_file=str(vault.ca_file)) as c:
        shared = single_flight.single_flight(
            c,
            light,
            tenant,
            refresh=lambda: SharedToken(time.time() + 3600, False, "made-up"),
            cipher=InTheClear(),
            wait_seconds=10,
        )
    assert shared.reused is False
