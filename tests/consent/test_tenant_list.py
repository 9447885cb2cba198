"""`tenant list` shows what it can, and says why when it cannot."""

from __future__ import annotations

import uuid

import pytest

from consentvault.records import TenantRecord


@pytest.fixture
def three_tenants(consent_env):
    """Three admin records (good, soft-deleted, malformed); destroyed afterwards."""
    records = consent_env.records()
    vault = consent_env.settings.vault
    client = consent_env.vault_client()
    good, deleted, malformed = (str(uuid.uuid4()) for _ in range(3))
    records.create(TenantRecord(tenant_id=good, mode="admin"))
    records.create(TenantRecord(tenant_id=deleted, mode="admin"))
    client.secrets.kv.v2.delete_latest_version_of_secret(
        path=records.path(deleted), mount_point=vault.kv_mount
    )
    client.secrets.kv.v2.create_or_update_secret(
        path=records.path(malformed),
        secret={"tenant_id": malformed, "mode": "neither"},
        cas=0,
        mount_point=vault.kv_mount,
    )
    yield good, deleted, malformed
    for tenant_id in (good, deleted, malformed):
        client.secrets.kv.v2.delete_metadata_and_all_versions(
            path=records.path(tenant_id), mount_point=vault.kv_mount
        )


def test_bad_records_are_skipped_with_a_warning(cli, consent_env, three_tenants):
    good, deleted, malformed = three_tenants

    result = cli(["tenant", "list"], consent_env.env(consent_env.operator_token))

    assert result.exit_code == 0, result.output
    assert good in result.stdout
    assert deleted not in result.stdout and malformed not in result.stdout
    assert f"Warning: skipped tenant {deleted}: unknown tenant" in result.stderr
    assert f"Warning: skipped tenant {malformed}: " in result.stderr
    assert "is malformed" in result.stderr


def test_no_token_says_so(cli, consent_env, tmp_path):
    env = {**consent_env.env(), "VAULT_TOKEN": "", "HOME": str(tmp_path)}

    result = cli(["tenant", "list"], env)

    assert result.exit_code == 5
    assert "no Vault token: set VAULT_TOKEN or log in" in result.stderr


def test_mistyped_namespace_is_not_an_empty_list(cli, consent_env):
    env = {**consent_env.env(consent_env.operator_token), "VAULT_NAMESPACE": "typo"}

    result = cli(["tenant", "list"], env)

    assert result.exit_code == 6, result.output
    mount = consent_env.settings.vault.kv_mount
    assert f"KV mount {mount} not found at " in result.stderr
    assert "in namespace typo: check VAULT_ADDR and VAULT_NAMESPACE" in result.stderr
    assert "No tenants." not in result.stderr
