"""What a token may do with tenant records and keys, tried on the live server.

Each test makes the request an attacker would make and expects Vault's
refusal: a worker's token writing its record, a token for tenant A opening
B's secret, the operator handing an entity policies. The allowed paths are
tried too, so a refusal cannot come from a broken setup.
"""

from __future__ import annotations

import base64
import dataclasses
import json

import hvac.exceptions
import pytest

from consentvault.records import TenantRecords

from .helpers import new_tenant, read_record, run_cli

SECRET = {"refresh_token": "rt-confinement-probe"}


def mint_worker_token(vault, tenant_id: str) -> str:
    result = run_cli(
        ["mint", "vault-token", "--tenant", tenant_id],
        vault.env(vault.token_with("ci_minter")),
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["token"]


def mint_refresher_token(vault, tenant_id: str) -> dict:
    """A refresher token as `mint graph-token` makes one, by the ci-minter."""
    minter = vault.client(vault.token_with("ci_minter"))
    role = vault.settings.vault.refresh_token_role
    reply = minter.write_data(
        f"auth/token/create/{role}", data={"entity_alias": tenant_id, "ttl": "2m"}
    )
    return reply["auth"]


def transit(vault, client, verb: str, key: str, **data):
    mount = vault.settings.vault.transit_mount
    return client.write_data(f"{mount}/{verb}/{key}", data=data)


def ciphertext_of(vault, tenant_id: str) -> str:
    return TenantRecords(vault.root, vault.settings).read(tenant_id).secret


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_worker_token_cannot_rewrite_its_record(vault):
    tenant = new_tenant(vault, mode="delegated", secret=SECRET)
    worker = vault.client(mint_worker_token(vault, tenant))
    # The tenant's consent lapses while the worker's token is still valid.
    store = TenantRecords(vault.root, vault.settings)
    store.write(dataclasses.replace(store.read(tenant), status="needs_consent"))
    record = read_record(worker, tenant)

    with pytest.raises(hvac.exceptions.Forbidden):
        worker.secrets.kv.v2.create_or_update_secret(
            path=f"tenants/{tenant}",
            secret={**record, "status": "active", "mode": "admin", "secret": ""},
            cas=2,
            mount_point="consentvault",
        )

    stored = read_record(vault.root, tenant)
    assert (stored["status"], stored["mode"]) == ("needs_consent", "delegated")
    assert stored["secret"] == record["secret"] != ""


def test_worker_token_cannot_encrypt_but_decrypts_its_own_secret(vault):
    tenant = new_tenant(vault, mode="delegated", secret=SECRET)
    worker = vault.client(mint_worker_token(vault, tenant))
    key = vault.settings.vault.tenant_key(tenant)

    with pytest.raises(hvac.exceptions.Forbidden):
        transit(vault, worker, "encrypt", key, plaintext=b64("forged"))
    opened = transit(
        vault, worker, "decrypt", key, ciphertext=ciphertext_of(vault, tenant)
    )
    assert json.loads(base64.b64decode(opened["data"]["plaintext"])) == SECRET


@pytest.mark.parametrize("context", [None, "b"], ids=["no-context", "b-context"])
def test_token_for_a_cannot_decrypt_b(vault, context):
    tenant_a = new_tenant(vault, mode="delegated", secret=SECRET)
    tenant_b = new_tenant(vault, mode="delegated", secret=SECRET)
    worker = vault.client(mint_worker_token(vault, tenant_a))
    ciphertext_b = ciphertext_of(vault, tenant_b)
    extra = {} if context is None else {"context": b64(tenant_b)}

    with pytest.raises(hvac.exceptions.Forbidden):
        transit(
            vault,
            worker,
            "decrypt",
            vault.settings.vault.tenant_key(tenant_b),
            ciphertext=ciphertext_b,
            **extra,
        )
    # A's own key does not open B's ciphertext either.
    with pytest.raises(hvac.exceptions.InvalidRequest):
        transit(
            vault,
            worker,
            "decrypt",
            vault.settings.vault.tenant_key(tenant_a),
            ciphertext=ciphertext_b,
            **extra,
        )


def test_refresher_token_writes_back_for_its_own_tenant_only(vault):
    tenant = new_tenant(vault, mode="delegated", secret=SECRET)
    other = new_tenant(vault, mode="delegated", secret=SECRET)
    auth = mint_refresher_token(vault, tenant)
    refresher = TenantRecords(vault.client(auth["client_token"]), vault.settings)

    record = refresher.read(tenant)
    rotated = refresher.encrypt_secret(tenant, {"refresh_token": "rt-rotated"})
    refresher.write(dataclasses.replace(record, secret=rotated))

    assert auth["policies"] == [vault.settings.policy_names()["tenant_refresher"]]
    assert auth["lease_duration"] <= 120
    looked_up = vault.root.auth.token.lookup_accessor(auth["accessor"])["data"]
    assert 0 < looked_up["num_uses"] <= vault.settings.vault.refresh_token_num_uses
    stored = TenantRecords(vault.root, vault.settings)
    assert stored.decrypt_secret(stored.read(tenant)) == {"refresh_token": "rt-rotated"}
    with pytest.raises(hvac.exceptions.Forbidden):
        read_record(vault.client(auth["client_token"]), other)
    with pytest.raises(hvac.exceptions.Forbidden):
        transit(
            vault,
            vault.client(auth["client_token"]),
            "encrypt",
            vault.settings.vault.tenant_key(other),
            plaintext=b64("forged"),
        )


def test_broker_creates_a_tenant_key_it_cannot_loosen(vault):
    from consentvault.records import TenantRecord

    broker = vault.client(vault.token_with("consent_broker"))
    tenant = new_tenant(vault)  # only for a fresh GUID; its key goes below
    TenantRecords(vault.root, vault.settings).destroy_key(tenant)
    vault.root.secrets.kv.v2.delete_metadata_and_all_versions(
        path=f"tenants/{tenant}", mount_point="consentvault"
    )
    TenantRecords(broker, vault.settings).create(
        TenantRecord(tenant_id=tenant, mode="admin")
    )
    vault_settings = vault.settings.vault
    path = f"{vault_settings.transit_mount}/keys/{vault_settings.tenant_key(tenant)}"

    key = vault.root.read(path)["data"]
    assert key["exportable"] is False
    assert key["allow_plaintext_backup"] is False
    assert key["deletion_allowed"] is False
    assert key["auto_rotate_period"] == 720 * 3600
    for suffix, data in [
        ("/config", {"deletion_allowed": True}),
        ("/config", {"exportable": True}),
        ("/rotate", {}),
        ("", {"exportable": True, "allow_plaintext_backup": True}),
    ]:
        with pytest.raises(hvac.exceptions.Forbidden):
            broker.write_data(path + suffix, data=data)
    with pytest.raises(hvac.exceptions.Forbidden):
        broker.delete(path)
    with pytest.raises(hvac.exceptions.Forbidden):
        broker.read(path)


def test_operator_may_disable_an_entity_but_not_give_it_policies(vault):
    tenant = new_tenant(vault)
    mint_worker_token(vault, tenant)
    accessor = vault.root.read("sys/auth")["data"]["token/"]["accessor"]
    entity = vault.root.write_data(
        "identity/lookup/entity",
        data={"alias_name": tenant, "alias_mount_accessor": accessor},
    )["data"]
    operator = vault.client(vault.token_with("operator"))
    path = f"identity/entity/id/{entity['id']}"

    for data in [{"policies": ["root"]}, {"disabled": False, "policies": ["x"]}]:
        with pytest.raises(hvac.exceptions.Forbidden):
            operator.write_data(path, data=data)
    operator.write_data(path, data={"disabled": True})
    assert operator.read(path)["data"]["disabled"] is True
    operator.write_data(path, data={"disabled": False})
    after = vault.root.read(path)["data"]
    assert after["disabled"] is False
    assert after["policies"] == []


def test_operator_cannot_make_a_tenant_key_exportable_or_trim_it(vault):
    tenant = new_tenant(vault, mode="delegated", secret=SECRET)
    operator = vault.client(vault.token_with("operator"))
    vault_settings = vault.settings.vault
    path = f"{vault_settings.transit_mount}/keys/{vault_settings.tenant_key(tenant)}"

    operator.write_data(f"{path}/rotate", data={})
    assert vault.root.read(path)["data"]["latest_version"] == 2
    for suffix, data in [
        ("/config", {"exportable": True}),
        ("/config", {"min_decryption_version": 2}),
        ("/trim", {"min_available_version": 2}),
    ]:
        with pytest.raises(hvac.exceptions.Forbidden):
            operator.write_data(path + suffix, data=data)


def test_tenant_remove_shreds_the_tenant_key(vault):
    tenant = new_tenant(vault, mode="delegated", secret=SECRET)
    ciphertext = ciphertext_of(vault, tenant)
    vault_settings = vault.settings.vault
    key = vault_settings.tenant_key(tenant)
    assert vault.root.read(f"{vault_settings.transit_mount}/keys/{key}") is not None

    result = run_cli(
        ["tenant", "remove", tenant, "--reason", "contract ended", "--yes"],
        vault.env(vault.token_with("operator")),
    )

    assert result.exit_code == 0, result.stderr
    assert "transit key destroyed" in result.stdout
    assert vault.root.read(f"{vault_settings.transit_mount}/keys/{key}") is None
    # Not even root opens a copy of the old ciphertext (a backup, say) now.
    with pytest.raises(hvac.exceptions.VaultError):
        transit(vault, vault.root, "decrypt", key, ciphertext=ciphertext)
