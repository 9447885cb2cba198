"""A port already taken is a setting to change: exit 3 naming file and key."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from consentvault.errors import ConfigError
from consentvault.sandbox.openbao import OpenBaoServer
from consentvault.sandbox.paths import SandboxPaths
from consentvault.sandbox.standin import StandinProcess
from consentvault.settings import load_settings
from tests.conftest import write_test_environment


@pytest.mark.parametrize(
    ("part", "setting", "url_of"),
    [
        (OpenBaoServer, "vault.address", lambda s: s.vault.address),
        (StandinProcess, "entra.authority_host", lambda s: s.entra.authority_host),
    ],
    ids=["openbao", "stand-in"],
)
def test_a_taken_port_names_the_file_and_setting(tmp_path, part, setting, url_of):
    env_file = write_test_environment(tmp_path, tmp_path / "sandbox")
    settings = load_settings(path=env_file)
    process = part(settings, SandboxPaths(tmp_path / "sandbox"))
    port = urlsplit(url_of(settings)).port

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        with pytest.raises(ConfigError) as caught:
            process.launch()

    assert caught.value.exit_code == 3
    assert f"127.0.0.1:{port} is taken by another process" in str(caught.value)
    assert f"{setting} of {env_file}" in str(caught.value)
    assert process.pid() is None
