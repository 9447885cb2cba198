"""`consentvault sandbox` commands where no sandbox runs: help, refusals, advice."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from consentvault.cli import cli
from tests.conftest import write_test_environment

CONSENTVAULT = str(Path(sys.executable).parent / "consentvault")


@pytest.mark.parametrize(
    "command", ["up", "down", "status", "env", "init-env", "approve", "reset"]
)
def test_every_command_has_help(command):
    result = CliRunner().invoke(cli, ["sandbox", command, "--help"])

    assert result.exit_code == 0
    assert result.output.startswith(f"Usage: cli sandbox {command}")
    assert len(result.output.splitlines()) > 3


@pytest.fixture
def idle(tmp_path):
    """The environment of a sandbox that was never started."""
    env_file = write_test_environment(tmp_path, tmp_path / "sandbox")
    return {
        "PATH": "/usr/bin:/bin",
        "CONSENTVAULT_ENV_FILE": str(env_file),
        "CONSENTVAULT_SANDBOX_DIR": str(tmp_path / "sandbox"),
        "CDKTF_OUTDIR": str(tmp_path / "cdktf.out"),
    }


def _run(env, *args):
    return subprocess.run(
        [CONSENTVAULT, "sandbox", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_status_of_a_sandbox_never_started(idle):
    done = _run(idle, "status")

    assert done.returncode == 4, done.stderr
    assert "openbao is not running: run `consentvault sandbox up`" in done.stderr
    assert done.stdout.splitlines() == [
        f"openbao: {_vault_address(idle)} (stopped)",
        f"entra stand-in: {_authority(idle)} (stopped)",
        "stacks: never applied",
    ]


def test_env_before_up_says_to_run_up(idle):
    done = _run(idle, "env")

    assert done.returncode == 4
    assert done.stdout == ""
    assert "run `consentvault sandbox up`" in done.stderr


def test_up_without_synth_says_to_run_make_synth_and_starts_nothing(idle):
    done = _run(idle, "up")

    assert done.returncode == 3
    assert (
        f"run `CONSENTVAULT_ENV_FILE={idle['CONSENTVAULT_ENV_FILE']} make synth`"
        in done.stderr
    )
    assert not Path(idle["CONSENTVAULT_SANDBOX_DIR"]).exists()


def test_down_when_nothing_runs(idle):
    done = _run(idle, "down")

    assert done.returncode == 0
    assert done.stdout.strip() == "not running"


def test_reset_with_nothing_to_remove(idle):
    done = _run(idle, "reset", "--yes")

    assert done.returncode == 0
    assert done.stdout.startswith("nothing to remove")


def test_bad_environment_file_is_a_config_error(idle, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "local"\n[vault]\naddress = "ftp://x"\n')

    done = _run({**idle, "CONSENTVAULT_ENV_FILE": str(broken)}, "status")

    assert done.returncode == 3
    assert done.stderr.startswith(f"Error: {broken}:")


def _vault_address(env) -> str:
    return _setting(env, "vault", "address")


def _authority(env) -> str:
    return _setting(env, "entra", "authority_host")


def _setting(env, section, key) -> str:
    raw = tomllib.loads(Path(env["CONSENTVAULT_ENV_FILE"]).read_text())
    return raw[section][key]


@pytest.mark.parametrize(
    "url",
    [
        "not-a-url",
        "https://login.example.com/organizations/oauth2/v2.0/authorize?state=s3cret",
        "https://127.0.0.1:1/organizations/oauth2/v2.0/authorize?state=s3cret",
    ],
    ids=["no-scheme", "other-host", "other-port"],
)
def test_approve_refuses_urls_off_the_stand_in(idle, url):
    """Before, these tracebacked (MissingSchema) or fetched the other host."""
    done = _run(idle, "approve", url)

    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"Error: URL is not a consent URL of the sandbox's stand-in "
        f"({_authority(idle)}/...); pass what `consentvault consent url` printed "
        "for this environment"
    ]
    assert done.stdout == ""


def test_declining_reset_exits_1_and_keeps_the_folder(idle):
    """Before, a declined prompt exited 2 ("reset cancelled")."""
    folder = Path(idle["CONSENTVAULT_SANDBOX_DIR"])
    folder.mkdir()

    done = subprocess.run(
        [CONSENTVAULT, "sandbox", "reset"],
        env=idle,
        input="n\n",
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == "Aborted."
    assert folder.is_dir()


def _with_root_token(env) -> dict:
    token_file = Path(env["CONSENTVAULT_SANDBOX_DIR"]) / "openbao" / "root-token"
    token_file.parent.mkdir(parents=True)
    token_file.write_text("sandbox-root-token\n")
    return env


def test_env_exports_a_named_environment_by_name(idle):
    """Before, it exported CONSENTVAULT_ENV_FILE, which beat a later ENV=."""
    env = _with_root_token({**idle, "CONSENTVAULT_ENV": "local"})
    del env["CONSENTVAULT_ENV_FILE"]

    done = _run(env, "env")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "export CONSENTVAULT_ENV=local" in lines
    assert lines[-1] == "unset CONSENTVAULT_ENV_FILE"
    assert not [line for line in lines if "CONSENTVAULT_ENV_FILE=" in line]


def test_env_exports_a_file_outside_environments_by_path(idle):
    done = _run(_with_root_token(idle), "env")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"export CONSENTVAULT_ENV_FILE={idle['CONSENTVAULT_ENV_FILE']}" in lines
    assert not [line for line in lines if "CONSENTVAULT_ENV=" in line]
    assert "unset CONSENTVAULT_ENV_FILE" not in lines
