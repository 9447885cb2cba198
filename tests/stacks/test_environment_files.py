"""Environment files load into settings, and a wrong one says where it is wrong."""

from __future__ import annotations

import pytest

from consentvault.settings import SettingsError, load_settings


@pytest.mark.parametrize("name", ["local", "example"])
def test_shipped_environments_load(name):
    settings = load_settings(name)
    assert settings.name == name


def test_missing_key_names_file_and_key(tmp_path):
    path = tmp_path / "env.toml"
    text = (load_settings("local").source.read_text()).replace(
        'display_name = "consentvault (sandbox)"\n', ""
    )
    path.write_text(text)

    with pytest.raises(SettingsError) as caught:
        load_settings(path=path)

    assert str(caught.value) == (
        f"{path}: 1 setting(s) wrong:\n  entra.display_name: Field required"
    )
    assert caught.value.exit_code == 3


def test_wrong_value_names_the_expectation(tmp_path):
    path = tmp_path / "env.toml"
    text = load_settings("local").source.read_text()
    path.write_text(text.replace("enabled = false", "enabled = true"))

    with pytest.raises(SettingsError) as caught:
        load_settings(path=path)

    message = str(caught.value)
    assert message.startswith(f"{path}: 1 setting(s) wrong:")
    assert "vault.azure: Value error, subscription_id is required" in message


def test_app_credential_mount_must_be_its_own(tmp_path):
    path = tmp_path / "env.toml"
    text = load_settings("local").source.read_text()
    path.write_text(
        text.replace("[vault]\n", '[vault]\napp_kv_mount = "consentvault"\n')
    )

    with pytest.raises(SettingsError) as caught:
        load_settings(path=path)

    assert caught.value.exit_code == 3
    assert (
        "vault: Value error, kv_mount, app_kv_mount and transit_mount must be "
        "different mounts"
    ) in str(caught.value)
