"""Fixtures for the stand-in's own tests: one in-process server per module.

Every msal application object is fresh (`make_msal`): msal remembers an HTTP
400, 429 or 5xx reply per application object and would replay it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import msal
import pytest

from consentvault.sandbox.entra import (
    RunningStandin,
    approve,
    running_standin,
    sign_in,
)

REDIRECT_URI = "https://127.0.0.1:9/consent/callback"
APPLICATION_PERMISSIONS = ["User.Read.All", "Organization.Read.All"]
DELEGATED_PERMISSIONS = ["offline_access", "User.Read", "Files.Read.All"]


@dataclass(frozen=True)
class RegisteredApp:
    object_id: str
    client_id: str
    secret: str
    key_id: str

    def __repr__(self) -> str:
        return f"RegisteredApp({self.client_id!r}, secret='***')"


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStandin]:
    folder = tmp_path_factory.mktemp("entra-standin")
    with running_standin(folder, control_token=secrets.token_urlsafe(24)) as running:
        yield running


@pytest.fixture(autouse=True)
def _forget_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    """Faults and counters never leak from one test into the next."""
    yield
    if "standin" in request.fixturenames:
        request.getfixturevalue("standin").control.reset()


@pytest.fixture(scope="module")
def app(standin: RunningStandin) -> RegisteredApp:
    created = standin.control.register_application(
        "consentvault (test)",
        [REDIRECT_URI],
        application_permissions=APPLICATION_PERMISSIONS,
        delegated_permissions=DELEGATED_PERMISSIONS,
    )
    password = standin.control.add_password(created["id"])
    return RegisteredApp(
        created["id"], created["appId"], password["secretText"], password["keyId"]
    )


@pytest.fixture(scope="module")
def tenants(standin: RunningStandin) -> list[str]:
    """Customer tenant ids; each test module gets the same three."""
    return [t["id"] for t in standin.control.customer_tenants()]


@pytest.fixture
def make_msal(
    standin: RunningStandin, app: RegisteredApp
) -> Callable[..., msal.ConfidentialClientApplication]:
    def make(
        tenant: str, *, client_id: str | None = None, secret: str | None = None
    ) -> msal.ConfidentialClientApplication:
        return msal.ConfidentialClientApplication(
            client_id or app.client_id,
            client_credential=secret or app.secret,
            authority=standin.authority(tenant),
            instance_discovery=False,
            verify=str(standin.ca_file),
        )

    return make


@pytest.fixture
def consent_url(standin: RunningStandin, app: RegisteredApp) -> Callable[..., str]:
    """An adminconsent URL for a tenant, as the consent command builds one."""

    def build(tenant: str, state: str = "state-1", client_id: str | None = None):
        return (
            f"{standin.base_url}/{tenant}/v2.0/adminconsent"
            f"?client_id={client_id or app.client_id}&redirect_uri={REDIRECT_URI}"
            f"&state={state}&scope=https://graph.microsoft.com/.default"
        )

    return build


@pytest.fixture
def consented(standin: RunningStandin, consent_url, tenants: list[str]) -> str:
    """The first customer tenant, after its admin granted admin consent."""
    approve(consent_url(tenants[0]), ca_file=standin.ca_file, tenant=tenants[0])
    return tenants[0]


@pytest.fixture
def delegated_sign_in(standin: RunningStandin, make_msal):
    """Start msal's auth code flow and let the tenant's admin answer it.

    Returns (msal app, flow, the parameters posted back to the redirect URI).
    """

    def run(
        tenant: str,
        *,
        authority: str | None = None,
        scopes: tuple[str, ...] = ("User.Read",),
        decline: bool = False,
        login: str | None = None,
    ):
        cca = make_msal(authority or tenant)
        flow = cca.initiate_auth_code_flow(
            list(scopes), redirect_uri=REDIRECT_URI, response_mode="form_post"
        )
        callback = sign_in(
            flow["auth_uri"],
            ca_file=standin.ca_file,
            tenant=tenant,
            decline=decline,
            login=login,
        )
        return cca, flow, callback.params

    return run


@pytest.fixture
def redirect_uri() -> str:
    return REDIRECT_URI
