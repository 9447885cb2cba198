"""The sandbox's OpenBao: first start initialises, a restart unseals itself."""

from __future__ import annotations

import socket
import stat

import hvac
import pytest

from consentvault.errors import ConfigError, VaultUnavailable
from consentvault.sandbox.openbao import OpenBaoServer
from consentvault.sandbox.paths import SandboxPaths
from consentvault.settings import load_settings
from tests.conftest import write_test_environment


@pytest.fixture
def server(tmp_path):
    env_file = write_test_environment(tmp_path, tmp_path / "sandbox")
    server = OpenBaoServer(
        load_settings(path=env_file), SandboxPaths(tmp_path / "sandbox")
    )
    yield server
    server.stop()


def test_restart_keeps_data_and_unseals_itself(server):
    assert server.start() is True
    client = server_client(server)
    client.sys.enable_secrets_engine("kv", path="kept", options={"version": "1"})
    first_pid = server.pid()

    assert server.stop() is True
    assert server.pid() is None
    assert server.start() is True

    assert server.pid() != first_pid
    assert server.health().sealed is False
    assert "kept/" in server_client(server).sys.list_mounted_secrets_engines()["data"]


def test_secret_files_are_private(server):
    server.start()

    for name in ("root-token", "seal.key", "config.hcl", "recovery-keys.json"):
        mode = stat.S_IMODE((server.dir / name).stat().st_mode)
        assert mode == 0o600, name


def test_start_twice_is_a_no_op(server):
    assert server.start() is True
    pid = server.pid()

    assert server.start() is False
    assert server.pid() == pid


def test_port_taken_by_another_process_is_refused_before_starting(server):
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", server.port))
        other.listen()

        with pytest.raises(ConfigError, match=f"127.0.0.1:{server.port} is taken"):
            server.start()

    assert server.pid() is None


def test_server_that_exits_fails_fast_naming_its_log(server):
    server.dir.mkdir(parents=True)
    (server.dir / "seal.key").write_bytes(b"too short")
    (server.dir / "seal.key").chmod(0o600)

    with pytest.raises(VaultUnavailable, match="server.log"):
        server.start()

    assert server.pid() is None


def test_root_token_before_first_start_says_to_run_up(server):
    with pytest.raises(VaultUnavailable, match="run `consentvault sandbox up`"):
        server.root_token()


def test_non_loopback_address_is_refused(tmp_path):
    env_file = write_test_environment(tmp_path, tmp_path / "sandbox")
    text = env_file.read_text().replace(
        'address = "https://127.0.0.1:', 'address = "https://10.0.0.1:'
    )
    env_file.write_text(text)

    with pytest.raises(ConfigError, match="only on 127.0.0.1"):
        OpenBaoServer(load_settings(path=env_file), SandboxPaths(tmp_path / "sandbox"))


def server_client(server):
    return hvac.Client(
        url=server.address, token=server.root_token(), verify=str(server.ca_file)
    )
