"""Flows that cross processes: URL in one, callback in another, the server.

A consent flow must survive being started by one process and finished by
another (state lives in Vault), and a callback must count once however many
processes or threads present it.
"""

from __future__ import annotations

import concurrent.futures
import signal
import socket
import subprocess
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from consentvault import errors
from consentvault.consent import callback
from consentvault.consent.commands import sandbox_certificate
from consentvault.consent.redemption import MAX_PREVIOUS_GRANTS, Redemption
from consentvault.consent.state import ConsentStates
from consentvault.sandbox.entra import approve
from consentvault.settings import PROJECT_ROOT

CONSENTVAULT = str(PROJECT_ROOT / ".venv" / "bin" / "consentvault")


def run(
    consent_env, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CONSENTVAULT, *args],
        env=consent_env.env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def customer(customers) -> str:
    return customers[2]


def test_started_in_one_process_redeemed_in_another(consent_env, customer):
    started = run(consent_env, "consent", "url", "--mode", "delegated")
    assert started.returncode == 0, started.stderr
    redirect = approve(
        started.stdout.strip(), ca_file=consent_env.ca_file, tenant=customer
    )

    redeemed = run(
        consent_env, "consent", "redeem", "--callback-url", "-", stdin=redirect
    )

    assert redeemed.returncode == 0, redeemed.stderr
    assert f"tenant {customer}: delegated consent stored" in redeemed.stdout
    version = consent_env.records().read(customer).version

    replayed = run(
        consent_env, "consent", "redeem", "--callback-url", "-", stdin=redirect
    )

    assert replayed.returncode == 8
    assert "Error: consent state already used" in replayed.stderr
    assert consent_env.records().read(customer).version == version


def test_code_on_stdin_and_state_from_the_environment(consent_env, customer):
    started = run(consent_env, "consent", "url", "--mode", "delegated")
    redirect = approve(
        started.stdout.strip(), ca_file=consent_env.ca_file, tenant=customer
    )
    params = callback.from_url(redirect).params
    env = {**consent_env.env(), "CONSENTVAULT_CONSENT_STATE": params["state"]}

    redeemed = subprocess.run(
        [CONSENTVAULT, "consent", "redeem", "--code", "-", "--format", "json"],
        env=env,
        input=params["code"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert redeemed.returncode == 0, redeemed.stderr
    assert f'"tenant_id": "{customer}"' in redeemed.stdout


def test_concurrent_callbacks_succeed_once(consent_env, customer):
    started = run(consent_env, "consent", "url", "--mode", "admin")
    redirect = approve(
        started.stdout.strip(), ca_file=consent_env.ca_file, tenant=customer
    )
    broker = consent_env.vault_client(consent_env.broker_token)

    def redeem_once():
        redemption = Redemption(broker, consent_env.settings)
        try:
            return redemption.redeem(callback.from_url(redirect))
        except errors.ConsentVaultError as exc:
            return exc

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda _: redeem_once(), range(4)))

    stored = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(stored) == 1
    assert all(isinstance(exc, errors.Conflict) for exc in refused)


def test_reconsent_keeps_the_previous_grant(cli, consent_env, customer):
    for mode in ("admin", "delegated"):
        url = cli(["consent", "url", "--mode", mode], consent_env.env()).stdout.strip()
        redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)
        before = _record_or_none(consent_env, customer)
        result = cli(
            ["consent", "redeem", "--callback-url", "-"],
            consent_env.env(),
            stdin=redirect,
        )
        assert result.exit_code == 0, result.stderr

        record = consent_env.records().read(customer)
        assert record.mode == mode
        if before is not None:
            assert record.version == before.version + 1
            assert record.previous_grants[-1] == before.grant_summary()
            # The tenant is shared with other suites' consents; the history
            # is capped, so it grows by one until the cap.
            grown = min(len(before.previous_grants) + 1, MAX_PREVIOUS_GRANTS)
            assert len(record.previous_grants) == grown


def _record_or_none(consent_env, tenant_id: str):
    try:
        return consent_env.records().read(tenant_id)
    except errors.NotFound:
        return None


@pytest.mark.parametrize("decline", [False, True], ids=["approved", "declined"])
def test_serve_once_with_the_scripted_browser(
    cli, consent_env, customer, serve_once, decline
):
    server = serve_once()
    url = cli(
        ["consent", "url", "--mode", "delegated"], consent_env.env()
    ).stdout.strip()
    redirect = approve(
        url, ca_file=consent_env.ca_file, tenant=customer, decline=decline
    )

    # The browser follows the redirect to the callback server.
    page = requests.get(redirect, verify=str(consent_env.ca_file), timeout=30)
    stdout, stderr = server.communicate(timeout=30)

    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Traceback" not in page.text + stderr
    if decline:
        assert page.status_code == 400
        assert "Consent not recorded" in page.text
        assert "declined" in page.text
        assert server.returncode == 7
    else:
        assert page.status_code == 200
        assert f"Tenant {customer}: delegated consent, status active" in page.text
        assert server.returncode == 0
        assert f"tenant {customer}: delegated consent stored" in stdout


def test_serve_ignores_other_paths_and_escapes_its_page(consent_env, serve_once):
    server = serve_once()
    base = consent_env.settings.entra.redirect_uris[0]
    verify = str(consent_env.ca_file)

    other = requests.get(
        base.rsplit("/", 1)[0] + "/favicon.ico", verify=verify, timeout=10
    )
    assert other.status_code == 404
    assert server.poll() is None

    hostile = requests.get(
        base, params={"state": "s" * 43, "error": "<b>x</b>"}, verify=verify, timeout=10
    )
    _, stderr = server.communicate(timeout=30)

    assert hostile.status_code == 400
    assert "<b>" not in hostile.text
    # The browser gets a fixed sentence; the details stay with the server.
    assert "incomplete or malformed; start again" in hostile.text
    assert "error is malformed" not in hostile.text
    assert "error is malformed" in stderr
    assert server.returncode == 2


def test_serve_page_names_no_vault_detail(cli, consent_env, customer, serve_once):
    server = serve_once()
    url = cli(["consent", "url", "--mode", "admin"], consent_env.env()).stdout
    redirect = approve(url.strip(), ca_file=consent_env.ca_file, tenant=customer)
    vault = consent_env.settings.vault
    # The state vanishes before the callback arrives: Vault answers 404.
    states = ConsentStates(consent_env.vault_client(), consent_env.settings)
    state = parse_qs(urlsplit(url.strip()).query)["state"][0]
    consent_env.vault_client().secrets.kv.v2.delete_metadata_and_all_versions(
        path=states.path(state), mount_point=vault.kv_mount
    )

    page = requests.get(redirect, verify=str(consent_env.ca_file), timeout=30)
    _, stderr = server.communicate(timeout=30)

    assert server.returncode == 6, stderr
    assert "This consent link is unknown or has expired" in page.text
    where = f"{vault.kv_mount}/{vault.consent_state_prefix}"
    assert where not in page.text and "/v1/" not in page.text
    assert "unknown consent state: start a new consent flow" in stderr
    assert "unknown consent state" not in page.text


def test_serve_interrupted_exits_130(consent_env):
    server = subprocess.Popen(
        [CONSENTVAULT, "consent", "serve"],
        env=consent_env.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_listening(consent_env.settings.entra.redirect_uris[0], server)
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)

    assert server.returncode == 130
    assert stderr.strip().endswith("Interrupted.")
    assert "Traceback" not in stderr


def _wait_until_listening(url: str, process: subprocess.Popen) -> None:
    parts = urlsplit(url)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("consent serve did not start listening")


def test_sandbox_certificate_only_for_loopback():
    with pytest.raises(errors.ConfigError, match="pass --cert and --key"):
        sandbox_certificate("https://consent.example.com/callback", None, None)
    with pytest.raises(errors.ConfigError, match="not loopback"):
        sandbox_certificate("https://10.0.0.5:8443/callback", None, None)


def test_serve_once_gives_up_after_its_timeout(consent_env):
    done = subprocess.run(
        [CONSENTVAULT, "consent", "serve", "--once", "--timeout", "1"],
        env=consent_env.env(),
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 7
    assert "Error: no callback arrived within 1 s" in done.stderr


def test_serve_without_a_certificate_is_a_config_error(consent_env, tmp_path):
    env = {**consent_env.env(), "CONSENTVAULT_SANDBOX_DIR": str(tmp_path)}
    done = subprocess.run(
        [CONSENTVAULT, "consent", "serve", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 3
    assert "no TLS certificate: pass --cert and --key" in done.stderr


def test_serve_on_a_taken_port_names_the_setting(consent_env):
    """Before, Werkzeug printed 'Address already in use' and exited 1."""
    redirect = urlsplit(consent_env.settings.entra.redirect_uris[0])

    with socket.socket() as holder:
        # Earlier serve tests may leave the port in TIME_WAIT.
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", redirect.port))
        holder.listen()
        done = run(consent_env, "consent", "serve", "--once", "--timeout", "1")

    assert done.returncode == 3, done.stderr
    assert done.stderr.splitlines() == [
        f"Error: 127.0.0.1:{redirect.port} is taken by another process (another "
        "`consent serve`?); stop it or pick another redirect URI port in "
        f"entra.redirect_uris of {consent_env.sandbox.env_file}"
    ]


def test_serve_with_a_bad_certificate_says_so(consent_env, tmp_path):
    """Before, an unreadable certificate was reported as 'cannot listen'."""
    cert = tmp_path / "cert.pem"
    cert.write_text("not a certificate\n")
    key = consent_env.pki / "server-key.pem"

    done = run(
        consent_env,
        "consent",
        "serve",
        "--once",
        "--cert",
        str(cert),
        "--key",
        str(key),
    )

    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith(
        f"Error: could not load the TLS certificate {cert} and key {key} ("
    )
    assert "cannot listen" not in done.stderr
