"""`consentvault demo` end to end, in its own sandbox folder and ports."""

from __future__ import annotations

import subprocess
import sys

from conftest import _subprocess_base_env, synthesize, write_test_environment

from consentvault.sandbox.paths import SANDBOX_DIR_VARIABLE, SandboxPaths
from consentvault.sandbox.runtime import OUTDIR_VARIABLE, Sandbox
from consentvault.settings import PROJECT_ROOT, load_settings

STEPS = (
    "sandbox",
    "consent (admin)",
    "consent (delegated)",
    "CI login",
    "mint vault-token",
    "read own record",
    "read other tenant",
    "mint graph-token",
    "revoke --tenant",
    "audit verify",
)


def test_demo_tells_the_whole_story(tmp_path):
    sandbox_dir = tmp_path / "sandbox"
    env_file = write_test_environment(tmp_path, sandbox_dir)
    outdir = tmp_path / "cdktf.out"
    synthesize(env_file, outdir)
    env = {
        **_subprocess_base_env(),
        "CONSENTVAULT_ENV_FILE": str(env_file),
        SANDBOX_DIR_VARIABLE: str(sandbox_dir),
        OUTDIR_VARIABLE: str(outdir),
        # The demo must aim at its sandbox even when the shell points elsewhere.
        "VAULT_ADDR": "https://127.0.0.1:9",
    }
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from consentvault.cli import main; main()",
                "demo",
                "--down",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        Sandbox(load_settings(path=env_file), SandboxPaths(sandbox_dir)).stop()

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for number, step in enumerate(STEPS, 1):
        assert lines[number - 1].startswith(f"[{number:2}/10] {step}: "), lines
    assert "refused (403)" in lines[6]
    assert "is refused" in lines[8]
    assert "found in" in lines[9]
    assert lines[-1].startswith("The sandbox is stopped")
    root_token = (sandbox_dir / "openbao" / "root-token").read_text().strip()
    assert root_token not in done.stdout + done.stderr
    assert "FAILED" not in done.stderr
