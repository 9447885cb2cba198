"""A sandbox from `sandbox init-env` ports restarts, and lost port races exit 3."""

from __future__ import annotations

import socket

import pytest

from consentvault.errors import ConfigError
from consentvault.sandbox import server
from consentvault.sandbox.environments import write_environment
from consentvault.sandbox.paths import SandboxPaths
from consentvault.sandbox.runtime import Sandbox
from consentvault.settings import load_settings
from tests.conftest import free_port


def _free_run(length: int) -> int:
    """A port base whose next `length` ports are all free."""
    for _ in range(50):
        base = free_port()
        if base + length <= 65535 and all(
            server.port_is_free(base + offset) for offset in range(length)
        ):
            return base
    raise AssertionError(f"no {length} free ports in a row")


@pytest.fixture
def init_env_sandbox(tmp_path):
    """A sandbox on init-env's layout (OpenBao N, stand-in N+1, callback N+2)."""
    base = _free_run(4)
    env_file = write_environment("restart", base, directory=tmp_path)
    sandbox_dir = tmp_path / "sandbox"
    env_file.write_text(
        env_file.read_text().replace('".sandbox-restart/', f'"{sandbox_dir}/')
    )
    box = Sandbox(load_settings(path=env_file), SandboxPaths(sandbox_dir))
    yield box
    box.stop()


def test_up_down_up_again(init_env_sandbox):
    """Before, OpenBao's cluster listener took the stand-in's port on restart."""
    box = init_env_sandbox

    assert sorted(box.start()) == ["entra stand-in", "openbao"]
    box.stop()
    assert sorted(box.start()) == ["entra stand-in", "openbao"]

    assert box.openbao.health().sealed is False
    assert box.standin.healthy()
    assert box.openbao.cluster_port == box.openbao.port + 3
    assert "cluster_address" in box.openbao.config_file.read_text()


def test_a_taken_cluster_port_is_refused_before_start(init_env_sandbox):
    box = init_env_sandbox

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", box.openbao.cluster_port))
        holder.listen()
        with pytest.raises(ConfigError) as caught:
            box.openbao.launch()

    assert caught.value.exit_code == 3
    assert f"127.0.0.1:{box.openbao.cluster_port} is taken" in str(caught.value)
    assert "vault.address" in str(caught.value)
    assert box.openbao.pid() is None


def test_stand_in_port_taken_after_the_check(init_env_sandbox, monkeypatch):
    """Before, a port lost between our check and the stand-in's bind exited 9."""
    standin = init_env_sandbox.standin
    checks = []

    def free_only_at_first(port: int) -> bool:
        checks.append(port)
        return len(checks) == 1 or server_port_is_free(port)

    server_port_is_free = server.port_is_free
    monkeypatch.setattr(server, "port_is_free", free_only_at_first)

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", standin.port))
        holder.listen()
        with pytest.raises(ConfigError) as caught:
            standin.start()

    assert caught.value.exit_code == 3
    assert f"127.0.0.1:{standin.port} is taken" in str(caught.value)
    assert "entra.authority_host" in str(caught.value)
    assert standin.pid() is None
