"""Fixtures every suite shares: a clean environment and one live sandbox.

The `sandbox` fixture is session-scoped: one synth, one OpenBao, one Entra
stand-in and one offline apply for the whole run, all on free loopback ports
and in a temporary folder, stopped by process id at the end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import hvac
import pytest

from consentvault.sandbox.entra import ControlClient
from consentvault.sandbox.paths import SANDBOX_DIR_VARIABLE, SandboxPaths
from consentvault.sandbox.runtime import OUTDIR_VARIABLE, Sandbox
from consentvault.settings import (
    ENVIRONMENTS_DIR,
    PROJECT_ROOT,
    Settings,
    load_settings,
)

# Variables that would point a test at a real Vault, Azure or CA bundle.
_CLEARED_PREFIXES = ("VAULT_", "AZURE_", "ARM_", "CONSENTVAULT_")
_CLEARED_NAMES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")

# The ports and paths of environments/local.toml, replaced in the test copy.
_LOCAL_VAULT = "https://127.0.0.1:18200"
_LOCAL_AUTHORITY = "https://127.0.0.1:18443"
_LOCAL_CALLBACK = "https://127.0.0.1:18765"
_LOCAL_SANDBOX_DIR = '".sandbox/'


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name in _CLEARED_NAMES:
            monkeypatch.delenv(name)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_test_environment(folder: Path, sandbox_dir: Path) -> Path:
    """A copy of environments/local.toml with free ports and absolute paths."""
    text = (ENVIRONMENTS_DIR / "local.toml").read_text()
    text = text.replace(_LOCAL_VAULT, f"https://127.0.0.1:{free_port()}")
    text = text.replace(_LOCAL_AUTHORITY, f"https://127.0.0.1:{free_port()}")
    text = text.replace(_LOCAL_CALLBACK, f"https://127.0.0.1:{free_port()}")
    text = text.replace(_LOCAL_SANDBOX_DIR, f'"{sandbox_dir}/')
    env_file = folder / "sandbox-test.toml"
    env_file.write_text(text)
    return env_file


def synthesize(env_file: Path, outdir: Path) -> None:
    """`python main.py` for one environment file, into `outdir`."""
    env = {
        **_subprocess_base_env(),
        "CONSENTVAULT_ENV_FILE": str(env_file),
        OUTDIR_VARIABLE: str(outdir),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    done = subprocess.run(
        [sys.executable, "main.py"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"synth failed:\n{done.stderr}"


def _subprocess_base_env() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if not (name.startswith(_CLEARED_PREFIXES) or name in _CLEARED_NAMES)
    }


@dataclass
class LiveSandbox:
    """A running, provisioned sandbox that tests can use and inspect."""

    box: Sandbox
    settings: Settings
    env_file: Path
    outdir: Path
    dir: Path
    vault_addr: str
    ca_file: Path
    authority: str
    control: ControlClient
    root_token: str = field(repr=False)

    def vault_client(self, token: str | None = None) -> hvac.Client:
        """hvac client for the sandbox's OpenBao (root token unless given one)."""
        return hvac.Client(
            url=self.vault_addr,
            token=token or self.root_token,
            verify=str(self.ca_file),
        )

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a `consentvault` subprocess aimed at this sandbox.

        No token is included: a test passes VAULT_TOKEN itself when it needs one.
        """
        return {
            **_subprocess_base_env(),
            "CONSENTVAULT_ENV_FILE": str(self.env_file),
            SANDBOX_DIR_VARIABLE: str(self.dir),
            OUTDIR_VARIABLE: str(self.outdir),
            "VAULT_ADDR": self.vault_addr,
            "VAULT_CACERT": str(self.ca_file),
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            **extra,
        }


def start_sandbox(folder: Path) -> LiveSandbox:
    """Synthesize, start and apply a sandbox under `folder`; stop it on failure."""
    sandbox_dir = folder / "sandbox"
    env_file = write_test_environment(folder, sandbox_dir)
    outdir = folder / "cdktf.out"
    synthesize(env_file, outdir)
    settings = load_settings(path=env_file)
    box = Sandbox(settings, SandboxPaths(sandbox_dir))
    try:
        box.start()
        # Just synthesized: other engineers' edits to stacks/ since then are
        # not this session's concern.
        box.apply(outdir, echo=lambda line: None, fresh=False)
    except BaseException:
        box.stop()
        raise
    return LiveSandbox(
        box=box,
        settings=settings,
        env_file=env_file,
        outdir=outdir,
        dir=sandbox_dir,
        vault_addr=box.openbao.address,
        root_token=box.openbao.root_token(),
        ca_file=box.paths.ca_file,
        authority=box.standin.authority,
        control=ControlClient(
            box.standin.authority, box.paths.ca_file, box.standin.control_token()
        ),
    )


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSandbox]:
    """One provisioned sandbox (OpenBao + Entra stand-in) for the whole session."""
    live = start_sandbox(tmp_path_factory.mktemp("live-sandbox"))
    try:
        yield live
    finally:
        live.box.stop()
