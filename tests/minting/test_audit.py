"""`consentvault audit verify` against the sandbox's file audit device."""

from __future__ import annotations

import json

from .helpers import new_tenant, read_record, run_cli


def verify(vault, *args, env_file=None):
    env = vault.env(vault.token_with("operator"))
    if env_file is not None:
        env["CONSENTVAULT_ENV_FILE"] = str(env_file)
    return run_cli(["audit", "verify", *args], env)


def mint(vault, tenant: str) -> dict:
    result = run_cli(
        ["mint", "vault-token", "--tenant", tenant],
        vault.env(vault.token_with("ci_minter")),
    )
    assert result.exit_code == 0, result.why()
    return json.loads(result.stdout)


def test_devices_on_and_log_written(vault):
    result = verify(vault)
    assert result.exit_code == 0, result.why()
    lines = result.stdout.splitlines()
    assert lines[0].startswith("audit devices enabled: file (file)")
    assert lines[1].startswith(f"file log {vault.sandbox.dir}/openbao/audit.log")


def test_a_used_credential_is_found(vault):
    tenant = new_tenant(vault)
    minted = mint(vault, tenant)
    read_record(vault.client(minted["token"]), tenant)
    read_record(vault.client(minted["token"]), tenant)

    result = verify(vault, "--accessor", minted["accessor"])

    assert result.exit_code == 0, result.why()
    assert f"accessor {minted['accessor']}: 2 request(s) in the log" in result.stdout
    audit_log = (vault.sandbox.dir / "openbao" / "audit.log").read_text()
    assert minted["accessor"] not in audit_log
    assert minted["token"] not in audit_log


def test_an_unused_credential_is_not_found(vault):
    minted = mint(vault, new_tenant(vault))
    result = verify(vault, "--accessor", minted["accessor"])
    assert result.exit_code == 6
    assert f"accessor {minted['accessor']}: no request by that credential" in (
        result.stderr
    )


def test_missing_device_is_an_error(vault, tmp_path):
    text = vault.sandbox.env_file.read_text().replace('path = "file"', 'path = "gone"')
    env_file = tmp_path / "missing-device.toml"
    env_file.write_text(text)
    result = verify(vault, env_file=env_file)
    assert result.exit_code == 6
    assert "audit device gone/" in result.stderr and "is not enabled" in result.stderr


def test_stale_log_is_an_error(vault, tmp_path):
    stale = tmp_path / "old-audit.log"
    stale.write_text("{}\n")
    audit_log = str(vault.sandbox.dir / "openbao" / "audit.log")
    text = vault.sandbox.env_file.read_text().replace(audit_log, str(stale))
    assert text != vault.sandbox.env_file.read_text()
    env_file = tmp_path / "stale.toml"
    env_file.write_text(text)
    result = verify(vault, env_file=env_file)
    assert result.exit_code == 4
    assert "did not grow after a probe request" in result.stderr


def test_tenant_removal_reason_is_in_the_audit_log(vault):
    tenant = new_tenant(vault)
    reason = f"offboarded in test {tenant[:8]}"
    result = run_cli(
        ["tenant", "remove", tenant, "--reason", reason, "--yes"],
        vault.env(vault.token_with("operator")),
    )
    assert result.exit_code == 0, result.why()
    hashed = vault.root.write("sys/audit-hash/file", input=reason)["data"]["hash"]
    entries = [
        json.loads(line)
        for line in (vault.sandbox.dir / "openbao" / "audit.log")
        .read_text()
        .splitlines()
        if hashed in line
    ]
    assert any(
        e["type"] == "request"
        and e["request"]["path"] == f"consentvault/data/tenants/{tenant}"
        and e["request"]["data"]["data"]["removed_reason"] == hashed
        for e in entries
    )


def test_an_empty_accessor_is_a_usage_error(vault):
    """`--accessor ""` skipped the proof silently and exited 0."""
    for blank in ("", "  "):
        result = verify(vault, "--accessor", blank)
        assert result.exit_code == 2
        assert "--accessor" in result.stderr
        assert "must not be empty" in result.stderr
