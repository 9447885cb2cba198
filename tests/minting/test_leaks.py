"""No secret reaches stdout (unless asked for), stderr, a log, or the audit log.

Every mint and revoke path runs once with debug logging captured; secrets go
to `--out` files (mode 0600) so that stdout must be free of them too. The
known secret values are then searched for everywhere else, including in clear
in the server's audit log (which must only hold their HMACs).
"""

from __future__ import annotations

import logging

import pytest

from consentvault.records import TenantRecords

from .helpers import consent, new_tenant, run_cli

EXPECTED_SECRETS = (
    "app client secret",
    "refresh token before",
    "refresh token after",
    "minter token",
    "operator token",
    "vault token: VAULT_TOKEN",
    "wrapped: VAULT_WRAPPING_TOKEN",
    "admin graph token: GRAPH_ACCESS_TOKEN",
    "delegated graph token: GRAPH_ACCESS_TOKEN",
    "approle wrapping token",
    "approle-minted token",
    "graph-token write-back token",
)


@pytest.fixture
def write_back_tokens(monkeypatch) -> list[str]:
    """The tokens graph-token mints itself to write the refresh token back.

    They never leave the process, so the test catches them on the way out of
    the real minting function.
    """
    from consentvault.minting import graph_token

    caught: list[str] = []
    real = graph_token.mint_vault_token

    def catching(*args, **kwargs):
        minted = real(*args, **kwargs)
        caught.append(minted.token)
        return minted

    monkeypatch.setattr(graph_token, "mint_vault_token", catching)
    return caught


@pytest.fixture
def watched(vault, caplog):
    """Run commands at -vv and keep everything they print or log."""
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    def run(args: list[str], token: str, **env: str):
        result = run_cli(["-vv", *args], vault.env(token, **env))
        seen.extend([result.stdout, result.stderr])
        return result

    run.seen = seen
    return run


def env_values(path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_no_secret_leaks_from_minting_or_revoking(
    vault, watched, caplog, tmp_path, write_back_tokens
):
    root = vault.root
    customers = [t["id"] for t in vault.sandbox.control.customer_tenants()]
    admin, delegated = customers[0], customers[2]
    consent(vault, admin, "admin")
    consent(vault, delegated, "delegated")
    plain_tenant = new_tenant(vault)
    records = TenantRecords(root, vault.settings)
    secrets = {
        "app client secret": root.secrets.kv.v2.read_secret_version(
            path="entra", mount_point="consentvault-app", raise_on_deleted_version=True
        )["data"]["data"]["client_secret"],
        "refresh token before": records.decrypt_secret(records.read(delegated))[
            "refresh_token"
        ],
    }
    minter = vault.token_with("ci_minter")
    operator = vault.token_with("operator")
    secrets |= {"minter token": minter, "operator token": operator}

    def mint(kind: str, tenant: str, name: str, *extra: str) -> dict[str, str]:
        out = tmp_path / f"{name}.env"
        result = watched(
            [
                "mint",
                kind,
                "--tenant",
                tenant,
                "--format",
                "env",
                "--out",
                str(out),
                *extra,
            ],
            minter,
        )
        assert result.exit_code == 0, result.why()
        values = env_values(out)
        secrets.update({f"{name}: {key}": value for key, value in values.items()})
        return values

    token = mint("vault-token", plain_tenant, "vault token")["VAULT_TOKEN"]
    mint("vault-token", plain_tenant, "wrapped", "--wrap-ttl", "60s")
    mint("graph-token", admin, "admin graph token")
    mint("graph-token", delegated, "delegated graph token")
    (secrets["graph-token write-back token"],) = write_back_tokens
    secrets["refresh token after"] = records.decrypt_secret(records.read(delegated))[
        "refresh_token"
    ]
    role_id = root.read("auth/approle-ci/role/ci-minter/role-id")["data"]["role_id"]
    wrapping = root.write_data(
        "auth/approle-ci/role/ci-minter/secret-id", wrap_ttl="60s"
    )["wrap_info"]["token"]
    secrets["approle wrapping token"] = wrapping
    approle = watched(
        [
            "mint",
            "vault-token",
            "--tenant",
            plain_tenant,
            "--auth",
            "approle",
            "--format",
            "env",
            "--out",
            str(tmp_path / "approle.env"),
        ],
        "",
        CONSENTVAULT_ROLE_ID=role_id,
        CONSENTVAULT_SECRET_ID_WRAPPED=wrapping,
    )
    assert approle.exit_code == 0, approle.why()
    secrets["approle-minted token"] = env_values(tmp_path / "approle.env")[
        "VAULT_TOKEN"
    ]
    accessor = root.auth.token.lookup(token)["data"]["accessor"]

    for args in (
        ["revoke", "--accessor", accessor],
        ["revoke", "--tenant", plain_tenant],
        ["audit", "verify"],
        ["tenant", "remove", plain_tenant, "--reason", "leak check", "--yes"],
        ["revoke", "--all", "--yes"],
    ):
        result = watched(args, operator)
        assert result.exit_code == 0, (args, result.why())

    # Only names are compared, so a failure never prints a secret itself.
    assert sorted(secrets) == sorted(EXPECTED_SECRETS)
    assert [name for name, value in secrets.items() if len(value) < 16] == []
    printed = "\n".join(watched.seen)
    logged = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    audit_log = (vault.sandbox.dir / "openbao" / "audit.log").read_text()
    for where, text in (("printed", printed), ("logged", logged), ("audit", audit_log)):
        leaked = [name for name, value in secrets.items() if value in text]
        assert leaked == [], where
    assert "minted vault-token for tenant" in caplog.text
    assert "graph-token for tenant" in caplog.text
