"""`main.py` and the cdktf CLI write both stacks; a bad environment is named."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from consentvault.settings import PROJECT_ROOT

PYTHON = sys.executable


def run_main(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "TMPDIR": str(tmp_path),
        **env,
    }
    environment.pop("CONSENTVAULT_ENV", None)
    return subprocess.run(
        [PYTHON, str(PROJECT_ROOT / "main.py")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_broken_environment_file_is_named_not_a_traceback(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "broken"\n[vault]\naddress = "ftp://x"\n')

    result = run_main(tmp_path, CONSENTVAULT_ENV_FILE=str(broken))

    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"Error: {broken}: ")
    assert "  entra: Field required" in result.stderr
    assert "  vault.address: String should match pattern" in result.stderr
    assert not (tmp_path / "cdktf.out").exists()


def test_main_writes_both_stacks(tmp_path):
    """main.py writes into cdktf.out/ of the folder it runs in."""
    result = run_main(
        tmp_path, CONSENTVAULT_ENV_FILE=str(PROJECT_ROOT / "environments/local.toml")
    )

    assert result.returncode == 0, result.stderr
    for stack in ("local-entra", "local-vault"):
        document = json.loads(
            (tmp_path / "cdktf.out/stacks" / stack / "cdk.tf.json").read_text()
        )
        assert document["resource"]


def cdktf_synth(workdir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CHECKPOINT_DISABLE": "1",
        "CONSENTVAULT_ENV": "local",
        "TMPDIR": str(workdir.parent),
    }
    environment.pop("CONSENTVAULT_ENV_FILE", None)
    return subprocess.run(
        [str(PROJECT_ROOT / "node_modules/.bin/cdktf"), "synth", *extra],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_cdktf_cli_synth_and_hcl_export(tmp_path):
    # A copy of the app, so the project's own cdktf.out is left alone.
    workdir = tmp_path / "app"
    workdir.mkdir()
    for name in ("cdktf.json", "main.py"):
        shutil.copy(PROJECT_ROOT / name, workdir / name)
    for name in ("stacks", "policies", "environments", ".venv"):
        (workdir / name).symlink_to(PROJECT_ROOT / name)

    result = cdktf_synth(workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    for stack in ("local-entra", "local-vault"):
        assert (workdir / "cdktf.out/stacks" / stack / "cdk.tf.json").is_file()

    shutil.rmtree(workdir / "cdktf.out")
    result = cdktf_synth(workdir, "--hcl")
    assert result.returncode == 0, result.stdout + result.stderr
    for stack in ("local-entra", "local-vault"):
        hcl = (workdir / "cdktf.out/stacks" / stack / "cdk.tf").read_text()
        assert "resource " in hcl
    vault_hcl = (workdir / "cdktf.out/stacks/local-vault/cdk.tf").read_text()
    assert 'resource "vault_token_auth_backend_role"' in vault_hcl
