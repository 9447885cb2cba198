"""`consentvault demo` end to end, in its own sandbox folder and ports."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from consentvault.sandbox.paths import SANDBOX_DIR_VARIABLE, SandboxPaths
from consentvault.sandbox.runtime import OUTDIR_VARIABLE, Sandbox
from consentvault.settings import ENVIRONMENTS_DIR, PROJECT_ROOT, load_settings

# What a leaked credential would look like in the demo's output: OpenBao
# tokens (`s.`, `b.`, `r.`; `hvs.` on Vault), JWTs (Graph and id tokens), the
# stand-in's refresh tokens and codes (`1.AR.`, `1.AQ.`), Entra-style client
# secrets (`xxx8Q~...`).
TOKEN_SHAPED = re.compile(
    r"\b(?:hv[sbr]\.|[sbr]\.)[A-Za-z0-9_-]{20,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_.-]*"
    r"|\b1\.A[QR]\.[A-Za-z0-9_-]{20,}"
    r"|[A-Za-z0-9_~.-]{3}8Q~[A-Za-z0-9_~.-]{34}"
)

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def demo_environment(folder: Path, sandbox_dir: Path) -> Path:
    """environments/local.toml with free ports and this test's sandbox folder."""
    text = (ENVIRONMENTS_DIR / "local.toml").read_text()
    for port in ("18200", "18443", "18765"):
        text = text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{free_port()}")
    text = text.replace('".sandbox/', f'"{sandbox_dir}/')
    env_file = folder / "demo.toml"
    env_file.write_text(text)
    return env_file


def base_env() -> dict[str, str]:
    cleared = ("VAULT_", "AZURE_", "ARM_", "CONSENTVAULT_")
    return {k: v for k, v in os.environ.items() if not k.startswith(cleared)}


def test_demo_tells_the_whole_story(tmp_path):
    sandbox_dir = tmp_path / "sandbox"
    env_file = demo_environment(tmp_path, sandbox_dir)
    outdir = tmp_path / "cdktf.out"
    env = {
        **base_env(),
        "CONSENTVAULT_ENV_FILE": str(env_file),
        SANDBOX_DIR_VARIABLE: str(sandbox_dir),
        OUTDIR_VARIABLE: str(outdir),
        # The demo must aim at its sandbox even when the shell points elsewhere.
        "VAULT_ADDR": "https://127.0.0.1:9",
    }
    synth = subprocess.run(
        [sys.executable, "main.py"],
        cwd=PROJECT_ROOT,
        env={**env, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert synth.returncode == 0, synth.stderr
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

    root_token = (sandbox_dir / "openbao" / "root-token").read_text().strip()
    shown = TOKEN_SHAPED.sub("<secret>", done.stdout + done.stderr)
    shown = shown.replace(root_token, "<secret:root token>")
    assert done.returncode == 0, f"exit {done.returncode}: {shown}"
    # Each check is reduced to a boolean or a count first, so that a failure
    # does not print what leaked; after them the output may be shown.
    printed = done.stdout + done.stderr
    root_token_printed = root_token in printed
    assert not root_token_printed
    provisioner = json.loads((sandbox_dir / "entra" / "provisioner.json").read_text())
    provisioner_secret_printed = provisioner["client_secret"] in printed
    assert not provisioner_secret_printed
    token_shaped = len(TOKEN_SHAPED.findall(printed))
    assert token_shaped == 0
    lines = done.stdout.splitlines()
    for number, step in enumerate(STEPS, 1):
        started = lines[number - 1].startswith(f"[{number:2}/10] {step}: ")
        assert started, f"step {number} ({step}) missing:\n{shown}"
    assert "refused (403)" in lines[6]
    assert "is refused" in lines[8]
    assert "found in" in lines[9]
    assert lines[-1].startswith("The sandbox is stopped")
    assert "FAILED" not in done.stderr
