"""`mint vault-token` stays light: no hvac, requests, pydantic or msal.

Its start-up is what a CI job pays on every mint (see BENCHMARKS.md), so the
modules that cost most are kept off its path; this guards against a stray
import putting them back.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("hvac", "requests", "pydantic", "msal", "jinja2", "consentvault.sandbox")

PROBE = """
import atexit, sys
atexit.register(lambda: print(" ".join(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["consentvault", "mint", "vault-token", "--tenant",
            "00000000-0000-4000-8000-000000000001"]
from consentvault.cli import main
main()
"""


def test_mint_vault_token_imports_nothing_heavy(vault):
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=vault.sandbox.env(VAULT_TOKEN="x", VAULT_ADDR="https://127.0.0.1:9"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 4
    modules = set(done.stderr.splitlines()[-1].split())
    assert "consentvault.minting.vault_token" in modules
    loaded = sorted(
        m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)
    )
    assert loaded == []
