"""A tenant offboarded with `tenant remove` can consent again and mint again.

Offboarding deletes the tenant's entity last, so the first mint after a new
consent gets a fresh entity; and a token bound to a deleted entity (had one
escaped revocation) reaches nothing, not even through the tenant's new one.
"""

from __future__ import annotations

import json

import hvac.exceptions
import pytest

from .helpers import consent, new_tenant, read_record, run_cli
from .test_revoke import entity_lookup, entity_of


@pytest.fixture(scope="module")
def customers(sandbox) -> list[str]:
    return [tenant["id"] for tenant in sandbox.control.customer_tenants()]


def mint(vault, tenant_id: str) -> dict:
    result = run_cli(
        ["mint", "vault-token", "--tenant", tenant_id],
        vault.env(vault.token_with("ci_minter")),
    )
    assert result.exit_code == 0, result.why()
    return json.loads(result.stdout)


def remove(vault, tenant_id: str) -> str:
    result = run_cli(
        ["tenant", "remove", tenant_id, "--reason", "contract ended", "--yes"],
        vault.env(vault.token_with("operator")),
    )
    assert result.exit_code == 0, result.why()
    return result.stdout


def test_removed_tenant_consents_again_and_mints(vault, customers):
    tenant = customers[1]
    consent(vault, tenant, "admin")
    old_entity = mint(vault, tenant)["entity_id"]

    assert f"entity {old_entity} deleted" in remove(vault, tenant)
    assert entity_lookup(vault, tenant) is None

    consent(vault, tenant, "admin")
    minted = mint(vault, tenant)

    assert minted["entity_id"] != old_entity
    assert entity_of(vault, tenant)["id"] == minted["entity_id"]
    assert entity_of(vault, tenant)["disabled"] is False
    assert vault.root.read(f"identity/entity/id/{old_entity}") is None
    record = read_record(vault.client(minted["token"]), tenant)
    assert record["tenant_id"] == tenant
    assert record["status"] == "active"
    assert "removed_reason" not in record


def test_a_token_of_a_deleted_entity_is_refused(vault):
    """Offboarding revokes every token before the entity goes; this is the
    case of one that escaped, say minted by hand outside the commands."""
    tenant = new_tenant(vault)
    escaped = mint(vault, tenant)
    assert read_record(vault.client(escaped["token"]), tenant)["tenant_id"] == tenant

    vault.root.delete(f"identity/entity/id/{escaped['entity_id']}")
    with pytest.raises(hvac.exceptions.Forbidden):
        read_record(vault.client(escaped["token"]), tenant)

    # The tenant's next token creates a new entity for the same alias; the
    # escaped token does not inherit it.
    fresh = mint(vault, tenant)
    assert fresh["entity_id"] != escaped["entity_id"]
    assert read_record(vault.client(fresh["token"]), tenant)["tenant_id"] == tenant
    with pytest.raises(hvac.exceptions.Forbidden):
        read_record(vault.client(escaped["token"]), tenant)


def test_operator_may_delete_an_entity_but_still_not_give_one_policies(vault):
    """Adding delete on `identity/entity/id/*` leaves update limited to
    `disabled`."""
    tenant = new_tenant(vault)
    entity_id = mint(vault, tenant)["entity_id"]
    operator = vault.client(vault.token_with("operator"))
    path = f"identity/entity/id/{entity_id}"

    for data in [
        {"policies": ["root"]},
        {"metadata": {"tenant": "other"}},
        {"name": "renamed"},
    ]:
        with pytest.raises(hvac.exceptions.Forbidden):
            operator.write_data(path, data=data)
    # Nor create an entity of its own with policies.
    with pytest.raises(hvac.exceptions.Forbidden):
        operator.write_data("identity/entity", data={"policies": ["root"]})
    assert vault.root.read(path)["data"]["policies"] == []

    operator.delete(path)
    assert vault.root.read(path) is None
