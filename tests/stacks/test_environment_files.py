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


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ('log_raw = "true"', "log_raw = true would write secrets in clear"),
        ('hmac_accessor = "false"', "hmac_accessor = false would write token"),
        ('mode = "0644"', "mode '0644' is looser than 0600"),
        ('mode = "0000"', "mode '0000' is looser than 0600"),
        ('mode = "rw"', "mode 'rw' is not an octal file mode"),
    ],
    ids=["log-raw", "hmac-accessor", "mode-0644", "mode-0000", "mode-text"],
)
def test_audit_options_that_defeat_the_log_are_refused(tmp_path, options, words):
    path = tmp_path / "env.toml"
    text = load_settings("local").source.read_text()
    line = 'options = { file_path = ".sandbox/openbao/audit.log", mode = "0600" }'
    assert line in text
    replacement = f'options = {{ file_path = "/var/log/audit.log", {options} }}'
    path.write_text(text.replace(line, replacement))

    with pytest.raises(SettingsError) as caught:
        load_settings(path=path)

    assert caught.value.exit_code == 3
    assert "vault.audit.0: Value error, " + words in str(caught.value)


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("http://vault.example.com:8200", True),
        ("http://10.0.0.5:8200", True),
        ("http://127.0.0.1:8200", False),
        ("http://localhost:8200", False),
        ("http://[::1]:8200", False),
    ],
)
def test_plain_http_vault_address_only_on_loopback(tmp_path, address, refused):
    path = tmp_path / "env.toml"
    text = load_settings("local").source.read_text()
    current = load_settings("local").vault.address
    path.write_text(text.replace(f'address = "{current}"', f'address = "{address}"'))

    if not refused:
        assert load_settings(path=path).vault.address == address
        return
    with pytest.raises(SettingsError) as caught:
        load_settings(path=path)
    assert caught.value.exit_code == 3
    assert "not loopback: tokens would cross the network in clear" in str(caught.value)
