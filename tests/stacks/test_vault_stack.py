"""The Vault stack: engines, audit, token role, CI auth, Azure, app credential."""

from __future__ import annotations

import json

import cdktf

from stacks.durations import duration_seconds


def has_resource(synthesized, resource_type: str, properties: dict) -> bool:
    return cdktf.Testing.to_have_resource_with_properties(
        synthesized.vault, resource_type, properties
    )


def test_kv_v2_mount_requires_check_and_set(synthesized):
    vault = synthesized.settings.vault
    assert has_resource(
        synthesized, "vault_mount", {"path": vault.kv_mount, "type": "kv-v2"}
    )
    assert has_resource(
        synthesized,
        "vault_kv_secret_backend_v2",
        {"cas_required": True, "max_versions": vault.kv_max_versions},
    )


def test_only_the_consent_state_key_is_in_the_stack(synthesized):
    vault = synthesized.settings.vault
    assert has_resource(
        synthesized, "vault_mount", {"path": vault.transit_mount, "type": "transit"}
    )
    assert has_resource(
        synthesized,
        "vault_transit_secret_backend_key",
        {
            "name": vault.transit_state_key,
            "derived": True,
            "exportable": False,
            "deletion_allowed": False,
            "allow_plaintext_backup": False,
            "auto_rotate_period": duration_seconds(vault.transit_rotation_period),
        },
    )
    # Tenant keys come and go with their tenants, outside Terraform's state.
    assert len(synthesized.resources("vault", "vault_transit_secret_backend_key")) == 1


def test_audit_devices_from_settings(synthesized):
    devices = synthesized.settings.vault.audit
    for device in devices:
        assert has_resource(
            synthesized,
            "vault_audit",
            {"type": device.type, "path": device.path, "options": device.options},
        )
    assert len(synthesized.resources("vault", "vault_audit")) == len(devices)


def test_one_policy_per_identity(synthesized):
    names = synthesized.settings.policy_names()
    for name in names.values():
        assert has_resource(synthesized, "vault_policy", {"name": name})
    assert len(synthesized.resources("vault", "vault_policy")) == len(names)


def test_reader_policy_is_keyed_on_the_token_mount_alias(synthesized):
    assert cdktf.Testing.to_have_data_source_with_properties(
        synthesized.vault, "vault_auth_backend", {"path": "token"}
    )
    reader = synthesized.settings.policy_names()["tenant_reader"]
    (policy,) = [
        p for p in synthesized.resources("vault", "vault_policy") if p["name"] == reader
    ]
    assert (
        "{{identity.entity.aliases.${data.vault_auth_backend.token_auth.accessor}"
        ".name}}" in policy["policy"]
    )


def test_token_role_mints_short_orphan_tenant_tokens(synthesized):
    vault = synthesized.settings.vault
    assert has_resource(
        synthesized,
        "vault_token_auth_backend_role",
        {
            "role_name": vault.token_role,
            "orphan": True,
            "renewable": False,
            "token_type": "service",
            "token_explicit_max_ttl": duration_seconds(vault.minted_max_ttl),
            "allowed_entity_aliases": ["*"],
            "allowed_policies": [
                "${vault_policy.policies_tenant_reader_4B1FB514.name}"
            ],
        },
    )


def test_refresher_role_is_minutes_long_with_few_uses(synthesized):
    vault = synthesized.settings.vault
    roles = synthesized.resources("vault", "vault_token_auth_backend_role")
    (refresher,) = [r for r in roles if r["role_name"] == vault.refresh_token_role]
    (reader,) = [r for r in roles if r["role_name"] == vault.token_role]

    assert refresher["token_explicit_max_ttl"] == 120
    assert refresher["token_num_uses"] == vault.refresh_token_num_uses
    assert refresher["orphan"] is True
    assert refresher["renewable"] is False
    assert refresher["token_no_default_policy"] is True
    assert refresher["allowed_policies"] == [
        "${vault_policy.policies_tenant_refresher_D6215D13.name}"
    ]
    assert "token_num_uses" not in reader


def test_jwt_ci_login(synthesized):
    jwt = synthesized.settings.vault.jwt
    assert jwt is not None
    assert has_resource(
        synthesized,
        "vault_jwt_auth_backend",
        {
            "path": jwt.path,
            "type": "jwt",
            "oidc_discovery_url": jwt.oidc_discovery_url,
            "bound_issuer": jwt.bound_issuer,
        },
    )
    assert has_resource(
        synthesized,
        "vault_jwt_auth_backend_role",
        {
            "role_name": jwt.role,
            "role_type": "jwt",
            "bound_audiences": jwt.bound_audiences,
            "bound_claims": jwt.bound_claims,
            "user_claim": jwt.user_claim,
            "token_policies": ["${vault_policy.policies_ci_minter_2C45D98A.name}"],
        },
    )
    (backend,) = synthesized.resources("vault", "vault_jwt_auth_backend")
    if jwt.oidc_discovery_ca_file:
        # Read when Terraform applies, relative to the stack's folder.
        assert backend["oidc_discovery_ca_pem"] == (
            f'${{file("../../../{jwt.oidc_discovery_ca_file}")}}'
        )
    else:
        assert "oidc_discovery_ca_pem" not in backend


def test_approle_ci_login(synthesized):
    approle = synthesized.settings.vault.approle
    assert has_resource(
        synthesized, "vault_auth_backend", {"type": "approle", "path": approle.path}
    )
    expected = {
        "role_name": approle.role,
        "secret_id_ttl": duration_seconds(approle.secret_id_ttl),
        "secret_id_num_uses": approle.secret_id_num_uses,
        "token_ttl": duration_seconds(approle.token_ttl),
        "token_max_ttl": duration_seconds(approle.token_max_ttl),
        "token_policies": ["${vault_policy.policies_ci_minter_2C45D98A.name}"],
    }
    if approle.token_bound_cidrs:
        expected["token_bound_cidrs"] = approle.token_bound_cidrs
    assert has_resource(synthesized, "vault_approle_auth_backend_role", expected)


def test_azure_secrets_only_when_enabled(synthesized):
    azure = synthesized.settings.vault.azure
    backends = synthesized.resources("vault", "vault_azure_secret_backend")
    roles = synthesized.resources("vault", "vault_azure_secret_backend_role")
    if not azure.enabled:
        assert backends == [] and roles == []
        return
    assert has_resource(
        synthesized,
        "vault_azure_secret_backend",
        {"path": azure.path, "subscription_id": azure.subscription_id},
    )
    assert has_resource(
        synthesized,
        "vault_azure_secret_backend_role",
        {
            "role": azure.role,
            "ttl": str(duration_seconds(azure.ttl)),
            "explicit_max_ttl": str(duration_seconds(azure.explicit_max_ttl)),
        },
    )
    (role,) = roles
    assert "object_id" in role["application_object_id"]


def kv_config_of_mount(synthesized, path: str) -> tuple[str, dict]:
    """Key and body of the `vault_kv_secret_backend_v2` of the mount at `path`."""
    resources = json.loads(synthesized.vault)["resource"]
    (mount_key,) = [
        key for key, mount in resources["vault_mount"].items() if mount["path"] == path
    ]
    (found,) = [
        (key, config)
        for key, config in resources["vault_kv_secret_backend_v2"].items()
        if config["mount"] == f"${{vault_mount.{mount_key}.path}}"
    ]
    return found


def test_each_kv_mount_has_its_own_check_and_set_rule(synthesized):
    vault = synthesized.settings.vault
    _, tenant_config = kv_config_of_mount(synthesized, vault.kv_mount)
    _, app_config = kv_config_of_mount(synthesized, vault.app_kv_mount)

    assert has_resource(
        synthesized, "vault_mount", {"path": vault.app_kv_mount, "type": "kv-v2"}
    )
    assert tenant_config["cas_required"] is True
    assert app_config["cas_required"] is False


def test_app_credential_comes_from_the_entra_stack(synthesized):
    vault = synthesized.settings.vault
    config_key, _ = kv_config_of_mount(synthesized, vault.app_kv_mount)
    (secret,) = synthesized.resources("vault", "vault_kv_secret_v2")

    assert secret["mount"] == f"${{vault_kv_secret_backend_v2.{config_key}.mount}}"
    assert secret["name"] == vault.app_credential_path
    assert secret["delete_all_versions"] is True
    # Vault reads check-and-set from options.cas only; none is wanted here.
    assert "cas" not in secret and "options" not in secret
    for key in ("client_id", "client_secret", "tenant_id"):
        assert f'"{key}" = data.terraform_remote_state.' in secret["data_json"]
    remote = json.loads(synthesized.vault)["data"]["terraform_remote_state"]
    assert list(remote) == [
        f"cross-stack-reference-input-{synthesized.settings.name}-entra"
    ]


def test_backend_keeps_each_stack_apart(synthesized):
    backend = json.loads(synthesized.vault)["terraform"]["backend"]
    stack = f"{synthesized.settings.name}-vault"
    if synthesized.settings.backend.type == "local":
        assert backend == {
            "local": {"path": f"../../../.terraform-state/{stack}.tfstate"}
        }
    else:
        (config,) = backend.values()
        assert config["key"] == f"{stack}.tfstate"
