"""Logging in as the CI minter: AppRole with a wrapped secret id, CI JWTs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .helpers import new_tenant, run_cli


def mint_env(vault, **extra: str) -> dict[str, str]:
    return vault.env(None, **extra)


def wrapped_secret_id(vault) -> tuple[str, str]:
    approle = vault.settings.vault.approle
    role = f"auth/{approle.path}/role/{approle.role}"
    role_id = vault.root.read(f"{role}/role-id")["data"]["role_id"]
    wrapped = vault.root.write_data(f"{role}/secret-id", wrap_ttl="60s")["wrap_info"]
    return role_id, wrapped["token"]


def mint_with(vault, tenant: str, *auth: str, **env: str):
    return run_cli(
        ["mint", "vault-token", "--tenant", tenant, *auth], mint_env(vault, **env)
    )


def test_approle_with_wrapped_secret_id(vault):
    tenant = new_tenant(vault)
    role_id, wrapping = wrapped_secret_id(vault)
    result = mint_with(
        vault,
        tenant,
        "--auth",
        "approle",
        CONSENTVAULT_ROLE_ID=role_id,
        CONSENTVAULT_SECRET_ID_WRAPPED=wrapping,
    )
    assert result.exit_code == 0, result.why()
    assert json.loads(result.stdout)["tenant_id"] == tenant


def test_an_already_unwrapped_secret_id_is_refused(vault):
    tenant = new_tenant(vault)
    role_id, wrapping = wrapped_secret_id(vault)
    vault.client(wrapping).sys.unwrap()
    result = mint_with(
        vault,
        tenant,
        "--auth",
        "approle",
        "--role-id",
        role_id,
        CONSENTVAULT_SECRET_ID_WRAPPED=wrapping,
    )
    assert result.exit_code == 5
    assert "already unwrapped or has expired" in result.stderr
    assert wrapping not in result.stderr


def test_a_wrapping_token_from_elsewhere_is_not_unwrapped(vault):
    tenant = new_tenant(vault)
    role_id, _ = wrapped_secret_id(vault)
    foreign = vault.root.write_data(
        "sys/wrapping/wrap", data={"secret_id": "planted"}, wrap_ttl="60s"
    )["wrap_info"]["token"]
    result = mint_with(
        vault,
        tenant,
        "--auth",
        "approle",
        CONSENTVAULT_ROLE_ID=role_id,
        CONSENTVAULT_SECRET_ID_WRAPPED=foreign,
    )
    assert result.exit_code == 5
    assert "was created at 'sys/wrapping/wrap'" in result.stderr
    lookup = vault.root.write_data("sys/wrapping/lookup", data={"token": foreign})
    assert lookup["data"]["creation_path"] == "sys/wrapping/wrap"


def test_jwt_file(vault, tmp_path):
    tenant = new_tenant(vault)
    jwt_file = tmp_path / "id-token"
    jwt_file.write_text(vault.sandbox.control.issue_ci_token())
    result = mint_with(vault, tenant, "--auth", "jwt", "--jwt-file", str(jwt_file))
    assert result.exit_code == 0, result.why()


def test_gitlab_id_token_variable(vault):
    tenant = new_tenant(vault)
    token = vault.sandbox.control.issue_ci_token()
    result = mint_with(
        vault,
        tenant,
        "--jwt-env",
        "VAULT_ID_TOKEN",
        CONSENTVAULT_AUTH="jwt",
        VAULT_ID_TOKEN=token,
    )
    assert result.exit_code == 0, result.why()


def test_jwt_from_another_repository_is_refused(vault, tmp_path):
    tenant = new_tenant(vault)
    jwt_file = tmp_path / "id-token"
    jwt_file.write_text(vault.sandbox.control.issue_ci_token(repository="someone/else"))
    result = mint_with(vault, tenant, "--auth", "jwt", "--jwt-file", str(jwt_file))
    assert result.exit_code == 5
    assert "log in at auth/jwt-ci/login" in result.stderr


def test_a_malformed_jwt_is_a_failed_login(vault, tmp_path):
    """A JWT Vault cannot parse exited 2 (usage) instead of 5 (login failed)."""
    jwt_file = tmp_path / "id-token"
    jwt_file.write_text("not-a-jwt")
    result = mint_with(
        vault, new_tenant(vault), "--auth", "jwt", "--jwt-file", str(jwt_file)
    )
    assert result.exit_code == 5
    assert "log in at auth/jwt-ci/login" in result.stderr


def test_a_wrong_role_id_says_the_secret_id_is_spent(vault):
    """A mistyped role id exited 2, and the retry blamed someone else."""
    tenant = new_tenant(vault)
    role_id, wrapping = wrapped_secret_id(vault)
    wrong = mint_with(
        vault,
        tenant,
        "--auth",
        "approle",
        "--role-id",
        "bogus",
        CONSENTVAULT_SECRET_ID_WRAPPED=wrapping,
    )
    assert wrong.exit_code == 5
    assert "refused the role id or secret id" in wrong.stderr
    assert "the wrapped secret id has now been used" in wrong.stderr
    assert "issue a new one" in wrong.stderr
    assert wrapping not in wrong.stderr


@pytest.fixture
def github_token_service(vault) -> Iterator[tuple[str, str, list[str]]]:
    """GitHub's id-token request endpoint, answering as Actions runners do."""
    request_token = "actions-request-token-for-test"
    audiences: list[str] = []

    @Request.application
    def app(request: Request) -> Response:
        if request.headers.get("Authorization") != f"bearer {request_token}":
            return Response("unauthorized", status=401)
        audiences.append(request.args.get("audience", ""))
        value = vault.sandbox.control.issue_ci_token(audience=audiences[-1])
        return Response(json.dumps({"value": value}), mimetype="application/json")

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/token?api-version=2.0"
        yield url, request_token, audiences
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_github_actions_oidc(vault, github_token_service):
    url, request_token, audiences = github_token_service
    tenant = new_tenant(vault)
    result = mint_with(
        vault,
        tenant,
        "--auth",
        "jwt",
        ACTIONS_ID_TOKEN_REQUEST_URL=url,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN=request_token,
    )
    assert result.exit_code == 0, result.why()
    assert audiences == ["consentvault"]


def test_jwt_without_a_source(vault):
    result = mint_with(vault, new_tenant(vault), "--auth", "jwt")
    assert result.exit_code == 2
    assert "JWT login needs --jwt-file" in result.stderr


def test_no_token_at_all(vault):
    result = mint_with(vault, new_tenant(vault))
    assert result.exit_code == 5
    assert "no Vault token" in result.stderr


def test_the_login_token_is_revoked_after_the_mint(vault):
    tenant = new_tenant(vault)
    role_id, wrapping = wrapped_secret_id(vault)
    accessors_before = set(vault.root.list("auth/token/accessors")["data"]["keys"])
    result = mint_with(
        vault,
        tenant,
        "--auth",
        "approle",
        CONSENTVAULT_ROLE_ID=role_id,
        CONSENTVAULT_SECRET_ID_WRAPPED=wrapping,
    )
    assert result.exit_code == 0, result.why()
    minted = json.loads(result.stdout)
    new = (
        set(vault.root.list("auth/token/accessors")["data"]["keys"]) - accessors_before
    )
    assert new == {minted["accessor"]}
