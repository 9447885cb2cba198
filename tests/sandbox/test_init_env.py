"""`sandbox init-env`: a second sandbox from one port base, paths consistent."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from consentvault.cli import cli
from consentvault.errors import UsageError
from consentvault.sandbox.environments import write_environment
from consentvault.sandbox.paths import SandboxPaths
from consentvault.sandbox.runtime import Sandbox
from consentvault.settings import PROJECT_ROOT, load_settings


def test_ports_and_paths_follow_the_base_and_name(tmp_path, monkeypatch):
    monkeypatch.delenv("CONSENTVAULT_SANDBOX_DIR", raising=False)

    target = write_environment("second", 28200, directory=tmp_path)
    settings = load_settings(path=target)
    text = target.read_text()

    assert settings.name == "second"
    assert settings.vault.address == "https://127.0.0.1:28200"
    assert settings.entra.authority_host == "https://127.0.0.1:28201"
    assert settings.entra.graph_url.startswith("https://127.0.0.1:28201/")
    assert settings.entra.redirect_uris == ["https://127.0.0.1:28202/consent/callback"]
    assert settings.vault.jwt.oidc_discovery_url.startswith("https://127.0.0.1:28201")
    for old in ("18200", "18443", "18765", '".sandbox/'):
        assert old not in text
    # Every sandbox path in the file is inside the folder the commands use.
    folder = Sandbox(settings).paths.root
    assert folder == PROJECT_ROOT / ".sandbox-second"
    assert PROJECT_ROOT / settings.vault.ca_file == folder / "pki" / "ca.pem"
    assert PROJECT_ROOT / settings.entra.ca_file == folder / "pki" / "ca.pem"
    audit_file = settings.vault.audit[0].options["file_path"]
    assert PROJECT_ROOT / audit_file == folder / "openbao" / "audit.log"


def test_the_default_environment_keeps_its_folder(monkeypatch):
    monkeypatch.delenv("CONSENTVAULT_SANDBOX_DIR", raising=False)

    assert SandboxPaths.from_environment(environment="local").root == (
        PROJECT_ROOT / ".sandbox"
    )


@pytest.mark.parametrize(
    ("name", "port_base", "words"),
    [
        ("local", 28200, "not 'local' or 'example'"),
        ("example", 28200, "not 'local' or 'example'"),
        ("Second", 28200, "lower-case letters"),
        ("second", 80, "between 1024 and"),
        ("second", 65534, "between 1024 and"),
        ("second", 65533, "between 1024 and 65532"),
    ],
)
def test_bad_name_or_port_base(tmp_path, name, port_base, words):
    with pytest.raises(UsageError, match=words):
        write_environment(name, port_base, directory=tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_kept_unless_replace(tmp_path):
    target = write_environment("second", 28200, directory=tmp_path)

    with pytest.raises(UsageError, match="pass --replace"):
        write_environment("second", 29200, directory=tmp_path)
    assert "28200" in target.read_text()

    write_environment("second", 29200, directory=tmp_path, replace=True)
    assert load_settings(path=target).vault.address == "https://127.0.0.1:29200"


def test_command_refuses_the_default_name():
    result = CliRunner().invoke(
        cli, ["sandbox", "init-env", "--name", "local", "--port-base", "28200"]
    )

    assert result.exit_code != 0
    assert isinstance(result.exception, UsageError)


@pytest.mark.parametrize("name", ["local", "example"])
def test_replace_never_overwrites_a_tracked_environment(name):
    """Before, `--name example --replace` overwrote environments/example.toml."""
    tracked = PROJECT_ROOT / "environments" / f"{name}.toml"
    before = tracked.read_bytes()

    result = CliRunner().invoke(
        cli,
        ["sandbox", "init-env", "--name", name, "--port-base", "28200", "--replace"],
    )

    assert isinstance(result.exception, UsageError)
    assert result.exception.exit_code == 2
    assert tracked.read_bytes() == before
