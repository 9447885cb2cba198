"""The consent suites run against the shared sandbox, as the consent broker.

`consent_env` wraps the session's `sandbox` (provisioned from the synthesized
stacks, with the real policies) and adds a Vault token holding only the
consent-broker policy, which is what every command under test runs with.
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import hvac
import pytest

from consentvault.records import TenantRecords
from consentvault.sandbox.entra import ControlClient
from consentvault.settings import PROJECT_ROOT, Settings

CONSENTVAULT = PROJECT_ROOT / ".venv" / "bin" / "consentvault"


@dataclasses.dataclass(frozen=True)
class ConsentEnv:
    sandbox: object = dataclasses.field(repr=False)
    broker_token: str = dataclasses.field(repr=False)
    operator_token: str = dataclasses.field(repr=False)

    @property
    def settings(self) -> Settings:
        return self.sandbox.settings

    @property
    def control(self) -> ControlClient:
        return self.sandbox.control

    @property
    def ca_file(self) -> Path:
        return self.sandbox.ca_file

    @property
    def audit_log(self) -> Path:
        return self.sandbox.box.paths.openbao / "audit.log"

    @property
    def pki(self) -> Path:
        return self.sandbox.box.paths.pki

    def vault_client(self, token: str | None = None) -> hvac.Client:
        """A client with the root token unless given another."""
        return self.sandbox.vault_client(token)

    def records(self) -> TenantRecords:
        """The record store with the root token: tests may look inside."""
        return TenantRecords(self.vault_client(), self.settings)

    def env(self, token: str | None = None) -> dict[str, str]:
        """The environment of a consentvault process run by the consent broker."""
        return self.sandbox.env(VAULT_TOKEN=token or self.broker_token)

    def snapshot(self) -> dict[str, int]:
        """Every tenant record's current version: 'nothing new' compares these."""
        records = self.records()
        return {tid: records.current_version(tid) for tid in records.list_ids()}


@pytest.fixture(scope="session")
def consent_env(sandbox) -> ConsentEnv:
    root = sandbox.vault_client()
    names = sandbox.settings.policy_names()

    def token(policy: str) -> str:
        created = root.auth.token.create(policies=[policy], ttl="2h", no_parent=True)
        return created["auth"]["client_token"]

    return ConsentEnv(
        sandbox=sandbox,
        broker_token=token(names["consent_broker"]),
        operator_token=token(names["operator"]),
    )


@pytest.fixture
def vault_env(consent_env: ConsentEnv):
    """The Vault client and settings the record tests use (the operator's)."""

    @dataclasses.dataclass
    class VaultEnv:
        client: hvac.Client
        settings: Settings

    return VaultEnv(consent_env.vault_client(), consent_env.settings)


@pytest.fixture(autouse=True)
def no_vault_token_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No caller's ~/.vault-token is picked up by the commands under test."""
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture
def customers(consent_env: ConsentEnv) -> list[str]:
    """The stand-in's customer tenant ids."""
    return [tenant["id"] for tenant in consent_env.control.customer_tenants()]


@pytest.fixture
def cli():
    """Run `consentvault ARGS` in this process through `cli.main`'s exit codes."""
    return run_cli


@dataclasses.dataclass(frozen=True)
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> Run:
    from click.testing import CliRunner

    from consentvault.cli import main

    runner = CliRunner()
    with runner.isolation(input=stdin, env=env) as (out, err, _):
        saved_argv = sys.argv
        sys.argv = ["consentvault", *args]
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.argv = saved_argv
        return Run(code, out.getvalue().decode(), err.getvalue().decode())


def _wait_for_port(url: str, process: subprocess.Popen, seconds: float = 20) -> None:
    parts = urlsplit(url)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("consent serve did not start listening")


@pytest.fixture
def serve_once(consent_env):
    """Start `consent serve --once` and stop it by pid if the test fails."""
    processes = []

    def start(*global_flags: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [str(CONSENTVAULT), *global_flags, "consent", "serve", "--once"]
            + ["--timeout", "60"],
            env=consent_env.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        _wait_for_port(consent_env.settings.entra.redirect_uris[0], process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
