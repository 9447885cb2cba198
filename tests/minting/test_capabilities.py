"""The policies on the live server: each identity against each path.

`sys/capabilities` answers what a token may do on a path, as Vault evaluates
the policies the sandbox applied from the synthesized stacks. The table says
what docs/internals.md intends; "deny" means nothing at all. Broker, minter
and operator tokens also carry Vault's default policy; minted readers do not.
"""

from __future__ import annotations

import json

import pytest

from .helpers import new_tenant, run_cli

C, R, U, D, L, S = "create", "read", "update", "delete", "list", "sudo"
DENY = ()

# (path template, consent-broker, ci-minter, tenant-reader of A, operator,
# tenant-refresher of A)
MATRIX = [
    ("consentvault/data/tenants/{a}", (C, R, U), (R,), (R,), (C, D, R, U), (R, U)),
    ("consentvault/data/tenants/{b}", (C, R, U), (R,), DENY, (C, D, R, U), DENY),
    ("consentvault/metadata/tenants/{a}", DENY, DENY, DENY, (D, L, R), DENY),
    ("consentvault/destroy/tenants/{a}", DENY, DENY, DENY, (U,), DENY),
    ("consentvault/data/consent-state/x", (C, D, R, U), DENY, DENY, (C, D, R, U), DENY),
    ("consentvault/metadata/consent-state/x", (D,), DENY, DENY, (D, L, R), DENY),
    ("consentvault/data/locks/{a}", DENY, (C, D, R, U), DENY, (C, D, R, U), DENY),
    # A re-consent deletes the lock, which may cache the old consent's token.
    ("consentvault/metadata/locks/{a}", (D,), DENY, DENY, (D, L, R), DENY),
    ("consentvault-app/data/entra", (R,), (R,), DENY, (C, D, R, U), DENY),
    ("consentvault-app/metadata/entra", DENY, DENY, DENY, (D, L, R), DENY),
    # The credential's former path on the tenant mount gives broker and minter
    # nothing.
    ("consentvault/data/app/entra", DENY, DENY, DENY, (C, D, R, U), DENY),
    # Each tenant's own key: the reader only decrypts, with A's key only.
    ("consentvault-transit/encrypt/tenant-{a}", (U,), DENY, DENY, DENY, (U,)),
    ("consentvault-transit/encrypt/tenant-{b}", (U,), DENY, DENY, DENY, DENY),
    ("consentvault-transit/decrypt/tenant-{a}", DENY, DENY, (U,), DENY, (U,)),
    ("consentvault-transit/decrypt/tenant-{b}", DENY, DENY, DENY, DENY, DENY),
    ("consentvault-transit/encrypt/consent-state", (U,), DENY, DENY, DENY, DENY),
    ("consentvault-transit/decrypt/consent-state", (U,), DENY, DENY, DENY, DENY),
    # sys/capabilities leaves out parameter limits: the broker may only
    # create keys with fixed settings, the operator only set deletion_allowed
    # (tests/minting/test_confinement.py tries both).
    ("consentvault-transit/keys/tenant-{a}", (C, U), DENY, DENY, (D, R, U), DENY),
    (
        "consentvault-transit/keys/tenant-{a}/config",
        (C, U),
        DENY,
        DENY,
        (D, R, U),
        DENY,
    ),
    ("consentvault-transit/keys/consent-state/rotate", DENY, DENY, DENY, (U,), DENY),
    ("consentvault-transit/keys/consent-state/config", DENY, DENY, DENY, DENY, DENY),
    (
        "consentvault-transit/export/encryption-key/tenant-{a}",
        DENY,
        DENY,
        DENY,
        DENY,
        DENY,
    ),
    ("auth/token/create/tenant-reader", DENY, (U,), DENY, DENY, DENY),
    ("auth/token/create/tenant-refresher", DENY, (U,), DENY, DENY, DENY),
    ("auth/token/create", DENY, DENY, DENY, DENY, DENY),
    ("auth/token/lookup-self", (R,), (R,), (R,), (R,), (R,)),
    ("auth/token/revoke-self", (U,), (U,), (U,), (U,), (U,)),
    ("auth/token/lookup-accessor", DENY, (U,), DENY, (U,), DENY),
    ("auth/token/revoke-accessor", DENY, (U,), DENY, (U,), DENY),
    ("auth/token/accessors/", DENY, DENY, DENY, (L, S), DENY),
    ("auth/token/roles/tenant-reader", DENY, DENY, DENY, DENY, DENY),
    ("identity/lookup/entity", DENY, (U,), DENY, (U,), DENY),
    # Delete is for `tenant remove`; only `disabled` may be updated
    # (tests/minting/test_confinement.py).
    ("identity/entity/id/x", DENY, DENY, DENY, (D, R, U), DENY),
    ("sys/audit", DENY, DENY, DENY, (R,), DENY),
    ("sys/audit-hash/file", DENY, DENY, DENY, (U,), DENY),
    # Vault's default policy lets any token with it look up a lease.
    ("sys/leases/lookup", (U,), (U,), DENY, (U,), DENY),
    ("sys/leases/revoke", DENY, DENY, DENY, (U,), DENY),
    (
        "sys/leases/revoke-prefix/auth/token/create/tenant-reader",
        DENY,
        DENY,
        DENY,
        DENY,
        DENY,
    ),
    ("sys/policies/acl/local-operator", DENY, DENY, DENY, DENY, DENY),
    ("sys/auth/token", DENY, DENY, DENY, DENY, DENY),
]
IDENTITIES = (
    "consent_broker",
    "ci_minter",
    "tenant_reader",
    "operator",
    "tenant_refresher",
)


@pytest.fixture(scope="module")
def tenants(sandbox) -> tuple[str, str]:
    from .conftest import LiveVault

    vault = LiveVault(sandbox)
    return new_tenant(vault), new_tenant(vault)


def identity_token(vault, identity: str, tenant_a: str) -> str:
    if identity == "tenant_refresher":
        minter = vault.client(vault.token_with("ci_minter"))
        role = vault.settings.vault.refresh_token_role
        reply = minter.write_data(
            f"auth/token/create/{role}", data={"entity_alias": tenant_a}
        )
        return reply["auth"]["client_token"]
    if identity != "tenant_reader":
        return vault.token_with(identity)
    minted = run_cli(
        ["mint", "vault-token", "--tenant", tenant_a],
        vault.env(vault.token_with("ci_minter")),
    )
    assert minted.exit_code == 0, minted.why()
    return json.loads(minted.stdout)["token"]


@pytest.mark.parametrize("identity", IDENTITIES)
def test_capabilities(vault, tenants, identity):
    tenant_a, tenant_b = tenants
    token = identity_token(vault, identity, tenant_a)
    column = 1 + IDENTITIES.index(identity)
    paths = [row[0].format(a=tenant_a, b=tenant_b) for row in MATRIX]

    answer = vault.root.sys.get_capabilities(paths, token=token)

    found = {path: tuple(sorted(answer[path])) for path in paths}
    expected = {
        path: tuple(sorted(row[column])) or ("deny",)
        for path, row in zip(paths, MATRIX, strict=True)
    }
    assert found == expected


def test_no_policy_grants_sudo_outside_the_accessor_list(vault):
    for name in vault.settings.policy_names().values():
        text = vault.root.sys.read_policy(name)["data"]["rules"]
        blocks = text.split("path ")
        sudo_paths = [b.split()[0] for b in blocks if '"sudo"' in b]
        assert sudo_paths in ([], ['"auth/token/accessors/"']), name
