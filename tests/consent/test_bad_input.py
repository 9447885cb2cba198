"""Every way a consent callback can go wrong: exit code, message, nothing stored.

Each test starts a real flow where one is needed, lets the stand-in's scripted
administrator or its control interface produce the fault, runs `consent
redeem` as the consent broker, and checks that no tenant record was added or
changed (`snapshot` compares every record's KV version).
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from consentvault.consent.state import ConsentStates
from consentvault.entra_client import RETRY_ATTEMPTS
from consentvault.sandbox.entra import approve


def start(cli, consent_env, mode: str) -> str:
    result = cli(["consent", "url", "--mode", mode], consent_env.env())
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def redeem(cli, consent_env, callback_url: str, token: str | None = None):
    return cli(
        ["consent", "redeem", "--callback-url", "-"],
        consent_env.env(token),
        stdin=callback_url,
    )


def assert_refused(result, exit_code: int, words: str) -> None:
    assert result.exit_code == exit_code, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert words in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def customer(customers) -> str:
    return customers[1]


@pytest.fixture
def unchanged(consent_env):
    """Asserts after the test that no tenant record was added or changed."""
    before = consent_env.snapshot()
    yield
    assert consent_env.snapshot() == before


@pytest.fixture
def client_id(consent_env) -> str:
    settings = consent_env.settings
    return consent_env.vault_client().secrets.kv.v2.read_secret_version(
        path=settings.vault.app_credential_path,
        mount_point=settings.vault.app_kv_mount,
        raise_on_deleted_version=True,
    )["data"]["data"]["client_id"]


@pytest.mark.parametrize("mode", ["admin", "delegated"])
def test_admin_declined(cli, consent_env, customer, unchanged, mode):
    url = start(cli, consent_env, mode)
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer, decline=True)

    result = redeem(cli, consent_env, redirect)

    assert_refused(result, 7, "the administrator declined consent (access_denied")
    assert "65004" in result.stderr
    # The flow is over: its state cannot be used again.
    assert_refused(redeem(cli, consent_env, redirect), 8, "already used")


def test_consent_missing(cli, consent_env, customer, client_id, unchanged):
    url = start(cli, consent_env, "admin")
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)
    consent_env.control.revoke_consent(customer, client_id)

    result = redeem(cli, consent_env, redirect)

    assert_refused(result, 7, "the app has no consent in that tenant")
    assert "AADSTS65001" in result.stderr
    assert "correlation id" in result.stderr


def test_expired_code(cli, consent_env, customer, unchanged):
    url = start(cli, consent_env, "delegated")
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)
    consent_env.control.expire(customer, ("codes",))

    result = redeem(cli, consent_env, redirect)

    assert_refused(result, 7, "the authorization code has expired")
    assert "AADSTS70008" in result.stderr


def test_code_redeemed_twice_at_the_platform(cli, consent_env, customer):
    url = start(cli, consent_env, "delegated")
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)
    assert redeem(cli, consent_env, redirect).exit_code == 0
    before = consent_env.snapshot()
    # Pretend the state was never marked used, so the code reaches Entra again.
    states = ConsentStates(consent_env.vault_client(), consent_env.settings)
    path = states.path(state_of(url))
    kv = consent_env.vault_client().secrets.kv.v2
    mount = consent_env.settings.vault.kv_mount
    entry = kv.read_secret_version(
        path=path, mount_point=mount, raise_on_deleted_version=True
    )["data"]
    kv.create_or_update_secret(
        path=path,
        secret={**entry["data"], "used": False},
        cas=entry["metadata"]["version"],
        mount_point=mount,
    )

    result = redeem(cli, consent_env, redirect)

    assert_refused(result, 7, "the authorization code was already redeemed")
    assert "AADSTS54005" in result.stderr
    assert consent_env.snapshot() == before


def test_bad_client_secret(cli, consent_env, customer, unchanged):
    url = start(cli, consent_env, "admin")
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)
    kv = consent_env.vault_client().secrets.kv.v2
    vault = consent_env.settings.vault
    current = kv.read_secret_version(
        path=vault.app_credential_path,
        mount_point=vault.app_kv_mount,
        raise_on_deleted_version=True,
    )["data"]
    wrong = {**current["data"], "client_secret": "not-the-secret-" + uuid.uuid4().hex}
    written = kv.create_or_update_secret(
        path=vault.app_credential_path,
        secret=wrong,
        cas=current["metadata"]["version"],
        mount_point=vault.app_kv_mount,
    )
    try:
        result = redeem(cli, consent_env, redirect)
    finally:
        kv.create_or_update_secret(
            path=vault.app_credential_path,
            secret=current["data"],
            cas=written["data"]["version"],
            mount_point=vault.app_kv_mount,
        )

    assert_refused(result, 5, "the app's client secret is invalid")
    assert "AADSTS7000215" in result.stderr
    assert wrong["client_secret"] not in result.output


def test_unknown_tenant(cli, consent_env, unchanged):
    url = start(cli, consent_env, "admin")
    stranger = str(uuid.uuid4())
    callback = "?" + urlencode(
        {"admin_consent": "True", "tenant": stranger, "state": state_of(url)}
    )

    result = redeem(cli, consent_env, callback)

    assert_refused(result, 6, f"tenant {stranger} is not known")


def test_throttled_until_retries_run_out(cli, consent_env, customer, unchanged):
    url = start(cli, consent_env, "admin")
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)
    consent_env.control.reset()
    consent_env.control.fail("token", 429, count=RETRY_ATTEMPTS, retry_after=0)

    result = redeem(cli, consent_env, redirect)

    assert_refused(result, 9, "HTTP 429 (gave up after retries)")
    assert "the callback can be retried" in result.stderr
    assert consent_env.control.counts()["endpoint:token"] == RETRY_ATTEMPTS


def test_a_callback_refused_for_throttling_can_be_retried(cli, consent_env, customer):
    url = start(cli, consent_env, "admin")
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)
    consent_env.control.reset()
    consent_env.control.fail("token", 503, count=RETRY_ATTEMPTS)
    assert redeem(cli, consent_env, redirect).exit_code == 9

    retried = redeem(cli, consent_env, redirect)

    assert retried.exit_code == 0, retried.stderr
    assert_refused(redeem(cli, consent_env, redirect), 8, "already used")


def test_one_5xx_is_retried_for_client_credentials(cli, consent_env, customer):
    url = start(cli, consent_env, "admin")
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)
    consent_env.control.reset()
    consent_env.control.fail("token", 503, count=1)

    result = redeem(cli, consent_env, redirect)

    assert result.exit_code == 0, result.stderr
    assert consent_env.control.counts()["endpoint:token"] == 2


def test_5xx_on_code_redemption_is_not_repeated(cli, consent_env, customer, unchanged):
    url = start(cli, consent_env, "delegated")
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)
    consent_env.control.reset()
    consent_env.control.fail("token", 502, count=1)

    result = redeem(cli, consent_env, redirect)

    assert_refused(result, 9, "answered HTTP 502")
    assert consent_env.control.counts()["endpoint:token"] == 1


def test_vault_unreachable(cli, consent_env, unchanged):
    env = consent_env.env()
    env["VAULT_ADDR"] = "https://127.0.0.1:9"

    result = cli(["consent", "url", "--mode", "admin"], env)

    assert_refused(result, 4, "Vault is unreachable")


def test_permission_denied(cli, consent_env, unchanged):
    root = consent_env.vault_client()
    weak = root.auth.token.create(policies=["default"], ttl="5m")["auth"][
        "client_token"
    ]

    result = cli(["consent", "url", "--mode", "admin"], consent_env.env(weak))

    assert_refused(result, 5, "permission denied")


def test_unknown_state(cli, consent_env, unchanged):
    callback = "?" + urlencode({"code": "0.AQ-unknown", "state": "s" * 43})

    result = redeem(cli, consent_env, callback)

    assert_refused(result, 6, "unknown consent state")


def test_expired_state(cli, consent_env, customer, unchanged):
    url = start(cli, consent_env, "admin")
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)
    states = ConsentStates(consent_env.vault_client(), consent_env.settings)
    path = states.path(state_of(url))
    kv = consent_env.vault_client().secrets.kv.v2
    mount = consent_env.settings.vault.kv_mount
    entry = kv.read_secret_version(
        path=path, mount_point=mount, raise_on_deleted_version=True
    )["data"]
    kv.create_or_update_secret(
        path=path,
        secret={**entry["data"], "expires_at": entry["data"]["created_at"] - 1},
        cas=entry["metadata"]["version"],
        mount_point=mount,
    )

    result = redeem(cli, consent_env, redirect)

    assert_refused(result, 7, "consent state expired")
    # The expired flow is gone for good; presenting it again finds nothing.
    assert states.version(state_of(url)) == 0
    assert_refused(redeem(cli, consent_env, redirect), 6, "unknown consent state")


def test_state_already_used(cli, consent_env, customer):
    url = start(cli, consent_env, "admin")
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)
    assert redeem(cli, consent_env, redirect).exit_code == 0
    before = consent_env.snapshot()

    result = redeem(cli, consent_env, redirect)

    assert_refused(result, 8, "consent state already used")
    assert consent_env.snapshot() == before


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("state=" + "s" * 43, "neither a code nor an error"),
        ("code=abc", "has no state"),
        ("state=short&code=abc", "state is malformed"),
        ("state=" + "s" * 43 + "&code=" + "c" * 5000, "'code' is too long"),
        ("state=" + "s" * 43 + "&code=" + "c" * 4000 * 3, "too long"),
        ("state=" + "s" * 43 + "&code=a%20b", "code is malformed"),
        ("state=" + "s" * 43 + "&code=a&code=b", "repeats a parameter"),
        ("state=" + "s" * 43 + "&error=<script>", "error is malformed"),
        ("state=" + "s" * 43 + "&admin_consent=True&tenant=contoso", "not a GUID"),
        ("state=" + "s" * 43 + "&admin_consent=False&tenant=x", "admin_consent"),
        ("state=" + "s" * 43 + "&code=a&admin_consent=True", "mixes"),
        ("&".join(f"p{i}=1" for i in range(40)), "malformed"),
    ],
    ids=[
        "neither-code-nor-error",
        "no-state",
        "short-state",
        "oversized-code",
        "oversized-query",
        "code-with-space",
        "repeated-code",
        "error-markup",
        "tenant-not-guid",
        "admin-consent-false",
        "code-and-admin-consent",
        "too-many-parameters",
    ],
)
def test_malformed_callback(cli, consent_env, unchanged, query, words):
    result = redeem(cli, consent_env, "https://127.0.0.1/consent/callback?" + query)

    assert_refused(result, 2, words)


def test_parameters_instead_of_url(cli, consent_env, customer, unchanged):
    url = start(cli, consent_env, "admin")

    result = cli(
        ["consent", "redeem", "--state", "-", "--admin-consent", "True"]
        + ["--tenant", "not-a-guid"],
        consent_env.env(),
        stdin=state_of(url),
    )

    assert_refused(result, 2, "tenant id 'not-a-guid' is not a GUID")
    # Refused before Vault was asked: the state is still usable.
    states = ConsentStates(consent_env.vault_client(), consent_env.settings)
    assert states.version(state_of(url)) == 1


def test_vault_sealed(cli, consent_env, customer):
    url = start(cli, consent_env, "admin")
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customer)
    before = consent_env.snapshot()
    openbao = consent_env.sandbox.box.openbao
    consent_env.vault_client().sys.seal()
    try:
        result = redeem(cli, consent_env, redirect)
    finally:
        # The static seal unseals on start; a sealed server must be restarted.
        openbao.stop()
        openbao.start()

    assert_refused(result, 4, "sealed")
    assert consent_env.snapshot() == before
    assert redeem(cli, consent_env, redirect).exit_code == 0


def test_error_passed_as_flags(cli, consent_env, unchanged):
    url = start(cli, consent_env, "delegated")

    result = cli(
        ["consent", "redeem", "--error", "access_denied"]
        + ["--error-description", "AADSTS65004: User declined to consent."],
        {**consent_env.env(), "CONSENTVAULT_CONSENT_STATE": state_of(url)},
    )

    assert_refused(result, 7, "the administrator declined consent")
    assert "AADSTS65004" in result.stderr
