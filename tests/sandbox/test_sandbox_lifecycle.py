"""`consentvault sandbox ...` from nothing, driven as a user would, on a live server.

These tests run in order on one sandbox of their own (not the session's), since
they change it: up, inspect, apply again, change a setting, down, up, reset.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import hvac
import pytest

from consentvault.sandbox.paths import SandboxPaths
from consentvault.sandbox.process import stop_pid
from consentvault.sandbox.runtime import Sandbox
from consentvault.settings import load_settings
from tests.conftest import synthesize, write_test_environment

CONSENTVAULT = [str(Path(sys.executable).parent / "consentvault")]
TENANT = str(uuid.UUID(int=0xA11CE))


class Lifecycle:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.dir = folder / "sandbox"
        self.env_file = write_test_environment(folder, self.dir)
        self.outdir = folder / "cdktf.out"
        self.settings = load_settings(path=self.env_file)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "CONSENTVAULT_ENV_FILE": str(self.env_file),
            "CONSENTVAULT_SANDBOX_DIR": str(self.dir),
            "CDKTF_OUTDIR": str(self.outdir),
            **extra,
        }

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        if args[0] == "up" and "CDKTF_OUTDIR" not in extra:
            _mark_fresh(self.outdir)
        return subprocess.run(
            [*CONSENTVAULT, "sandbox", *args],
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def vault(self) -> hvac.Client:
        token = (self.dir / "openbao" / "root-token").read_text().strip()
        return hvac.Client(
            url=self.settings.vault.address,
            token=token,
            verify=str(self.dir / "pki" / "ca.pem"),
        )

    def pids(self) -> list[int]:
        found = []
        for pid_file in (self.dir / "openbao" / "pid", self.dir / "entra" / "pid"):
            if pid_file.exists():
                found.append(int(pid_file.read_text()))
        return found


@pytest.fixture(scope="module")
def life(tmp_path_factory) -> Lifecycle:
    life = Lifecycle(tmp_path_factory.mktemp("lifecycle"))
    synthesize(life.env_file, life.outdir)
    recorded: set[int] = set()
    yield life
    recorded.update(life.pids())
    life.run("down")
    for pid in recorded:
        if Path(f"/proc/{pid}").exists():
            stop_pid(pid)


def _mark_fresh(outdir: Path) -> None:
    # Others edit stacks/ while the suite runs; what counts here is that the
    # synth is the one this module made, so it is marked newer than any edit.
    for stack_file in outdir.glob("stacks/*/cdk.tf.json"):
        os.utime(stack_file)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_up_from_nothing_applies_both_stacks(life):
    done = life.run("up")

    assert done.returncode == 0, done.stderr
    assert "started: entra stand-in, openbao" in done.stdout
    assert "create   local-entra: azuread_application." in done.stdout
    assert "create   local-vault: vault_token_auth_backend_role." in done.stdout
    assert "Real environments are deployed with `cdktf deploy`" in done.stdout
    assert f"openbao: {life.settings.vault.address} (running, pid" in done.stdout


def test_kv_mount_requires_check_and_set(life):
    vault = life.settings.vault
    client = life.vault()

    mounts = client.sys.list_mounted_secrets_engines()["data"]
    config = client.read(f"{vault.kv_mount}/config")["data"]

    assert mounts[f"{vault.kv_mount}/"]["type"] == "kv"
    assert mounts[f"{vault.kv_mount}/"]["options"]["version"] == "2"
    assert config["cas_required"] is True
    assert config["max_versions"] == vault.kv_max_versions


def test_consent_state_key_is_derived_and_not_exportable(life):
    vault = life.settings.vault
    client = life.vault()

    mounts = client.sys.list_mounted_secrets_engines()["data"]
    assert mounts[f"{vault.transit_mount}/"]["type"] == "transit"
    key = client.read(f"{vault.transit_mount}/keys/{vault.transit_state_key}")
    assert key["data"]["derived"] is True
    assert key["data"]["exportable"] is False
    assert key["data"]["deletion_allowed"] is False
    assert key["data"]["auto_rotate_period"] == 720 * 3600
    # Tenant keys come with tenants; the former shared key is not created.
    keys = client.list(f"{vault.transit_mount}/keys")["data"]["keys"]
    assert keys == [vault.transit_state_key]


def test_policies_hold_the_rendered_templates(life):
    client = life.vault()
    token_accessor = client.sys.list_auth_methods()["data"]["token/"]["accessor"]
    synthesized = _synthesized(life, "local-vault")["resource"]["vault_policy"]
    expected = {body["name"]: body["policy"] for body in synthesized.values()}

    assert set(expected) == set(life.settings.policy_names().values())
    for name, template in expected.items():
        text = client.sys.read_policy(name=name)["data"]["rules"]
        assert "${" not in text
        assert text == template.replace(
            "${data.vault_auth_backend.token_auth.accessor}", token_accessor
        )
    reader = client.sys.read_policy(name="local-tenant-reader")["data"]["rules"]
    assert f"identity.entity.aliases.{token_accessor}.name" in reader


def test_refresher_role_mints_minutes_long_tokens_with_few_uses(life):
    role = life.vault().read("auth/token/roles/tenant-refresher")["data"]

    assert role["orphan"] is True
    assert role["renewable"] is False
    assert role["token_explicit_max_ttl"] == 120
    assert role["token_num_uses"] == 16
    assert role["allowed_policies"] == ["local-tenant-refresher"]
    assert role["token_no_default_policy"] is True


def test_token_role_mints_orphan_short_lived_tenant_tokens(life):
    role = life.vault().read("auth/token/roles/tenant-reader")["data"]

    assert role["orphan"] is True
    assert role["renewable"] is False
    assert role["token_type"] == "service"
    assert role["token_explicit_max_ttl"] == 3600
    assert role["allowed_entity_aliases"] == ["*"]
    assert role["allowed_policies"] == ["local-tenant-reader"]
    assert role["token_no_default_policy"] is True


def test_ci_auth_methods_and_roles(life):
    client = life.vault()
    methods = client.sys.list_auth_methods()["data"]

    assert methods["jwt-ci/"]["type"] == "jwt"
    assert methods["approle-ci/"]["type"] == "approle"
    jwt_config = client.read("auth/jwt-ci/config")["data"]
    assert (
        jwt_config["oidc_discovery_url"] == life.settings.vault.jwt.oidc_discovery_url
    )
    jwt_role = client.read("auth/jwt-ci/role/ci-minter")["data"]
    assert jwt_role["bound_audiences"] == ["consentvault"]
    assert jwt_role["bound_claims"] == {"repository": "example/consentvault"}
    assert jwt_role["token_policies"] == ["local-ci-minter"]
    approle = client.read("auth/approle-ci/role/ci-minter")["data"]
    assert approle["secret_id_num_uses"] == 1
    assert approle["secret_id_ttl"] == 600
    assert approle["token_policies"] == ["local-ci-minter"]


def test_audit_device_is_enabled_and_writing(life):
    client = life.vault()
    audit_file = Path(life.settings.vault.audit[0].options["file_path"])

    devices = client.sys.list_enabled_audit_devices()["data"]
    client.sys.read_health_status(method="GET")
    client.read("auth/token/roles/tenant-reader")

    assert devices["file/"]["type"] == "file"
    assert devices["file/"]["options"]["file_path"] == str(audit_file)
    lines = audit_file.read_text().splitlines()
    assert any(
        json.loads(line).get("request", {}).get("path")
        == "auth/token/roles/tenant-reader"
        for line in lines
    )


def test_app_credential_is_in_kv(life):
    vault = life.settings.vault
    secret = life.vault().secrets.kv.v2.read_secret_version(
        path=vault.app_credential_path,
        mount_point=vault.app_kv_mount,
        raise_on_deleted_version=True,
    )["data"]["data"]

    assert set(secret) == {"client_id", "client_secret", "tenant_id"}
    assert all(secret.values())


def test_up_and_status_print_no_secret(life):
    vault = life.settings.vault
    root_token = (life.dir / "openbao" / "root-token").read_text().strip()
    client_secret = life.vault().secrets.kv.v2.read_secret_version(
        path=vault.app_credential_path,
        mount_point=vault.app_kv_mount,
        raise_on_deleted_version=True,
    )["data"]["data"]["client_secret"]

    outputs = [life.run("up"), life.run("status"), life.run("down"), life.run("up")]

    for done in outputs:
        assert done.returncode == 0, done.stderr
        assert root_token not in done.stdout + done.stderr
        assert client_secret not in done.stdout + done.stderr


def test_second_up_changes_nothing(life):
    done = life.run("up")

    assert done.returncode == 0, done.stderr
    assert "already running, 0 changes" in done.stdout
    assert "create " not in done.stdout and "update " not in done.stdout


def test_changed_setting_updates_only_that_resource(life):
    text = life.env_file.read_text()
    life.env_file.write_text(
        text.replace('minted_max_ttl = "1h"', 'minted_max_ttl = "2h"')
    )
    shutil.rmtree(life.outdir)
    synthesize(life.env_file, life.outdir)

    done = life.run("up")

    assert done.returncode == 0, done.stderr
    changes = [
        line
        for line in done.stdout.splitlines()
        if line.split(" ", 1)[0] in ("create", "update", "replace", "delete")
    ]
    assert len(changes) == 1
    assert changes[0].startswith("update   local-vault: vault_token_auth_backend_role.")
    role = life.vault().read("auth/token/roles/tenant-reader")["data"]
    assert role["token_explicit_max_ttl"] == 7200


def test_changed_app_registration_is_patched_in_place(life, tmp_path):
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(life.outdir, outdir)
    stack_file = outdir / "stacks" / "local-entra" / "cdk.tf.json"
    stack_file.write_text(
        stack_file.read_text().replace(
            '"display_name": "consentvault (sandbox)"',
            '"display_name": "consentvault (renamed)"',
        )
    )
    _mark_fresh(outdir)
    vault = life.settings.vault
    before = life.vault().secrets.kv.v2.read_secret_metadata(
        path=vault.app_credential_path, mount_point=vault.app_kv_mount
    )["data"]["current_version"]

    done = life.run("up", CDKTF_OUTDIR=str(outdir))

    assert done.returncode == 0, done.stderr
    assert "update   local-entra: azuread_application." in done.stdout
    assert "1 change(s) applied" in done.stdout
    after = life.vault().secrets.kv.v2.read_secret_metadata(
        path=vault.app_credential_path, mount_point=vault.app_kv_mount
    )["data"]["current_version"]
    assert after == before
    admin = Sandbox(life.settings, SandboxPaths(life.dir)).graph_admin()
    apps = admin.request("GET", "/v1.0/applications")["value"]
    assert "consentvault (renamed)" in [app["displayName"] for app in apps]
    assert life.run("up").returncode == 0


def test_removed_and_counted_out_resources_are_deleted(life, tmp_path):
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(life.outdir, outdir)
    stack_file = outdir / "stacks" / "local-vault" / "cdk.tf.json"
    document = json.loads(stack_file.read_text())
    policies = document["resource"]["vault_policy"]
    (operator,) = [k for k, v in policies.items() if v["name"] == "local-operator"]
    (approle,) = document["resource"]["vault_approle_auth_backend_role"]
    del policies[operator]
    document["resource"]["vault_approle_auth_backend_role"][approle]["count"] = 0
    stack_file.write_text(json.dumps(document))
    _mark_fresh(outdir)

    done = life.run("up", CDKTF_OUTDIR=str(outdir))

    assert done.returncode == 0, done.stderr
    assert (
        f"skip     local-vault: vault_approle_auth_backend_role.{approle} (count = 0)"
        in (done.stdout)
    )
    assert f"delete   local-vault: vault_policy.{operator}" in done.stdout
    assert (
        f"delete   local-vault: vault_approle_auth_backend_role.{approle}"
        in done.stdout
    )
    assert "local-operator" not in life.vault().sys.list_policies()["data"]["policies"]

    restored = life.run("up")

    assert restored.returncode == 0, restored.stderr
    assert "2 change(s) applied" in restored.stdout
    assert "local-operator" in life.vault().sys.list_policies()["data"]["policies"]


def test_unknown_resource_type_stops_before_any_write(life, tmp_path):
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(life.outdir, outdir)
    stack_file = outdir / "stacks" / "local-vault" / "cdk.tf.json"
    document = json.loads(stack_file.read_text())
    document["resource"]["vault_database_secret_backend_connection"] = {
        "db": {"backend": "db", "name": "postgres"}
    }
    document["resource"]["vault_policy"]["extra"] = {"name": "extra", "policy": ""}
    stack_file.write_text(json.dumps(document))
    state_before = (life.dir / "state.json").read_bytes()

    done = life.run("up", CDKTF_OUTDIR=str(outdir))

    assert done.returncode == 10
    assert "vault_database_secret_backend_connection" in done.stderr
    assert "does not support" in done.stderr
    assert (life.dir / "state.json").read_bytes() == state_before
    assert "extra" not in life.vault().sys.list_policies()["data"]["policies"]


def test_stale_synth_is_refused_with_make_synth(life, tmp_path):
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(life.outdir, outdir)
    for stack_file in outdir.glob("stacks/*/cdk.tf.json"):
        os.utime(stack_file, (0, 0))

    done = life.run("up", CDKTF_OUTDIR=str(outdir))

    assert done.returncode == 3
    assert "make synth`" in done.stderr


def test_missing_synth_is_refused_with_make_synth(life, tmp_path):
    done = life.run("up", CDKTF_OUTDIR=str(tmp_path / "nothing"))

    assert done.returncode == 3
    assert "make synth`" in done.stderr


def test_status_reports_processes_tenants_and_drift(life):
    done = life.run("status")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"openbao: {life.settings.vault.address} (running, pid ")
    assert lines[1].startswith(
        f"entra stand-in: {life.settings.entra.authority_host} (running, pid "
    )
    assert "openbao sealed: no" in lines
    assert "tenants: 0" in lines
    assert lines[-1].endswith("match the current synth")


def test_status_tells_when_the_synth_changed_since_the_apply(life, tmp_path):
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(life.outdir, outdir)
    stack_file = outdir / "stacks" / "local-vault" / "cdk.tf.json"
    stack_file.write_text(stack_file.read_text().replace("ci-minter", "ci-minter2"))

    done = life.run("status", CDKTF_OUTDIR=str(outdir))

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].endswith(
        "differ from the current synth; run `consentvault sandbox up`"
    )


def test_a_failed_apply_reads_as_partly_applied(life, tmp_path):
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(life.outdir, outdir)
    stack_file = outdir / "stacks" / "local-vault" / "cdk.tf.json"
    document = json.loads(stack_file.read_text())
    document["resource"]["vault_policy"]["broken"] = {
        "name": "broken",
        "policy": 'path "x" {',
    }
    stack_file.write_text(json.dumps(document))
    _mark_fresh(outdir)

    failed = life.run("up", CDKTF_OUTDIR=str(outdir))
    status = life.run("status", CDKTF_OUTDIR=str(outdir))

    assert failed.returncode not in (0, 1), failed.stderr
    assert "Traceback" not in failed.stderr
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[-1].startswith("stacks: partly applied (")
    assert "the last apply did not finish" in status.stdout

    restored = life.run("up")

    assert restored.returncode == 0, restored.stderr
    assert (
        life.run("status").stdout.splitlines()[-1].endswith("match the current synth")
    )


def test_a_sealed_openbao_is_reported_and_unsealed_by_up(life):
    life.vault().sys.seal()

    status = life.run("status")
    up = life.run("up")

    assert status.returncode == 4
    assert "openbao sealed: yes" in status.stdout
    assert "openbao is sealed: `consentvault sandbox up` restarts it" in status.stderr
    assert up.returncode == 0, up.stderr
    assert "openbao was sealed: restarted it, which unsealed it" in up.stdout
    assert "Traceback" not in up.stderr
    assert life.vault().sys.read_health_status(method="GET")["sealed"] is False


def test_env_lines_work_in_a_shell(life):
    bao = Path(sys.executable).parent / "bao"
    script = (
        f'eval "$({CONSENTVAULT[0]} sandbox env)" && {bao} token lookup -format=json'
    )
    env = {
        k: v
        for k, v in life.env().items()
        if not k.startswith(("VAULT_", "BAO_")) and k not in ("REQUESTS_CA_BUNDLE",)
    }

    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data"]["policies"] == ["root"]


def test_env_does_not_set_requests_ca_bundle(life):
    done = life.run("env")

    names = [line.split()[1].split("=")[0] for line in done.stdout.splitlines()]
    assert done.returncode == 0
    assert {"VAULT_ADDR", "VAULT_TOKEN", "VAULT_CACERT"} <= set(names)
    assert {"CONSENTVAULT_ENV_FILE", "CONSENTVAULT_SANDBOX_DIR"} <= set(names)
    # Only what something reads: the stand-in is found through the settings.
    assert not [name for name in names if name.startswith("CONSENTVAULT_ENTRA")]
    assert "REQUESTS_CA_BUNDLE" not in names


def test_down_stops_both_processes_and_up_keeps_the_data(life):
    vault = life.settings.vault
    life.vault().secrets.kv.v2.create_or_update_secret(
        path=f"{vault.tenants_prefix}/{TENANT}",
        secret={"tenant_id": TENANT, "status": "active"},
        cas=0,
        mount_point=vault.kv_mount,
    )
    pids = life.pids()

    down = life.run("down")

    assert down.returncode == 0, down.stderr
    assert down.stdout.strip() == "stopped: openbao, entra stand-in"
    assert len(pids) == 2
    assert not any(_alive(pid) for pid in pids)

    up = life.run("up")

    assert up.returncode == 0, up.stderr
    assert "started: entra stand-in, openbao" in up.stdout
    assert "0 change(s) applied" in up.stdout
    record = life.vault().secrets.kv.v2.read_secret_version(
        path=f"{vault.tenants_prefix}/{TENANT}",
        mount_point=vault.kv_mount,
        raise_on_deleted_version=True,
    )
    assert record["data"]["data"]["status"] == "active"
    status = life.run("status")
    assert "tenants: 1" in status.stdout.splitlines()


def test_reset_says_what_it_removes_and_removes_it(life):
    pids = life.pids()

    declined = subprocess.run(
        [*CONSENTVAULT, "sandbox", "reset"],
        env=life.env(),
        input="n\n",
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert declined.returncode != 0
    assert f"This removes {life.dir}" in declined.stdout
    assert life.dir.exists()

    done = life.run("reset", "--yes")

    assert done.returncode == 0, done.stderr
    assert f"This removes {life.dir}" in done.stdout
    assert not life.dir.exists()
    assert not any(_alive(pid) for pid in pids)


def _synthesized(life: Lifecycle, stack: str) -> dict:
    return json.loads((life.outdir / "stacks" / stack / "cdk.tf.json").read_text())
