"""`consentvault mint graph-token` against the sandbox's Entra stand-in."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from consentvault.records import TenantRecords

from .helpers import consent, redact, run_cli


@pytest.fixture(scope="module")
def customers(sandbox) -> list[str]:
    return [tenant["id"] for tenant in sandbox.control.customer_tenants()]


@pytest.fixture
def admin_tenant(vault, customers) -> str:
    consent(vault, customers[1], "admin")
    return customers[1]


@pytest.fixture
def delegated_tenant(vault, customers) -> str:
    tenant = customers[2]
    consent(vault, tenant, "delegated")
    forget_shared_token(vault, tenant)
    vault.sandbox.control.reset()
    return tenant


def forget_shared_token(vault, tenant: str) -> None:
    vault.root.secrets.kv.v2.delete_metadata_and_all_versions(
        path=f"locks/{tenant}", mount_point="consentvault"
    )


def mint(vault, tenant: str, *args: str):
    return run_cli(
        ["mint", "graph-token", "--tenant", tenant, *args],
        vault.env(vault.token_with("ci_minter")),
    )


def graph(vault, access_token: str, what: str) -> requests.Response:
    return requests.get(
        f"{vault.settings.entra.graph_url}/v1.0/{what}",
        headers={"Authorization": f"Bearer {access_token}"},
        verify=str(vault.ca_file),
        timeout=10,
    )


def stored(vault, tenant: str):
    records = TenantRecords(vault.root, vault.settings)
    record = records.read(tenant)
    return record, records.decrypt_secret(record).get("refresh_token")


def test_admin_tenant_gets_an_app_token(vault, admin_tenant):
    before = vault.sandbox.control.grant_count("client_credentials")
    result = mint(vault, admin_tenant)

    assert result.exit_code == 0, result.why()
    minted = json.loads(result.stdout)
    assert minted["mode"] == "admin"
    reply = graph(vault, minted["access_token"], "organization")
    assert reply.status_code == 200
    assert reply.json()["value"][0]["id"] == admin_tenant
    assert vault.sandbox.control.grant_count("client_credentials") == before + 1


def test_delegated_tenant_refreshes_and_stores_the_rotated_token(
    vault, delegated_tenant
):
    record_before, refresh_before = stored(vault, delegated_tenant)

    result = mint(vault, delegated_tenant)

    assert result.exit_code == 0, result.why()
    minted = json.loads(result.stdout)
    assert minted["mode"] == "delegated"
    assert graph(vault, minted["access_token"], "me").status_code == 200
    assert vault.sandbox.control.grant_count("refresh_token") == 1
    record_after, refresh_after = stored(vault, delegated_tenant)
    assert record_after.version == record_before.version + 1
    rotated = bool(refresh_after) and refresh_after != refresh_before
    assert rotated  # compared first, so a failure never prints a token
    assert record_after.last_refreshed_at

    again = mint(vault, delegated_tenant)
    assert again.exit_code == 0, again.why()
    assert json.loads(again.stdout)["reused_shared_token"] is True
    assert vault.sandbox.control.grant_count("refresh_token") == 1


def test_twenty_concurrent_mints_refresh_once(vault, delegated_tenant):
    record_before, refresh_before = stored(vault, delegated_tenant)
    env = vault.sandbox.env(VAULT_TOKEN=vault.token_with("ci_minter"))
    command = [sys.executable, "-c", "from consentvault.cli import main; main()"]
    processes = [
        subprocess.Popen(
            [*command, "mint", "graph-token", "--tenant", delegated_tenant],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(20)
    ]
    # Generous: twenty interpreters start on a shared two-core machine; the
    # leader renews its lease meanwhile, the waiters wait up to WAIT_SECONDS.
    outcomes = [(p.wait(timeout=300), *p.communicate()) for p in processes]

    failed = [
        f"process {n}: exit {code}; stderr: {redact(err)}"
        for n, (code, _, err) in enumerate(outcomes)
        if code != 0
    ]
    assert failed == [], "\n".join(failed)
    minted = [json.loads(out) for _, out, _ in outcomes]
    assert vault.sandbox.control.grant_count("refresh_token") == 1
    assert sum(not m["reused_shared_token"] for m in minted) == 1
    distinct_tokens = len({m["access_token"] for m in minted})
    assert distinct_tokens == 1
    record_after, refresh_after = stored(vault, delegated_tenant)
    assert record_after.version == record_before.version + 1
    rotated = refresh_after != refresh_before
    assert rotated
    forget_shared_token(vault, delegated_tenant)
    follow_up = mint(vault, delegated_tenant)
    assert follow_up.exit_code == 0, follow_up.why()
    assert vault.sandbox.control.grant_count("refresh_token") == 2


def test_refused_refresh_token_marks_the_tenant_needs_consent(vault, delegated_tenant):
    vault.sandbox.control.revoke_consent(delegated_tenant)
    try:
        result = mint(vault, delegated_tenant)
        assert result.exit_code == 7
        assert f"tenant {delegated_tenant} needs consent again" in result.stderr
        assert stored(vault, delegated_tenant)[0].status == "needs_consent"
        again = mint(vault, delegated_tenant)
        assert again.exit_code == 7
        assert vault.sandbox.control.grant_count("refresh_token") == 1
    finally:
        consent(vault, delegated_tenant, "delegated")


def test_throttling_is_retried_without_a_second_write(vault, delegated_tenant):
    version = stored(vault, delegated_tenant)[0].version
    vault.sandbox.control.fail("token", 429, count=1, retry_after=0)
    result = mint(vault, delegated_tenant)
    assert result.exit_code == 0, result.why()
    assert stored(vault, delegated_tenant)[0].version == version + 1


def test_a_passing_server_error_is_retried(vault, delegated_tenant):
    version = stored(vault, delegated_tenant)[0].version
    vault.sandbox.control.fail("token", 503, count=1)
    result = mint(vault, delegated_tenant)
    assert result.exit_code == 0, result.why()
    assert vault.sandbox.control.grant_count("refresh_token") == 2
    assert stored(vault, delegated_tenant)[0].version == version + 1


def test_failing_platform_leaves_the_record_alone(vault, delegated_tenant):
    record_before, refresh_before = stored(vault, delegated_tenant)
    vault.sandbox.control.fail("token", 503, count=10)
    result = mint(vault, delegated_tenant)
    vault.sandbox.control.reset()
    assert result.exit_code == 9
    record_after, refresh_after = stored(vault, delegated_tenant)
    assert record_after.version == record_before.version
    kept = refresh_after == refresh_before
    assert kept
    assert record_after.status == "active"
