"""The minting subset of settings matches what the full loader reads."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from consentvault.minting.light_settings import duration_seconds, load_mint_settings
from consentvault.settings import ENVIRONMENTS_DIR, load_settings
from consentvault.vaultenv import resolve_ca_file

from .helpers import run_cli

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


# Light fields whose full counterpart is not `full.vault.<same name>`.
SPECIAL_FIELDS = {
    "name": lambda full: full.name,
    "source": None,  # where the light loader read from; no full counterpart
    "ca_file": lambda full: resolve_ca_file(full.vault.ca_file),
    "approle_path": lambda full: full.vault.approle.path,
    "approle_role": lambda full: full.vault.approle.role,
    "jwt_path": lambda full: full.vault.jwt and full.vault.jwt.path,
    "jwt_role": lambda full: full.vault.jwt and full.vault.jwt.role,
    "jwt_audience": lambda full: full.vault.jwt and full.vault.jwt.bound_audiences[0],
    "azure_enabled": lambda full: full.vault.azure.enabled,
    "azure_path": lambda full: full.vault.azure.path,
    "azure_role": lambda full: full.vault.azure.role,
    "audit": lambda full: [(d.type, d.path, d.options) for d in full.vault.audit],
}


def light_value(light, name: str):
    if name == "ca_file":
        return resolve_ca_file(light.ca_file)
    if name == "audit":
        return [(d.type, d.path, d.options) for d in light.audit]
    return getattr(light, name)


def test_same_names_as_the_full_settings(env_file):
    full = load_settings(path=env_file)
    light = load_mint_settings(path=env_file)
    # Every field of the dataclass is compared: a new one is either a
    # same-named vault setting or must be added to SPECIAL_FIELDS.
    for item in dataclasses.fields(light):
        name = item.name
        if name in SPECIAL_FIELDS:
            expected = SPECIAL_FIELDS[name]
            if expected is None:
                continue
            assert light_value(light, name) == expected(full), name
        else:
            assert hasattr(full.vault, name), f"{name}: no counterpart in settings"
            assert getattr(light, name) == getattr(full.vault, name), name


# Each case: what is added to MINIMAL, and the key the message must name.
BROKEN_SETTINGS = {
    "no audience": ("[vault.jwt]\nbound_audiences = []\n", "vault.jwt.bound_audiences"),
    "approle not a table": ('[vault]\napprole = "x"\n', "[vault.approle]"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_SETTINGS))
def test_foreseeable_mistakes_are_configuration_errors(case, tmp_path):
    added, key = BROKEN_SETTINGS[case]
    path = tmp_path / "broken.toml"
    # `[vault]` already opens the table in MINIMAL: add to it there.
    if added.startswith("[vault]\n"):
        text = MINIMAL.replace("[vault]\n", added)
    else:
        text = MINIMAL + added
    path.write_text(text)

    result = run_cli(
        ["mint", "vault-token", "--tenant", "00000000-0000-0000-0000-000000000001"],
        {"CONSENTVAULT_ENV_FILE": str(path), "VAULT_TOKEN": "unused"},
    )

    assert result.exit_code == 3, f"exit {result.exit_code}"
    assert str(path) in result.stderr and key in result.stderr


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h", 3600), ("2d", 172800), ("30", 30)],
)
def test_durations(text, seconds):
    assert duration_seconds(text) == seconds


def test_bad_duration():
    with pytest.raises(ValueError, match="not a duration"):
        duration_seconds("1.5h")
