"""The stand-in as a background process, and state that survives a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import msal
import requests

from consentvault.sandbox.entra import approve, running_standin, sign_in

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]
REDIRECT = "https://127.0.0.1:9/cb"


def _wait_for_url(folder, process) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if (folder / "url").exists():
            return (folder / "url").read_text().strip()
        assert process.poll() is None, "stand-in exited early"
        time.sleep(0.05)
    raise AssertionError("stand-in did not write its url")


def _msal(running, client_id: str, secret: str, tenant: str):
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=secret,
        authority=running.authority(tenant),
        instance_discovery=False,
        verify=str(running.ca_file),
    )


def test_background_process_serves_and_stops_by_pid(tmp_path):
    token_file = tmp_path / "control-token"
    token_file.write_text("control-secret-value\n")
    state = tmp_path / "entra"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "consentvault.sandbox.entra",
            "--dir",
            str(state),
            "--control-token-file",
            str(token_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = _wait_for_url(state, process)
        pid = int((state / "standin.pid").read_text())
        reply = requests.get(
            f"{base_url}/ci/keys", verify=str(state / "pki" / "ca.pem"), timeout=10
        )
    finally:
        os.kill(process.pid, signal.SIGTERM)
        out, err = process.communicate(timeout=20)

    assert pid == process.pid
    assert reply.status_code == 200
    assert process.returncode == 0
    assert base_url in out
    assert "control-secret-value" not in out + err
    assert "GET /ci/keys 200" in err
    assert not (state / "standin.pid").exists()


def test_restart_keeps_apps_consents_and_refresh_tokens(tmp_path):
    with running_standin(tmp_path, control_token="ctl") as first:
        created = first.control.register_application(
            "persisted",
            [REDIRECT],
            application_permissions=["User.Read.All"],
            delegated_permissions=["User.Read", "offline_access"],
        )
        secret = first.control.add_password(created["id"])["secretText"]
        tenant = first.control.customer_tenants()[0]["id"]
        approve(
            f"{first.base_url}/{tenant}/v2.0/adminconsent?client_id={created['appId']}"
            f"&redirect_uri={REDIRECT}&state=s&scope=https://graph.microsoft.com/.default",
            ca_file=first.ca_file,
            tenant=tenant,
        )
        tenants_before = first.control.tenants()
        signed_in = _msal(first, created["appId"], secret, tenant)
        flow = signed_in.initiate_auth_code_flow(
            ["User.Read"], redirect_uri=REDIRECT, response_mode="form_post"
        )
        reply = sign_in(flow["auth_uri"], ca_file=first.ca_file, tenant=tenant)
        first_tokens = signed_in.acquire_token_by_auth_code_flow(flow, reply.params)

    with running_standin(tmp_path, control_token="ctl") as second:
        result = _msal(
            second, created["appId"], secret, tenant
        ).acquire_token_for_client(GRAPH_DEFAULT)
        refreshed = _msal(
            second, created["appId"], secret, tenant
        ).acquire_token_by_refresh_token(first_tokens["refresh_token"], ["User.Read"])
        tenants_after = second.control.tenants()

    assert "access_token" in result
    assert "access_token" in refreshed
    assert sorted(tenants_after["tenants"], key=lambda t: t["id"]) == sorted(
        tenants_before["tenants"], key=lambda t: t["id"]
    )
    on_disk = (tmp_path / "directory.json").read_text()
    assert secret not in on_disk
    assert first_tokens["refresh_token"] not in on_disk
    assert json.loads(on_disk)["home_tenant"] == tenants_before["home_tenant"]


def test_damaged_state_file_exits_with_the_configuration_code(tmp_path):
    (tmp_path / "directory.json").write_text("{not json")

    done = subprocess.run(
        [sys.executable, "-m", "consentvault.sandbox.entra", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 3
    assert done.stderr.startswith(f"Error: cannot start the stand-in in {tmp_path}")
