"""The minting subset of settings matches what the full loader reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentvault.minting.light_settings import (
    duration_seconds,
    load_mint_settings,
    resolve_ca_file,
)
from consentvault.settings import ENVIRONMENTS_DIR, load_settings
from consentvault.vaultclient import resolve_ca_file as full_resolve_ca_file

MINIMAL = """
name = "tiny"
[entra]
display_name = "x"
redirect_uris = ["https://127.0.0.1:1/cb"]
authority_host = "https://127.0.0.1:2"
graph_url = "https://127.0.0.1:2/graph"
[vault]
address = "https://127.0.0.1:3"
[[vault.audit]]
type = "file"
path = "file"
"""


def environment_files() -> list[Path]:
    return sorted(ENVIRONMENTS_DIR.glob("*.toml"))


@pytest.fixture(params=[*environment_files(), "minimal"], ids=str)
def env_file(request, tmp_path) -> Path:
    if request.param == "minimal":
        path = tmp_path / "tiny.toml"
        path.write_text(MINIMAL)
        return path
    return request.param


def test_same_names_as_the_full_settings(env_file):
    full = load_settings(path=env_file)
    light = load_mint_settings(path=env_file)
    vault = full.vault
    assert light.name == full.name
    assert light.address == vault.address
    assert resolve_ca_file(light.ca_file) == full_resolve_ca_file(vault.ca_file)
    for key in (
        "kv_mount",
        "tenants_prefix",
        "locks_prefix",
        "app_kv_mount",
        "app_credential_path",
        "transit_mount",
        "transit_key",
        "token_role",
        "minted_ttl",
        "minted_max_ttl",
    ):
        assert getattr(light, key) == getattr(vault, key), key
    assert (light.approle_path, light.approle_role) == (
        vault.approle.path,
        vault.approle.role,
    )
    if vault.jwt is None:
        assert light.jwt_path is None
    else:
        assert (light.jwt_path, light.jwt_role, light.jwt_audience) == (
            vault.jwt.path,
            vault.jwt.role,
            vault.jwt.bound_audiences[0],
        )
    assert (light.azure_enabled, light.azure_path, light.azure_role) == (
        vault.azure.enabled,
        vault.azure.path,
        vault.azure.role,
    )
    assert [(d.type, d.path, d.options) for d in light.audit] == [
        (d.type, d.path, d.options) for d in vault.audit
    ]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h", 3600), ("2d", 172800), ("30", 30)],
)
def test_durations(text, seconds):
    assert duration_seconds(text) == seconds


def test_bad_duration():
    with pytest.raises(ValueError, match="not a duration"):
        duration_seconds("1.5h")
