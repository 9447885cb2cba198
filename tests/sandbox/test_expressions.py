"""Terraform expressions as cdktf writes them, evaluated by the offline apply."""

from __future__ import annotations

import pytest

from consentvault.errors import ConfigError
from consentvault.sandbox.apply import functions
from consentvault.sandbox.apply.expressions import evaluate, references

SCOPE = {
    "vault_mount": {"kv": {"path": "consentvault", "accessor": "kv_1234"}},
    "data": {
        "azuread_service_principal": {
            "graph": {"app_role_ids": {"User.Read.All": "df021288"}}
        },
        "terraform_remote_state": {
            "cross-stack-reference-input-local-entra": {"outputs": {"client_id": "c1"}}
        },
    },
    "time_rotating": {
        "a": {"rfc3339": "2026-01-01T00:00:00Z"},
        "b": {"rfc3339": "2026-01-31T00:00:00Z"},
    },
    "azuread_application_password": {"a": {"value": "A"}, "b": {"value": "B"}},
    "local": {"greeting": "hello"},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${vault_mount.kv.path}", "consentvault"),
        ('path "${vault_mount.kv.path}/data/*" {}', 'path "consentvault/data/*" {}'),
        (
            '${data.azuread_service_principal.graph.app_role_ids["User.Read.All"]}',
            "df021288",
        ),
        (
            "${data.terraform_remote_state.cross-stack-reference-input-local-entra"
            ".outputs.client_id}",
            "c1",
        ),
        ('${timeadd(time_rotating.a.rfc3339, "720h")}', "2026-01-31T00:00:00Z"),
        (
            "${(timecmp(time_rotating.a.rfc3339, time_rotating.b.rfc3339) > -1)"
            " ? azuread_application_password.a.value"
            " : azuread_application_password.b.value}",
            "B",
        ),
        ('${jsonencode({"id" = vault_mount.kv.path})}', '{"id":"consentvault"}'),
        ("${local.greeting}", "hello"),
        ("$${not.a.reference}", "${not.a.reference}"),
        ("{{identity.entity.aliases.${vault_mount.kv.accessor}.name}}", None),
        ('${["a", vault_mount.kv.path]}', ["a", "consentvault"]),
        ("${1 + 2 * 3 == 7 && !false}", True),
    ],
    ids=[
        "attribute",
        "embedded",
        "map-index",
        "cross-stack",
        "timeadd",
        "conditional",
        "jsonencode",
        "local",
        "escaped",
        "policy-template",
        "list",
        "operators",
    ],
)
def test_evaluates(text, expected):
    if expected is None:
        expected = "{{identity.entity.aliases.kv_1234.name}}"
    assert evaluate(text, SCOPE.__getitem__) == expected


def test_references_name_the_blocks_a_value_depends_on():
    body = {
        "mount": "${vault_mount.kv.path}",
        "data_json": (
            '${jsonencode({"x" = local.greeting, "y" = "${time_rotating.a.id}"})}'
        ),
        "ids": ['${data.azuread_service_principal.graph.app_role_ids["X"]}'],
        "where": '${file("${path.module}/ca.pem")}',
    }
    assert references(body) == {
        "vault_mount.kv",
        "local.greeting",
        "time_rotating.a",
        "data.azuread_service_principal.graph",
    }


def test_file_reads_relative_to_the_stack_folder(tmp_path):
    (tmp_path / "ca.pem").write_text("PEM")
    token = functions.base_dir.set(str(tmp_path / "stacks" / "local-vault"))
    try:
        assert evaluate('${file("../../ca.pem")}', SCOPE.__getitem__) == "PEM"
    finally:
        functions.base_dir.reset(token)


def test_missing_attribute_is_a_config_error():
    with pytest.raises(ConfigError, match="no attribute or index 'nope'"):
        evaluate("${vault_mount.kv.nope}", SCOPE.__getitem__)


def test_unknown_function_is_a_config_error():
    with pytest.raises(ConfigError, match="does not know the function cidrsubnet"):
        evaluate('${cidrsubnet("10.0.0.0/8", 8, 1)}', SCOPE.__getitem__)
