"""Every rendered policy parses as HCL and grants exactly what the table says.

The table below is the contract of docs/internals.md, path by path, for the
local environment's names; a grant the table lacks fails the test, so a
policy can only widen through a reviewed change here.
"""

from __future__ import annotations

import hcl2
import jinja2
import pytest

from consentvault.settings import load_settings
from stacks.vault_policies import IDENTITIES, render_policy

ACCESSOR = "auth_token_0123abcd"
OWN_TENANT = f"{{{{identity.entity.aliases.{ACCESSOR}.name}}}}"
CAN_CHECK_ITSELF = {"sys/capabilities-self": {"update"}}

TENANT_KEYS = "consentvault-transit/keys/tenant-*"
OWN_KEY = f"tenant-{OWN_TENANT}"

EXPECTED = {
    "consent_broker": {
        "consentvault/data/tenants/*": {"create", "read", "update"},
        "consentvault/data/consent-state/*": {"create", "read", "update", "delete"},
        "consentvault/metadata/consent-state/*": {"delete"},
        "consentvault/metadata/locks/*": {"delete"},
        "consentvault-app/data/entra": {"read"},
        TENANT_KEYS: {"create", "update"},
        "consentvault-transit/encrypt/tenant-*": {"update"},
        "consentvault-transit/encrypt/consent-state": {"update"},
        "consentvault-transit/decrypt/consent-state": {"update"},
        **CAN_CHECK_ITSELF,
    },
    "ci_minter": {
        "auth/token/create/tenant-reader": {"update"},
        "auth/token/create/tenant-refresher": {"update"},
        "auth/token/revoke-accessor": {"update"},
        "auth/token/lookup-accessor": {"update"},
        "consentvault/data/tenants/*": {"read"},
        "consentvault-app/data/entra": {"read"},
        "consentvault/data/locks/*": {"create", "read", "update", "delete"},
        "identity/lookup/entity": {"update"},
        **CAN_CHECK_ITSELF,
    },
    "tenant_reader": {
        f"consentvault/data/tenants/{OWN_TENANT}": {"read"},
        f"consentvault-transit/decrypt/{OWN_KEY}": {"update"},
        "auth/token/lookup-self": {"read"},
        "auth/token/revoke-self": {"update"},
        **CAN_CHECK_ITSELF,
    },
    "tenant_refresher": {
        f"consentvault/data/tenants/{OWN_TENANT}": {"read", "update"},
        f"consentvault-transit/decrypt/{OWN_KEY}": {"update"},
        f"consentvault-transit/encrypt/{OWN_KEY}": {"update"},
        "auth/token/lookup-self": {"read"},
        "auth/token/revoke-self": {"update"},
    },
    "operator": {
        "consentvault/data/*": {"create", "read", "update", "delete"},
        "consentvault/metadata/*": {"read", "list", "delete"},
        "consentvault/delete/*": {"update"},
        "consentvault/destroy/*": {"update"},
        "consentvault-app/data/*": {"create", "read", "update", "delete"},
        "consentvault-app/metadata/*": {"read", "list", "delete"},
        "consentvault-app/delete/*": {"update"},
        "consentvault-app/destroy/*": {"update"},
        TENANT_KEYS: {"read", "update", "delete"},
        "consentvault-transit/keys/consent-state/rotate": {"update"},
        "identity/lookup/entity": {"update"},
        "identity/entity/id/*": {"read", "update", "delete"},
        "auth/token/accessors/": {"list", "sudo"},
        "auth/token/lookup-accessor": {"update"},
        "auth/token/revoke-accessor": {"update"},
        "sys/audit": {"read"},
        "sys/audit-hash/*": {"update"},
        "sys/leases/lookup": {"update"},
        "sys/leases/revoke": {"update"},
        **CAN_CHECK_ITSELF,
    },
}
# Parameter limits, (identity, path) -> (required, allowed); any path not
# listed here must have none.
PARAMETERS = {
    ("consent_broker", TENANT_KEYS): (
        ["exportable", "allow_plaintext_backup", "auto_rotate_period"],
        {
            "exportable": [False],
            "allow_plaintext_backup": [False],
            "auto_rotate_period": ["720h"],
        },
    ),
    ("operator", TENANT_KEYS): ([], {"deletion_allowed": []}),
    ("operator", "identity/entity/id/*"): ([], {"disabled": []}),
}
# One lease at a time (no revoke-prefix, no revoke-force): none of these
# endpoints is root-protected.
ALLOWED_SYS_PATHS = {
    "sys/audit",
    "sys/audit-hash/*",
    "sys/capabilities-self",
    "sys/leases/lookup",
    "sys/leases/revoke",
}


@pytest.fixture(scope="module")
def settings():
    return load_settings("local")


def parsed_paths(identity: str, settings) -> dict[str, dict]:
    text = render_policy(
        identity,
        vault=settings.vault,
        policy_names=settings.policy_names(),
        token_accessor=ACCESSOR,
    )
    parsed = hcl2.loads(text)
    assert set(parsed) <= {"path", "__comments__"}, "only path blocks allowed"
    result: dict[str, dict] = {}
    for block in parsed["path"]:
        ((quoted, body),) = block.items()
        known = {"capabilities", "allowed_parameters", "required_parameters"}
        assert set(body) <= known | {"__is_block__"}, quoted
        path = quoted.strip('"')
        assert path not in result, f"{path} granted twice"
        result[path] = body
    return result


def grants(identity: str, settings) -> dict[str, set[str]]:
    return {
        path: {capability.strip('"') for capability in body["capabilities"]}
        for path, body in parsed_paths(identity, settings).items()
    }


def _unquote(value):
    return value.strip('"') if isinstance(value, str) else value


def parameters(identity: str, settings) -> dict[tuple[str, str], tuple]:
    found = {}
    for path, body in parsed_paths(identity, settings).items():
        required = body.get("required_parameters")
        allowed = body.get("allowed_parameters")
        if required is None and allowed is None:
            continue
        found[(identity, path)] = (
            [_unquote(name) for name in required or []],
            {
                _unquote(name): [_unquote(value) for value in values]
                for name, values in (allowed or {}).items()
            },
        )
    return found


@pytest.mark.parametrize("identity", IDENTITIES)
def test_policy_grants_exactly_the_table(identity, settings):
    assert grants(identity, settings) == EXPECTED[identity]


@pytest.mark.parametrize("identity", IDENTITIES)
def test_parameter_limits_exactly_the_table(identity, settings):
    expected = {key: value for key, value in PARAMETERS.items() if key[0] == identity}
    assert parameters(identity, settings) == expected


@pytest.mark.parametrize("identity", IDENTITIES)
def test_no_wildcard_capability_and_no_sudo_on_sys(identity, settings):
    for path, capabilities in grants(identity, settings).items():
        assert "*" not in capabilities
        assert "deny" not in capabilities
        if path.startswith("sys/"):
            assert path in ALLOWED_SYS_PATHS
            assert "sudo" not in capabilities


def test_a_missing_template_variable_fails(settings, tmp_path, monkeypatch):
    broken = tmp_path / "tenant-reader.hcl.j2"
    broken.write_text('path "{{ vault.no_such_setting }}/*" {}\n')
    monkeypatch.setattr("stacks.vault_policies.POLICY_DIR", tmp_path)
    with pytest.raises(jinja2.UndefinedError):
        render_policy(
            "tenant_reader",
            vault=settings.vault,
            policy_names=settings.policy_names(),
            token_accessor=ACCESSOR,
        )


def test_synthesized_policy_is_the_rendered_template(local_synthesized):
    settings = local_synthesized.settings
    accessor = "${data.vault_auth_backend.token_auth.accessor}"
    policies = {
        policy["name"]: policy["policy"]
        for policy in local_synthesized.resources("vault", "vault_policy")
    }
    for identity, name in settings.policy_names().items():
        assert policies[name] == render_policy(
            identity,
            vault=settings.vault,
            policy_names=settings.policy_names(),
            token_accessor=accessor,
        )
