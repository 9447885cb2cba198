"""The policy table holds on a real server: OpenBao provisioned from the stacks.

The session's sandbox was applied from freshly synthesized stacks, so these
policies and the token role are the ones `cdktf deploy` would create. Each
identity's token is asked, path by path, what it may do (`sys/capabilities`).
"""

from __future__ import annotations

import pytest
from test_policy_templates import EXPECTED, OWN_TENANT

from stacks.vault_policies import IDENTITIES

TENANT = "0b6f2f1e-7a8c-4c47-9d2e-2f9a7c1e5b10"
OTHER_TENANT = "5d3c1a9e-0f2b-4e7d-8c6a-1b9e4f7a2d33"


def capabilities(root, token: str, paths: list[str]) -> dict[str, set[str]]:
    reply = root.adapter.post(
        "/v1/sys/capabilities", json={"token": token, "paths": paths}
    )
    data = reply["data"] if "data" in reply else reply
    return {path: set(data[path]) for path in paths}


def concrete(path: str) -> str:
    """A real path that a policy path (glob or tenant template) matches."""
    return path.replace(OWN_TENANT, TENANT).replace("*", "probe")


# Minted identities have their tenant from their entity alias; a token given
# their policy directly has none, so they are tried as minted tokens below.
MINTED = ("tenant_reader", "tenant_refresher")


@pytest.mark.parametrize("identity", [i for i in IDENTITIES if i not in MINTED])
def test_each_identity_can_exactly_its_table(sandbox, identity):
    root = sandbox.vault_client()
    policy = sandbox.settings.policy_names()[identity]
    token = root.auth.token.create(policies=[policy], no_default_policy=True, ttl="5m")[
        "auth"
    ]["client_token"]
    expected = {concrete(path): caps for path, caps in EXPECTED[identity].items()}
    outside = ["sys/policy/anything", "secret/data/anything", "sys/mounts"]

    found = capabilities(root, token, [*expected, *outside])

    assert {path: found[path] for path in expected} == expected
    assert all(found[path] == {"deny"} for path in outside)


def mint(root, role: str, tenant: str) -> dict:
    return root.write(f"auth/token/create/{role}", entity_alias=tenant, ttl="2m")[
        "auth"
    ]


def test_minted_reader_reaches_its_own_tenant_only(sandbox):
    root = sandbox.vault_client()
    vault = sandbox.settings.vault
    minted = mint(root, vault.token_role, TENANT)
    paths = {}
    for which, tenant in (("own", TENANT), ("other", OTHER_TENANT)):
        key = vault.tenant_key(tenant)
        paths[f"record {which}"] = f"{vault.kv_mount}/data/tenants/{tenant}"
        paths[f"encrypt {which}"] = f"{vault.transit_mount}/encrypt/{key}"
        paths[f"decrypt {which}"] = f"{vault.transit_mount}/decrypt/{key}"

    found = capabilities(root, minted["client_token"], list(paths.values()))

    assert minted["policies"] == [sandbox.settings.policy_names()["tenant_reader"]]
    assert minted["renewable"] is False
    assert {name: found[path] for name, path in paths.items()} == {
        "record own": {"read"},
        "record other": {"deny"},
        "encrypt own": {"deny"},
        "encrypt other": {"deny"},
        "decrypt own": {"update"},
        "decrypt other": {"deny"},
    }


def test_minted_refresher_writes_its_own_tenant_only(sandbox):
    root = sandbox.vault_client()
    vault = sandbox.settings.vault
    minted = mint(root, vault.refresh_token_role, TENANT)
    expected = {
        concrete(path): caps for path, caps in EXPECTED["tenant_refresher"].items()
    }
    others = [path.replace(TENANT, OTHER_TENANT) for path in expected if TENANT in path]

    found = capabilities(root, minted["client_token"], [*expected, *others])

    assert minted["policies"] == [sandbox.settings.policy_names()["tenant_refresher"]]
    assert minted["lease_duration"] <= 120
    assert {path: found[path] for path in expected} == expected
    assert all(found[path] == {"deny"} for path in others)
