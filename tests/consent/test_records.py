"""The tenant record store against a real OpenBao: CAS, transit, listing."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from consentvault import errors
from consentvault.records import (
    InvalidTenantId,
    TenantRecord,
    TenantRecords,
    normalize_tenant_id,
)


@pytest.fixture
def store(vault_env) -> TenantRecords:
    return TenantRecords(vault_env.client, vault_env.settings)


def _new_tenant() -> str:
    return str(uuid.uuid4())


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not-a-guid",
        "{" + str(uuid.UUID(int=1)) + "}",
        "../" + str(uuid.UUID(int=1)),
        str(uuid.UUID(int=1)).replace("-", ""),
        None,
        42,
        "x" * 5000,
    ],
    ids=["empty", "word", "braces", "traversal", "no-dashes", "none", "int", "huge"],
)
def test_tenant_id_must_be_a_guid(value):
    with pytest.raises(InvalidTenantId) as caught:
        normalize_tenant_id(value)
    assert caught.value.exit_code == 2
    assert len(str(caught.value)) < 80


def test_tenant_id_is_lower_cased():
    assert normalize_tenant_id(" 0A1B2C3D-0000-4000-8000-00000000ABCD ") == (
        "0a1b2c3d-0000-4000-8000-00000000abcd"
    )


def test_repr_hides_the_secret():
    record = TenantRecord(
        tenant_id=_new_tenant(), mode="delegated", secret="vault:v1:zz"
    )
    assert "vault:v1:zz" not in repr(record)
    assert "secret" not in record.metadata()


def test_create_read_and_decrypt(store):
    tenant = _new_tenant()
    store.ensure_key(tenant)
    ciphertext = store.encrypt_secret(tenant, {"refresh_token": "rt-recognisable"})
    assert ciphertext.startswith("vault:v1:")
    written = store.create(
        TenantRecord(
            tenant_id=tenant,
            mode="delegated",
            granted=("User.Read",),
            secret=ciphertext,
        )
    )
    assert written.version == 1

    record = store.read(tenant.upper())
    assert record.tenant_id == tenant
    assert record.granted == ("User.Read",)
    assert store.decrypt_secret(record) == {"refresh_token": "rt-recognisable"}
    assert tenant in store.list_ids()


def test_ciphertext_is_bound_to_its_tenant(store):
    tenant, other = _new_tenant(), _new_tenant()
    store.ensure_key(tenant)
    store.ensure_key(other)
    ciphertext = store.encrypt_secret(tenant, {"refresh_token": "x"})
    foreign = TenantRecord(tenant_id=other, mode="delegated", secret=ciphertext)
    with pytest.raises(errors.ConsentVaultError):
        store.decrypt_secret(foreign)


def test_create_twice_conflicts(store):
    tenant = _new_tenant()
    store.create(TenantRecord(tenant_id=tenant, mode="admin"))
    with pytest.raises(errors.Conflict):
        store.create(TenantRecord(tenant_id=tenant, mode="delegated"))
    assert store.read(tenant).mode == "admin"


def test_unknown_tenant_is_not_found(store):
    tenant = _new_tenant()
    with pytest.raises(errors.NotFound) as caught:
        store.read(tenant)
    assert caught.value.exit_code == 6
    assert tenant in str(caught.value)
    assert store.current_version(tenant) == 0


def test_stale_write_conflicts(store):
    tenant = _new_tenant()
    first = store.create(TenantRecord(tenant_id=tenant, mode="admin"))
    store.write(dataclasses.replace(first, status="needs_consent"))
    with pytest.raises(errors.Conflict):
        store.write(dataclasses.replace(first, status="revoked"))
    assert store.read(tenant).status == "needs_consent"


def test_plain_secret_is_refused(store):
    tenant = _new_tenant()
    with pytest.raises(errors.UsageError):
        store.create(TenantRecord(tenant_id=tenant, mode="delegated", secret="plain"))
    assert store.current_version(tenant) == 0


def test_update_retries_only_when_idempotent(store):
    tenant = _new_tenant()
    store.create(TenantRecord(tenant_id=tenant, mode="admin"))
    calls = []

    def racing_change(record: TenantRecord) -> TenantRecord:
        # Another writer slips in between our read and our write, once.
        if not calls:
            store.write(dataclasses.replace(record, consented_by="someone-else"))
        calls.append(record.version)
        return dataclasses.replace(record, status="needs_consent")

    with pytest.raises(errors.Conflict):
        store.update(tenant, racing_change)
    assert calls == [1]

    calls.clear()
    updated = store.update(tenant, racing_change, idempotent=True)
    assert calls == [2, 3]
    assert updated.version == 4
    assert store.read(tenant).status == "needs_consent"


def test_unknown_keys_survive_a_write(store):
    tenant = _new_tenant()
    store.client.secrets.kv.v2.create_or_update_secret(
        path=store.path(tenant),
        secret={"tenant_id": tenant, "mode": "admin", "future_field": "kept"},
        cas=0,
        mount_point=store.vault.kv_mount,
    )
    record = store.read(tenant)
    store.write(dataclasses.replace(record, status="revoked"))
    raw = store.client.secrets.kv.v2.read_secret_version(
        path=store.path(tenant),
        mount_point=store.vault.kv_mount,
        raise_on_deleted_version=True,
    )
    assert raw["data"]["data"]["future_field"] == "kept"


def test_destroy_removes_every_version(store):
    tenant = _new_tenant()
    store.create(TenantRecord(tenant_id=tenant, mode="admin"))
    store.destroy(tenant)
    assert store.current_version(tenant) == 0
    assert tenant not in store.list_ids()
