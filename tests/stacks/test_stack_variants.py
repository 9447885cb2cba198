"""Settings that neither shipped environment uses: other backends, optional parts."""

from __future__ import annotations

import json

import cdktf
import pytest

from consentvault.settings import BackendSettings, SettingsError, load_settings
from stacks import build_app


@pytest.fixture(scope="module")
def local():
    return load_settings("local")


def synth(settings, tmp_path) -> tuple[dict, dict]:
    app = cdktf.Testing.app(outdir=str(tmp_path))
    entra, vault = build_app(app, settings)
    app.synth()
    return (
        json.loads(cdktf.Testing.synth(entra)),
        json.loads(cdktf.Testing.synth(vault)),
    )


@pytest.mark.parametrize(
    ("backend_type", "options", "expected"),
    [
        (
            "s3",
            {"bucket": "state", "region": "eu-west-1"},
            {"bucket": "state", "region": "eu-west-1", "key": "consentvault/S.tfstate"},
        ),
        (
            "consul",
            {"address": "consul:8500", "access_token": "from-settings"},
            {
                "address": "consul:8500",
                "access_token": "from-settings",
                "path": "consentvault/S",
            },
        ),
        (
            "pg",
            {"conn_str": "postgres://db/tf"},
            {"conn_str": "postgres://db/tf", "schema_name": "U"},
        ),
        (
            "remote",
            {"organization": "contoso"},
            {"organization": "contoso", "workspaces": {"name": "consentvault-S"}},
        ),
        (
            "azurerm",
            {"storage_account_name": "st", "container_name": "tf", "key": "t/{stack}"},
            {"storage_account_name": "st", "container_name": "tf", "key": "t/S"},
        ),
        (
            "local",
            {"path": "state/{stack}.tfstate"},
            {"path": "../../../state/S.tfstate"},
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_each_stack_gets_its_own_state(
    local, tmp_path, backend_type, options, expected
):
    backend = BackendSettings(type=backend_type, options=options)
    entra, vault = synth(local.model_copy(update={"backend": backend}), tmp_path)

    for document, stack in ((entra, "local-entra"), (vault, "local-vault")):
        rendered = json.dumps(expected).replace("S", stack)
        rendered = rendered.replace('"U"', f'"{stack.replace("-", "_")}"')
        assert document["terraform"]["backend"] == {backend_type: json.loads(rendered)}


def test_shared_state_key_is_a_settings_error(local, tmp_path):
    backend = BackendSettings(type="s3", options={"bucket": "b", "key": "one.tfstate"})

    with pytest.raises(SettingsError, match=r"^backend.options.key: must contain"):
        synth(local.model_copy(update={"backend": backend}), tmp_path)


def test_unknown_backend_option_is_a_settings_error(local, tmp_path):
    backend = BackendSettings(type="s3", options={"bucket": "b", "colour": "red"})

    with pytest.raises(SettingsError, match=r"^backend.options: .* s3 backend"):
        synth(local.model_copy(update={"backend": backend}), tmp_path)


def test_certificate_credential_is_read_at_apply_time(local, tmp_path):
    entra_settings = local.entra.model_copy(
        update={"certificate_file": "certs/app.pem", "federated_ci": None}
    )
    entra, _ = synth(local.model_copy(update={"entra": entra_settings}), tmp_path)

    (certificate,) = entra["resource"]["azuread_application_certificate"].values()
    assert certificate["type"] == "AsymmetricX509Cert"
    assert certificate["encoding"] == "pem"
    assert certificate["value"] == '${file("../../../certs/app.pem")}'
    assert "azuread_application_federated_identity_credential" not in entra["resource"]


def test_without_jwt_settings_only_approle_is_made(local, tmp_path):
    vault_settings = local.vault.model_copy(update={"jwt": None})
    _, vault = synth(local.model_copy(update={"vault": vault_settings}), tmp_path)

    assert "vault_jwt_auth_backend" not in vault["resource"]
    assert "vault_jwt_auth_backend_role" not in vault["resource"]
    assert list(vault["resource"]["vault_auth_backend"].values())[0]["type"] == (
        "approle"
    )
