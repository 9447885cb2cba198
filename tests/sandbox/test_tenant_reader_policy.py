"""The tenant-reader policy as applied to the live sandbox: one tenant, no more."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest

TENANT_A = str(uuid.uuid4())
TENANT_B = str(uuid.uuid4())


@dataclass
class Minted:
    accessor: str
    policies: list[str]
    renewable: bool
    lease_duration: int
    token: str = field(repr=False)


@pytest.fixture
def minted_for_a(sandbox):
    """A token from the token role bound to tenant A, revoked afterwards."""
    root = sandbox.vault_client()
    role = sandbox.settings.vault.token_role
    auth = root.write_data(
        f"auth/token/create/{role}", data={"entity_alias": TENANT_A}
    )["auth"]
    yield Minted(
        auth["accessor"],
        auth["policies"],
        auth["renewable"],
        auth["lease_duration"],
        auth["client_token"],
    )
    root.auth.token.revoke_accessor(auth["accessor"])


def _capabilities(client, paths: list[str]) -> dict[str, list[str]]:
    reply = client.sys.get_capabilities(paths=paths)
    return {path: reply["data"][path] for path in paths}


def test_minted_token_reads_its_own_tenant_only(sandbox, minted_for_a):
    vault = sandbox.settings.vault
    own = f"{vault.kv_mount}/data/{vault.tenants_prefix}/{TENANT_A}"
    other = f"{vault.kv_mount}/data/{vault.tenants_prefix}/{TENANT_B}"
    minted = sandbox.vault_client(token=minted_for_a.token)

    capabilities = _capabilities(minted, [own, other])

    assert "read" in capabilities[own]
    assert capabilities[other] == ["deny"]


def test_minted_token_decrypts_with_its_tenant_key_only(sandbox, minted_for_a):
    vault = sandbox.settings.vault
    decrypt = f"{vault.transit_mount}/decrypt/{vault.tenant_key(TENANT_A)}"
    other = f"{vault.transit_mount}/decrypt/{vault.tenant_key(TENANT_B)}"
    encrypt = f"{vault.transit_mount}/encrypt/{vault.tenant_key(TENANT_A)}"
    state_key = f"{vault.transit_mount}/decrypt/{vault.transit_state_key}"
    minted = sandbox.vault_client(token=minted_for_a.token)

    capabilities = _capabilities(minted, [decrypt, other, encrypt, state_key])

    assert capabilities[decrypt] == ["update"]
    assert capabilities[other] == ["deny"]
    assert capabilities[encrypt] == ["deny"]
    assert capabilities[state_key] == ["deny"]


def test_minted_token_carries_only_the_reader_policy(sandbox, minted_for_a):
    reader = sandbox.settings.policy_names()["tenant_reader"]

    assert minted_for_a.policies == [reader]
    assert minted_for_a.renewable is False
    assert minted_for_a.lease_duration <= 3600
