"""Both consent modes end to end: URL, the scripted admin, redemption, record."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import hvac.exceptions
import pytest

from consentvault.entra_client import EntraClient, graph_scopes, read_app_credential
from consentvault.records import TenantRecords
from consentvault.sandbox.entra import approve


def consent_url(cli, consent_env, mode: str, *extra: str) -> str:
    result = cli(["consent", "url", "--mode", mode, *extra], consent_env.env())
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_admin_consent_end_to_end(cli, consent_env, customer):
    url = consent_url(cli, consent_env, "admin")
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)

    result = cli(
        ["consent", "redeem", "--callback-url", "-", "--format", "json"],
        consent_env.env(),
        stdin=redirect,
    )

    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["tenant_id"] == customer
    records = TenantRecords(consent_env.vault_client(), consent_env.settings)
    record = records.read(customer)
    assert record.mode == "admin"
    assert record.status == "active"
    assert sorted(record.granted) == sorted(
        consent_env.settings.entra.application_permissions
    )
    assert record.secret == ""


def test_delegated_consent_end_to_end(cli, consent_env, customer):
    url = consent_url(cli, consent_env, "delegated")
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)
    code = parse_qs(urlsplit(redirect).query)["code"][0]

    result = cli(
        ["consent", "redeem", "--callback-url", "-"], consent_env.env(), stdin=redirect
    )

    assert result.exit_code == 0, result.stderr
    assert customer in result.stdout
    assert code not in result.output
    client = consent_env.vault_client()
    settings = consent_env.settings
    raw = client.secrets.kv.v2.read_secret_version(
        path=f"{settings.vault.tenants_prefix}/{customer}",
        mount_point=settings.vault.kv_mount,
        raise_on_deleted_version=True,
    )["data"]["data"]
    assert raw["secret"].startswith("vault:v")
    assert raw["mode"] == "delegated" and raw["status"] == "active"
    assert "User.Read" in raw["granted"]

    records = TenantRecords(client, settings)
    refresh_token = records.decrypt_secret(records.read(customer))["refresh_token"]
    assert refresh_token not in json.dumps(raw)
    # The stand-in honours it: it is the refresh token it issued for this tenant.
    entra = EntraClient(
        settings, read_app_credential(client, settings), tenant=customer
    )
    refreshed = entra.acquire_token_by_refresh_token(
        refresh_token, graph_scopes(settings.entra.delegated_permissions)
    )
    assert refreshed["id_token_claims"]["tid"] == customer


@pytest.fixture
def customer(customers) -> str:
    return customers[0]


def test_reconsent_deletes_the_shared_graph_token(cli, consent_env, customer):
    vault = consent_env.settings.vault
    root = consent_env.vault_client()
    lock = f"{vault.locks_prefix}/{customer}"

    def consent() -> None:
        url = consent_url(cli, consent_env, "delegated")
        redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)
        result = cli(
            ["consent", "redeem", "--callback-url", "-"],
            consent_env.env(),
            stdin=redirect,
        )
        assert result.exit_code == 0, result.stderr

    consent()
    # What `mint graph-token` leaves: a token of this consent, cached.
    root.secrets.kv.v2.delete_metadata_and_all_versions(
        path=lock, mount_point=vault.kv_mount
    )
    root.secrets.kv.v2.create_or_update_secret(
        path=lock,
        secret={"state": "done", "access_token": "vault:v1:old", "expires_at": 0},
        mount_point=vault.kv_mount,
        cas=0,
    )

    consent()

    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v2.read_secret_metadata(path=lock, mount_point=vault.kv_mount)
