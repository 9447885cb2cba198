"""`make ... ENV=NAME` picks NAME even with CONSENTVAULT_ENV_FILE in the shell."""

from __future__ import annotations

import os
import subprocess

from consentvault.settings import PROJECT_ROOT

# A throwaway target that prints what a recipe of the Makefile sees.
_PROBE = 'probe: ; @echo "$$CONSENTVAULT_ENV|$${CONSENTVAULT_ENV_FILE-unset}"'


def _probe(*args: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CONSENTVAULT")}
    done = subprocess.run(
        ["make", "-s", "--no-print-directory", f"--eval={_PROBE}", *args, "probe"],
        cwd=PROJECT_ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_env_on_the_command_line_beats_an_exported_file():
    """Before, a CONSENTVAULT_ENV_FILE from `sandbox env` won over ENV=."""
    assert _probe("ENV=second", CONSENTVAULT_ENV_FILE="/x.toml") == "second|unset"


def test_without_env_the_shell_decides():
    assert _probe(CONSENTVAULT_ENV="second") == "second|unset"
    assert _probe(CONSENTVAULT_ENV_FILE="/x.toml") == "local|/x.toml"
