"""-vv logs detail, but not what travels in a request's query string."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CONSENTVAULT = str(Path(sys.executable).parent / "consentvault")


def test_vv_sandbox_approve_logs_no_state(cli, consent_env):
    """Before, urllib3's DEBUG line showed the URL with state and code_challenge."""
    url = cli(["consent", "url", "--mode", "delegated"], consent_env.env()).stdout
    query = parse_qs(urlsplit(url.strip()).query)
    state, challenge = query["state"][0], query["code_challenge"][0]

    done = subprocess.run(
        [CONSENTVAULT, "-vv", "sandbox", "approve", "-", "--decline"],
        env=consent_env.env(),
        input=url,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert "error=access_denied" in done.stdout
    # Names only, so a failure does not print the values themselves.
    secrets = {"state": state, "code_challenge": challenge}
    assert [name for name, value in secrets.items() if value in done.stderr] == []
