"""`consentvault revoke` and `tenant remove`: afterwards the server refuses."""

from __future__ import annotations

import json

import hvac.exceptions
import pytest

from .helpers import new_tenant, read_record, run_cli


def mint_tokens(vault, tenant_id: str, count: int) -> list[dict]:
    minter = vault.token_with("ci_minter")
    minted = []
    for _ in range(count):
        result = run_cli(
            ["mint", "vault-token", "--tenant", tenant_id], vault.env(minter)
        )
        assert result.exit_code == 0, result.why()
        minted.append(json.loads(result.stdout))
    return minted


def assert_refused(vault, token: str, tenant_id: str) -> None:
    with pytest.raises(hvac.exceptions.Forbidden):
        read_record(vault.client(token), tenant_id)


def revoke(vault, *args):
    return run_cli(["revoke", *args], vault.env(vault.token_with("operator")))


def test_revoke_by_accessor_stops_that_token_only(vault):
    tenant = new_tenant(vault)
    first, second = mint_tokens(vault, tenant, 2)

    result = revoke(vault, "--accessor", first["accessor"])

    assert result.exit_code == 0, result.why()
    assert result.stdout == f"revoked the token with accessor {first['accessor']}\n"
    assert_refused(vault, first["token"], tenant)
    assert read_record(vault.client(second["token"]), tenant)["tenant_id"] == tenant


def test_minter_may_revoke_by_accessor(vault):
    tenant = new_tenant(vault)
    (minted,) = mint_tokens(vault, tenant, 1)
    result = run_cli(
        ["revoke", "--accessor", minted["accessor"]],
        vault.env(vault.token_with("ci_minter")),
    )
    assert result.exit_code == 0, result.why()
    assert_refused(vault, minted["token"], tenant)


def test_unknown_accessor_is_not_found(vault):
    result = revoke(vault, "--accessor", "nosuchaccessor0000000000")
    assert result.exit_code == 6
    assert "no token has the accessor nosuchaccessor0000000000" in result.stderr


def test_revoke_tenant_stops_all_of_its_tokens_and_keeps_the_record(vault):
    tenant = new_tenant(vault)
    other = new_tenant(vault)
    minted = mint_tokens(vault, tenant, 3)
    (other_minted,) = mint_tokens(vault, other, 1)

    result = revoke(vault, "--tenant", tenant)

    assert result.exit_code == 0, result.why()
    assert "3 token(s) revoked, entity enabled again" in result.stdout
    for item in minted:
        assert_refused(vault, item["token"], tenant)
        with pytest.raises(hvac.exceptions.InvalidRequest):
            vault.root.auth.token.lookup_accessor(item["accessor"])
    assert read_record(vault.client(other_minted["token"]), other)["tenant_id"] == other
    assert read_record(vault.root, tenant)["status"] == "active"
    (fresh,) = mint_tokens(vault, tenant, 1)
    assert read_record(vault.client(fresh["token"]), tenant)["tenant_id"] == tenant


def test_revoke_tenant_without_credentials(vault):
    tenant = new_tenant(vault)
    result = revoke(vault, "--tenant", tenant)
    assert result.exit_code == 0, result.why()
    assert "no credential was ever minted" in result.stdout


def test_revoke_unknown_tenant_is_not_found(vault):
    result = revoke(vault, "--tenant", "00000000-0000-4000-8000-00000000abcd")
    assert result.exit_code == 6, result.why()
    assert "unknown tenant" in result.stderr


def test_minter_may_not_revoke_a_tenant(vault):
    tenant = new_tenant(vault)
    mint_tokens(vault, tenant, 1)
    result = run_cli(
        ["revoke", "--tenant", tenant], vault.env(vault.token_with("ci_minter"))
    )
    assert result.exit_code == 5


def test_revoke_all_asks_first(vault):
    tenant = new_tenant(vault)
    (minted,) = mint_tokens(vault, tenant, 1)
    result = revoke(vault, "--all")
    assert result.exit_code == 1
    assert read_record(vault.client(minted["token"]), tenant)["tenant_id"] == tenant


def test_revoke_all_with_yes(vault):
    tenants = [new_tenant(vault), new_tenant(vault)]
    minted = [(t, m) for t in tenants for m in mint_tokens(vault, t, 2)]
    operator = vault.token_with("operator")

    result = run_cli(["revoke", "--all", "--yes"], vault.env(operator))

    assert result.exit_code == 0, result.why()
    for tenant, item in minted:
        assert_refused(vault, item["token"], tenant)
    assert vault.root.auth.token.lookup(operator)["data"]["policies"]
    (fresh,) = mint_tokens(vault, tenants[0], 1)
    assert read_record(vault.client(fresh["token"]), tenants[0])["tenant_id"]


def test_exactly_one_target(vault):
    result = revoke(vault, "--accessor", "a", "--all")
    assert result.exit_code == 2
    assert "exactly one of" in result.stderr


def test_tenant_remove_revokes_and_destroys(vault):
    tenant = new_tenant(vault)
    minted = mint_tokens(vault, tenant, 2)
    entity_id = entity_of(vault, tenant)["id"]
    result = run_cli(
        ["tenant", "remove", tenant, "--reason", "contract ended", "--yes"],
        vault.env(vault.token_with("operator")),
    )
    assert result.exit_code == 0, result.why()
    assert f"tenant {tenant} removed: 2 token(s) revoked" in result.stdout
    for item in minted:
        assert_refused(vault, item["token"], tenant)
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault.root.secrets.kv.v2.read_secret_metadata(
            path=f"tenants/{tenant}", mount_point="consentvault"
        )
    # The entity is deleted last, so nothing of the tenant is left behind.
    assert entity_id in result.stdout and "deleted" in result.stdout
    assert entity_lookup(vault, tenant) is None
    assert vault.root.read(f"identity/entity/id/{entity_id}") is None
    again = run_cli(
        ["mint", "vault-token", "--tenant", tenant],
        vault.env(vault.token_with("ci_minter")),
    )
    assert again.exit_code == 6, f"exit {again.exit_code}"


def entity_of(vault, tenant_id: str) -> dict:
    entity = entity_lookup(vault, tenant_id)
    assert entity is not None, f"tenant {tenant_id} has no entity"
    return entity


def entity_lookup(vault, tenant_id: str) -> dict | None:
    """The entity whose token-mount alias is the tenant id, or None."""
    accessor = vault.root.read("sys/auth")["data"]["token/"]["accessor"]
    reply = vault.root.write_data(
        "identity/lookup/entity",
        data={"alias_name": tenant_id, "alias_mount_accessor": accessor},
    )
    # hvac hands back the bare HTTP response for Vault's 204 (no entity).
    return reply["data"] if isinstance(reply, dict) else None


def test_revoke_tenant_deletes_the_shared_graph_token_and_enables_again(vault):
    tenant = new_tenant(vault)
    mint_tokens(vault, tenant, 1)
    lock = f"locks/{tenant}"
    vault.root.secrets.kv.v2.create_or_update_secret(
        path=lock, secret={"state": "done"}, cas=0, mount_point="consentvault"
    )

    result = revoke(vault, "--tenant", tenant)

    assert result.exit_code == 0, f"exit {result.exit_code}"
    assert "entity enabled again" in result.stdout
    assert entity_of(vault, tenant)["disabled"] is False
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault.root.secrets.kv.v2.read_secret_metadata(
            path=lock, mount_point="consentvault"
        )


def test_tenant_remove_needs_a_reason_and_a_known_tenant(vault):
    operator = vault.token_with("operator")
    missing = run_cli(
        ["tenant", "remove", "00000000-0000-0000-0000-000000000001", "--yes"],
        vault.env(operator),
    )
    assert missing.exit_code == 2
    unknown = run_cli(
        [
            "tenant",
            "remove",
            "00000000-0000-0000-0000-000000000001",
            "--reason",
            "x",
            "--yes",
        ],
        vault.env(operator),
    )
    assert unknown.exit_code == 6


def token_leases(vault) -> set[str]:
    prefix = f"auth/token/create/{vault.settings.vault.token_role}/"
    listed = vault.root.list(f"sys/leases/lookup/{prefix}") or {"data": {"keys": []}}
    return {prefix + key for key in listed["data"]["keys"]}


def test_revoke_by_lease(vault):
    tenant = new_tenant(vault)
    before = token_leases(vault)
    (minted,) = mint_tokens(vault, tenant, 1)
    (lease,) = token_leases(vault) - before

    result = revoke(vault, "--lease", lease)

    assert result.exit_code == 0, result.why()
    assert result.stdout == f"revoked lease {lease}\n"
    assert_refused(vault, minted["token"], tenant)


def test_unknown_lease_is_not_found(vault):
    result = revoke(vault, "--lease", "azure/creds/graph-reader/nosuchlease")
    assert result.exit_code == 6
    assert "no lease azure/creds/graph-reader/nosuchlease" in result.stderr


def test_tenant_remove_asks_first(vault):
    tenant = new_tenant(vault)
    (minted,) = mint_tokens(vault, tenant, 1)
    result = run_cli(
        ["tenant", "remove", tenant, "--reason", "changed my mind"],
        vault.env(vault.token_with("operator")),
        input="n\n",
    )
    assert result.exit_code == 1
    assert read_record(vault.root, tenant)["status"] == "active"
    assert read_record(vault.client(minted["token"]), tenant)["tenant_id"] == tenant


@pytest.mark.parametrize("option", ["--accessor", "--lease", "--tenant"])
@pytest.mark.parametrize("value", ["", "  "])
def test_blank_target_is_a_usage_error_and_revokes_nothing(vault, option, value):
    tenant = new_tenant(vault)
    (minted,) = mint_tokens(vault, tenant, 1)

    result = revoke(vault, option, value)

    assert result.exit_code == 2, f"exit {result.exit_code}"
    assert read_record(vault.client(minted["token"]), tenant)["tenant_id"] == tenant
