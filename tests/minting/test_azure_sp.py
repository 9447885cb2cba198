"""`consentvault mint azure-sp`: refused on OpenBao, and against a recorded
double of HashiCorp Vault's Azure secrets engine endpoint.

The double answers the two calls the command makes, with the response shapes
Vault documents: the tenant record read (KV v2) and `GET /v1/azure/creds/
<role>` (a lease plus `client_id` and `client_secret`).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .helpers import new_tenant, run_cli

CLIENT_ID = "408bf248-dd4e-4be5-919a-7f6207a307ab"


def creds_reply(lease_id: str, client_secret: str) -> dict:
    """GET /v1/azure/creds/graph-reader as HashiCorp Vault answers it."""
    return {
        "request_id": str(uuid.uuid4()),
        "lease_id": lease_id,
        "renewable": True,
        "lease_duration": 900,
        "data": {"client_id": CLIENT_ID, "client_secret": client_secret},
        "wrap_info": None,
        "warnings": None,
        "auth": None,
    }


def record_reply(tenant: str) -> dict:
    """GET /v1/consentvault/data/tenants/<id> (KV v2) for an admin tenant."""
    return {
        "request_id": str(uuid.uuid4()),
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": {
            "data": {"tenant_id": tenant, "mode": "admin", "status": "active"},
            "metadata": {"version": 1, "destroyed": False, "deletion_time": ""},
        },
        "wrap_info": None,
        "warnings": None,
        "auth": None,
    }


@dataclass
class AzureDouble:
    address: str
    tenant: str
    client_secret: str = field(repr=False)
    lease_id: str
    tokens: list[str] = field(default_factory=list, repr=False)


@pytest.fixture
def azure_double() -> Iterator[AzureDouble]:
    tenant = str(uuid.uuid4())
    double = AzureDouble(
        "",
        tenant,
        "recorded~secret~" + uuid.uuid4().hex,
        f"azure/creds/graph-reader/{uuid.uuid4().hex[:24]}",
    )

    @Request.application
    def app(request: Request) -> Response:
        double.tokens.append(request.headers.get("X-Vault-Token", ""))
        if request.path == f"/v1/consentvault/data/tenants/{tenant}":
            body = record_reply(tenant)
        elif request.path == "/v1/azure/creds/graph-reader" and request.method == "GET":
            body = creds_reply(double.lease_id, double.client_secret)
        else:
            return Response(json.dumps({"errors": []}), status=404)
        return Response(json.dumps(body), mimetype="application/json")

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    double.address = f"http://127.0.0.1:{server.server_port}"
    try:
        yield double
    finally:
        server.shutdown()
        thread.join(timeout=5)


def azure_env_file(vault, tmp_path, address: str | None = None):
    text = vault.sandbox.env_file.read_text()
    text = text.replace(
        "[vault.azure]",
        '[vault.azure]\nsubscription_id = "00000000-0000-0000-0000-000000000000"',
    ).replace("enabled = false", "enabled = true")
    if address:
        text = text.replace(f'address = "{vault.address}"', f'address = "{address}"')
    path = tmp_path / "azure.toml"
    path.write_text(text)
    return path


def test_openbao_says_it_has_no_azure_engine(vault):
    result = run_cli(
        ["mint", "azure-sp", "--tenant", new_tenant(vault)],
        vault.env(vault.token_with("ci_minter")),
    )
    assert result.exit_code == 10
    assert "OpenBao has no such plugin" in result.stderr


def test_credentials_from_the_recorded_engine(vault, azure_double, tmp_path):
    env = {
        "CONSENTVAULT_ENV_FILE": str(azure_env_file(vault, tmp_path)),
        "VAULT_ADDR": azure_double.address,
        "VAULT_TOKEN": "minter-token-for-the-double",
    }
    result = run_cli(["mint", "azure-sp", "--tenant", azure_double.tenant], env)

    assert result.exit_code == 0, result.why()
    minted = json.loads(result.stdout)
    assert minted["client_id"] == CLIENT_ID
    assert minted["client_secret"] == azure_double.client_secret
    assert minted["lease_id"] == azure_double.lease_id
    assert minted["lease_duration"] == 900
    assert set(azure_double.tokens) == {"minter-token-for-the-double"}

    as_env = run_cli(
        ["mint", "azure-sp", "--tenant", azure_double.tenant, "--format", "env"], env
    )
    assert as_env.stdout.splitlines() == [
        f"AZURE_CLIENT_SECRET={azure_double.client_secret}",
        f"AZURE_CLIENT_ID={CLIENT_ID}",
    ]


def test_enabled_but_not_mounted(vault, tmp_path):
    env = vault.env(
        vault.token_with("operator"),
        CONSENTVAULT_ENV_FILE=str(azure_env_file(vault, tmp_path)),
    )
    result = run_cli(["mint", "azure-sp", "--tenant", new_tenant(vault)], env)
    assert result.exit_code in (5, 10)
    assert "OpenBao has none" in result.stderr
