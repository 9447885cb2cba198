"""No secret of any consent flow reaches output, logs, the page or the audit log.

Every flow runs with maximum logging (-vv, caplog at DEBUG). The secrets are
the stand-in's real values: codes from its redirects, the refresh token it
issued (decrypted from the record), the flows' state, PKCE verifier and nonce
(unsealed from Vault), the app's client secret and the broker's Vault token.
"""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import parse_qs, urlsplit

import requests

from consentvault.consent.state import ConsentStates
from consentvault.records import transit_decrypt
from consentvault.sandbox.entra import approve


class Evidence:
    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.texts: dict[str, str] = {}

    def secret(self, name: str, value: str) -> None:
        assert value and len(value) >= 8, name
        self.secrets[name] = value

    def text(self, where: str, value: str) -> None:
        self.texts[where] = value

    def leaks(self) -> list[str]:
        return [
            f"{name} in {where}"
            for name, value in self.secrets.items()
            for where, text in self.texts.items()
            if value in text
        ]


def _unsealed_flow(consent_env, state: str) -> dict:
    states = ConsentStates(consent_env.vault_client(), consent_env.settings)
    path = states.path(state)
    vault = consent_env.settings.vault
    entry = consent_env.vault_client().secrets.kv.v2.read_secret_version(
        path=path, mount_point=vault.kv_mount, raise_on_deleted_version=True
    )["data"]["data"]
    plaintext = transit_decrypt(
        consent_env.vault_client(),
        mount=vault.transit_mount,
        key=vault.transit_state_key,
        context=path,
        ciphertext=entry["sealed"],
    )
    return json.loads(plaintext)


def test_no_secret_leaks_anywhere(cli, consent_env, customers, caplog, serve_once):
    caplog.set_level(logging.DEBUG)
    evidence = Evidence()
    customer = customers[0]
    step = 0

    def run(args: list[str], stdin: str | None = None, **variables: str):
        nonlocal step
        step += 1
        caplog.clear()
        result = cli(["-vv", *args], {**consent_env.env(), **variables}, stdin=stdin)
        evidence.text(f"step {step} stdout", result.stdout)
        evidence.text(f"step {step} stderr", result.stderr)
        evidence.text(f"step {step} logs", caplog.text)
        return result

    def start(mode: str) -> str:
        url = run(["consent", "url", "--mode", mode]).stdout.strip()
        # The URL itself is what the user asked for; its parts must go no further.
        evidence.texts.pop(f"step {step} stdout")
        state = parse_qs(urlsplit(url).query)["state"][0]
        evidence.secret(f"state {step}", state)
        for key in ("code_verifier", "nonce"):
            if key in (flow := _unsealed_flow(consent_env, state)):
                evidence.secret(f"{key} {step}", flow[key])
        return url

    def consent(mode: str, decline: bool = False) -> str:
        redirect = approve(
            start(mode), ca_file=consent_env.ca_file, tenant=customer, decline=decline
        )
        if code := parse_qs(urlsplit(redirect).query).get("code"):
            evidence.secret(f"code {step}", code[0])
        return redirect

    # Admin consent, delegated consent, a decline and a replay, via redeem.
    for mode, decline in (("admin", False), ("delegated", False), ("delegated", True)):
        redirect = consent(mode, decline)
        run(["consent", "redeem", "--callback-url", "-"], stdin=redirect)
    assert run(["consent", "redeem", "--callback-url", "-"], stdin=redirect).exit_code
    code_redirect = consent("delegated")
    params = parse_qs(urlsplit(code_redirect).query)
    run(
        ["consent", "redeem", "--code", "-"],
        stdin=params["code"][0],
        CONSENTVAULT_CONSENT_STATE=params["state"][0],
    )

    # And once through the callback server with the scripted browser.
    server = serve_once("-vv")
    page = requests.get(
        consent("delegated"), verify=str(consent_env.ca_file), timeout=30
    )
    server_out, server_err = server.communicate(timeout=30)
    assert page.status_code == 200 and server.returncode == 0
    evidence.text("browser page", page.text)
    evidence.text("server stdout", server_out)
    evidence.text("server stderr", server_err)
    run(["tenant", "show", customer, "--format", "json"])
    run(["tenant", "list"])

    records = consent_env.records()
    material = records.decrypt_secret(records.read(customer))
    evidence.secret("refresh token", material["refresh_token"])
    evidence.secret(
        "refresh token (base64)",
        base64.b64encode(json.dumps(material, separators=(",", ":")).encode()).decode(),
    )
    vault = consent_env.settings.vault
    app = consent_env.vault_client().secrets.kv.v2.read_secret_version(
        path=vault.app_credential_path,
        mount_point=vault.app_kv_mount,
        raise_on_deleted_version=True,
    )["data"]["data"]
    evidence.secret("client secret", app["client_secret"])
    evidence.secret("broker token", consent_env.broker_token)
    evidence.text("audit log", consent_env.audit_log.read_text())

    assert len(evidence.secrets) >= 15
    assert "hmac-sha256:" in evidence.texts["audit log"]
    # Only names and places are reported, never the values themselves.
    assert evidence.leaks() == []
