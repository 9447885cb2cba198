"""A rotated app secret reaches Vault on the next apply, as on `cdktf deploy`.

The credential used to sit on the tenant records' mount, which requires
check-and-set; the provider's `cas` never reaches Vault's check, so a rewrite
after a rotation was refused. It now has a mount of its own without it. These
tests run on a sandbox of their own, since they replace the app's secrets.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from urllib.parse import urlencode

import hvac
import hvac.exceptions
import msal
import pytest

from consentvault.entra_client import read_app_credential
from consentvault.sandbox.apply.registry import (
    RESOURCES,
    ApplyContext,
    load_handlers,
)
from consentvault.sandbox.entra.client import sign_in
from tests.conftest import start_sandbox

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    sandbox = start_sandbox(tmp_path_factory.mktemp("rotation"))
    try:
        yield sandbox
    finally:
        sandbox.box.stop()


def minter_client(live) -> hvac.Client:
    """A ci-minter token, got through AppRole as a CI job gets it."""
    root = live.vault_client()
    approle = live.settings.vault.approle
    role = f"auth/{approle.path}/role/{approle.role}"
    role_id = root.read(f"{role}/role-id")["data"]["role_id"]
    secret_id = root.write(f"{role}/secret-id")["data"]["secret_id"]
    client = hvac.Client(url=live.vault_addr, verify=str(live.ca_file))
    client.auth.approle.login(
        role_id=role_id, secret_id=secret_id, mount_point=approle.path
    )
    return client


def with_renamed_secrets(live, outdir):
    """The synth with both app secrets' inputs changed: both are replaced."""
    shutil.copytree(live.outdir, outdir)
    stack_file = outdir / "stacks" / f"{live.settings.name}-entra" / "cdk.tf.json"
    document = json.loads(stack_file.read_text())
    passwords = document["resource"]["azuread_application_password"]
    for password in passwords.values():
        password["display_name"] += " (rotated)"
    stack_file.write_text(json.dumps(document))
    return outdir


def consented_customer(live, client_id: str) -> str:
    """A customer tenant whose admin consented to the app."""
    customer = live.control.customer_tenants()[0]["id"]
    consent_url = f"{live.authority}/{customer}/v2.0/adminconsent?" + urlencode(
        {
            "client_id": client_id,
            "redirect_uri": live.settings.entra.redirect_uris[0],
            "state": "rotation-test",
            "scope": GRAPH_SCOPE,
        }
    )
    sign_in(consent_url, ca_file=live.ca_file, tenant=customer)
    return customer


def token_result(live, credential, tenant: str) -> dict:
    app = msal.ConfidentialClientApplication(
        credential.client_id,
        client_credential=credential.client_secret,
        authority=f"{live.authority}/{tenant}",
        instance_discovery=False,
        verify=str(live.ca_file),
    )
    return app.acquire_token_for_client(scopes=[GRAPH_SCOPE])


def test_rotated_secret_is_written_as_a_new_version(live, tmp_path):
    vault = live.settings.vault
    kv = live.vault_client().secrets.kv.v2
    before = read_app_credential(minter_client(live), live.settings)
    customer = consented_customer(live, before.client_id)
    version_before = kv.read_secret_metadata(
        path=vault.app_credential_path, mount_point=vault.app_kv_mount
    )["data"]["current_version"]
    lines: list[str] = []

    report = live.box.apply(
        with_renamed_secrets(live, tmp_path / "cdktf.out"),
        echo=lines.append,
        fresh=False,
    )

    changed = {(c.action, c.stack, c.address.split(".")[0]) for c in report.changes}
    assert (
        "update",
        f"{live.settings.name}-vault",
        "vault_kv_secret_v2",
    ) in changed
    assert not [line for line in lines if line.startswith("warning")]
    version_after = kv.read_secret_metadata(
        path=vault.app_credential_path, mount_point=vault.app_kv_mount
    )["data"]["current_version"]
    assert version_after == version_before + 1
    after = read_app_credential(minter_client(live), live.settings)
    assert after.client_id == before.client_id
    assert after.client_secret != before.client_secret
    assert "access_token" in token_result(live, after, customer)
    refused = token_result(live, before, customer)
    assert refused.get("error") == "invalid_client"


def test_credential_mount_takes_writes_without_check_and_set(live):
    root = live.vault_client()
    vault = live.settings.vault

    app_config = root.read(f"{vault.app_kv_mount}/config")["data"]
    tenant_config = root.read(f"{vault.kv_mount}/config")["data"]

    assert app_config["cas_required"] is False
    assert tenant_config["cas_required"] is True


def test_provider_style_cas_is_refused_on_a_check_and_set_mount(live):
    """What `cdktf deploy` met on the tenant mount: `cas = 0` checks nothing."""
    load_handlers()
    ctx = ApplyContext(
        vault=live.vault_client(), entra=lambda: None, now=datetime.now(UTC)
    )
    config = {
        "mount": live.settings.vault.kv_mount,
        "name": "probe/provider-cas",
        "cas": 0,
        "data_json": json.dumps({"probe": "1"}),
    }

    with pytest.raises(hvac.exceptions.InvalidRequest) as caught:
        RESOURCES["vault_kv_secret_v2"].create(ctx, config)

    assert "check-and-set parameter required" in str(caught.value)
