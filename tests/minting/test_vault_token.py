"""`consentvault mint vault-token` against a live OpenBao."""

from __future__ import annotations

import json
import stat

import hvac.exceptions
import pytest

from .helpers import new_tenant, read_record, run_cli


def mint(vault, token, *args, **env):
    return run_cli(["mint", "vault-token", *args], vault.env(token, **env))


def test_minted_token_reads_its_tenant_only(vault):
    tenant = new_tenant(vault)
    other = new_tenant(vault)
    minter = vault.token_with("ci_minter")

    result = mint(vault, minter, "--tenant", tenant, "--ttl", "5m")

    assert result.exit_code == 0, result.why()
    minted = json.loads(result.stdout)
    reader = vault.client(minted["token"])
    record = reader.secrets.kv.v2.read_secret_version(
        path=f"tenants/{tenant}",
        mount_point="consentvault",
        raise_on_deleted_version=True,
    )
    assert record["data"]["data"]["tenant_id"] == tenant
    with pytest.raises(hvac.exceptions.Forbidden):
        reader.secrets.kv.v2.read_secret_version(
            path=f"tenants/{other}",
            mount_point="consentvault",
            raise_on_deleted_version=True,
        )
    looked_up = vault.root.auth.token.lookup(minted["token"])["data"]
    assert looked_up["accessor"] == minted["accessor"]
    assert looked_up["renewable"] is False
    assert 290 <= looked_up["ttl"] <= 300
    assert looked_up["meta"]["tenant"] == tenant
    assert looked_up["policies"] == [vault.settings.policy_names()["tenant_reader"]]


def test_metadata_from_flags_and_ci_variables(vault):
    tenant = new_tenant(vault)
    result = mint(
        vault,
        vault.token_with("ci_minter"),
        "--tenant",
        tenant,
        "--pipeline",
        "nightly",
        GITHUB_RUN_ID="4242",
        GITHUB_ACTOR="octocat",
    )
    assert result.exit_code == 0, result.why()
    meta = json.loads(result.stdout)["metadata"]
    assert meta == {
        "tenant": tenant,
        "pipeline": "nightly",
        "job": "4242",
        "requested_by": "octocat",
    }


def test_num_uses_limits_the_token(vault):
    tenant = new_tenant(vault)
    result = mint(
        vault,
        vault.token_with("ci_minter"),
        "--tenant",
        tenant,
        "--num-uses",
        "2",
        "--format",
        "plain",
    )
    assert result.exit_code == 0, result.why()
    reader = vault.client(result.stdout.strip())
    for _ in range(2):
        read_record(reader, tenant)
    with pytest.raises(hvac.exceptions.Forbidden):
        read_record(reader, tenant)


def test_wrapped_token_unwraps_to_a_reader(vault):
    tenant = new_tenant(vault)
    result = mint(
        vault, vault.token_with("ci_minter"), "--tenant", tenant, "--wrap-ttl", "60s"
    )
    assert result.exit_code == 0, result.why()
    minted = json.loads(result.stdout)
    assert minted["wrapped"] is True and "token" not in minted
    unwrapped = vault.client(minted["wrapping_token"]).sys.unwrap()
    assert unwrapped["auth"]["accessor"] == minted["accessor"]


def test_wrapped_json_describes_the_token_and_the_wrapping_apart(vault):
    """The wrapper's ttl and expiry were reported as the token's, with no policies."""
    tenant = new_tenant(vault)
    result = mint(
        vault,
        vault.token_with("ci_minter"),
        "--tenant",
        tenant,
        "--ttl",
        "10m",
        "--wrap-ttl",
        "60s",
    )
    assert result.exit_code == 0, result.why()
    minted = json.loads(result.stdout)
    assert 590 <= minted["ttl"] <= 600
    assert minted["wrapping_ttl"] == 60
    assert minted["wrapping_expires_at"] < minted["expires_at"]
    assert minted["policies"] == [vault.settings.policy_names()["tenant_reader"]]
    wrapping = vault.root.write_data(
        "sys/wrapping/lookup", data={"token": minted["wrapping_token"]}
    )
    assert wrapping["data"]["creation_ttl"] == 60
    unwrapped = vault.client(minted["wrapping_token"]).sys.unwrap()["auth"]
    assert unwrapped["accessor"] == minted["accessor"]
    assert unwrapped["entity_id"] == minted["entity_id"] is not None
    assert minted["wrapping_accessor"] not in (None, minted["accessor"])


@pytest.mark.parametrize(
    ("args", "status", "code", "message"),
    [
        (["--ttl", "2h"], "active", 2, "over the token role's maximum of 1h"),
        (["--ttl", "soon"], "active", 2, "--ttl"),
        ([], "needs_consent", 7, "needs consent again"),
        ([], "revoked", 7, "is revoked"),
    ],
    ids=["ttl-over-max", "ttl-garbage", "needs-consent", "revoked"],
)
def test_refusals(vault, args, status, code, message):
    tenant = new_tenant(vault, status=status)
    result = mint(vault, vault.token_with("ci_minter"), "--tenant", tenant, *args)
    assert result.exit_code == code
    assert message in result.stderr
    assert result.stdout == ""


def test_unknown_tenant_is_not_found(vault):
    result = mint(
        vault,
        vault.token_with("ci_minter"),
        "--tenant",
        "00000000-0000-0000-0000-000000000000",
    )
    assert result.exit_code == 6
    assert "unknown tenant 00000000-0000-0000-0000-000000000000" in result.stderr


def test_not_a_guid_is_a_usage_error(vault):
    result = mint(vault, vault.token_with("ci_minter"), "--tenant", "../app/entra")
    assert result.exit_code == 2
    assert "is not a GUID" in result.stderr


def test_a_mint_for_a_disabled_entity_says_how_to_enable_it(vault):
    """A disabled entity was reported as 'log in as the ci-minter', later as a
    revocation in progress even when none was running."""
    tenant = new_tenant(vault)
    minter = vault.token_with("ci_minter")
    first = json.loads(mint(vault, minter, "--tenant", tenant).stdout)
    entity_path = f"identity/entity/id/{first['entity_id']}"
    vault.root.write_data(entity_path, data={"disabled": True})
    try:
        result = mint(vault, minter, "--tenant", tenant)
    finally:
        vault.root.write_data(entity_path, data={"disabled": False})
    assert result.exit_code == 5
    assert f"tenant {tenant}: its entity is disabled" in result.stderr
    assert "may be running" in result.stderr
    assert f"re-enable it with `consentvault revoke --tenant {tenant}`" in (
        " ".join(result.stderr.split())
    )
    assert "log in as the ci-minter" not in result.stderr


def test_caller_without_the_minter_policy_is_refused(vault):
    tenant = new_tenant(vault)
    broker = vault.token_with("consent_broker")
    result = mint(vault, broker, "--tenant", tenant)
    assert result.exit_code == 5
    assert "mint a token from role tenant-reader" in result.stderr


def test_unreachable_vault(vault):
    tenant = new_tenant(vault)
    result = run_cli(
        ["mint", "vault-token", "--tenant", tenant],
        vault.env("x", VAULT_ADDR="http://127.0.0.1:9"),
    )
    assert result.exit_code == 4
    assert "unreachable" in result.stderr


def test_env_out_file_is_private(vault, tmp_path):
    tenant = new_tenant(vault)
    target = tmp_path / "vault.env"
    result = mint(
        vault,
        vault.token_with("ci_minter"),
        "--tenant",
        tenant,
        "--format",
        "env",
        "--out",
        str(target),
    )
    assert result.exit_code == 0, result.why()
    assert result.stdout == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    (line,) = target.read_text().splitlines()
    name, value = line.split("=", 1)
    assert name == "VAULT_TOKEN"
    assert read_record(vault.client(value), tenant)["tenant_id"] == tenant


def test_github_format_masks_and_writes_outputs(vault, tmp_path):
    tenant = new_tenant(vault)
    outputs = tmp_path / "github_output"
    outputs.write_text("earlier=1\n")
    result = mint(
        vault,
        vault.token_with("ci_minter"),
        "--tenant",
        tenant,
        "--format",
        "github",
        GITHUB_OUTPUT=str(outputs),
    )
    assert result.exit_code == 0, result.why()
    (mask,) = result.stdout.splitlines()
    assert mask.startswith("::add-mask::")
    token = mask.removeprefix("::add-mask::")
    lines = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert lines["earlier"] == "1"
    assert lines["token"] == token
    assert lines["tenant_id"] == tenant
    assert vault.root.auth.token.lookup(token)["data"]["accessor"] == lines["accessor"]


def test_env_format_to_stdout(vault):
    tenant = new_tenant(vault)
    result = mint(
        vault, vault.token_with("ci_minter"), "--tenant", tenant, "--format", "env"
    )
    assert result.exit_code == 0, result.why()
    (line,) = result.stdout.splitlines()
    assert line.startswith("VAULT_TOKEN=") and len(line) > len("VAULT_TOKEN=") + 10
