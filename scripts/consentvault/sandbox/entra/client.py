"""Client side of the stand-in: the control interface and a scripted browser.

`ControlClient` wraps `/_control/...` and the Graph registry calls (with the
control token as the bearer). `approve()` plays a tenant's administrator in a
browser: it opens an authorize or adminconsent URL, picks the account, clicks
Accept or Cancel, and returns the redirect URL the browser would follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

from consentvault.sandbox.entra.permissions import (
    APP_ROLES,
    DELEGATED_SCOPES,
    GRAPH_APP_ID,
)

TIMEOUT = 10


class StandinError(Exception):
    """The stand-in refused a control or browser step; the message says which."""


class ControlClient:
    def __init__(self, base_url: str, ca_file: Path | str, control_token: str):
        self.base_url = base_url.rstrip("/")
        # Passed on every call: a session-wide `verify` loses to
        # REQUESTS_CA_BUNDLE in requests' environment merging.
        self._verify = str(ca_file)
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {control_token}"

    def __repr__(self) -> str:
        return f"ControlClient({self.base_url!r}, control_token='***')"

    def _call(self, method: str, path: str, **kwargs) -> dict:
        reply = self._session.request(
            method, self.base_url + path, timeout=TIMEOUT, verify=self._verify, **kwargs
        )
        if reply.status_code >= 400:
            raise StandinError(f"{method} {path}: HTTP {reply.status_code}")
        return reply.json() if reply.content else {}

    # Directory

    def tenants(self) -> dict:
        return self._call("GET", "/_control/tenants")

    def home_tenant(self) -> str:
        return self.tenants()["home_tenant"]

    def customer_tenants(self) -> list[dict]:
        return [t for t in self.tenants()["tenants"] if t["kind"] == "customer"]

    def consent(self, tenant: str, client_id: str) -> dict | None:
        try:
            return self._call(
                "GET",
                "/_control/consent",
                params={"tenant": tenant, "client_id": client_id},
            )
        except StandinError:
            return None

    # Faults and counters

    def counts(self) -> dict[str, int]:
        return self._call("GET", "/_control/counts")

    def grant_count(self, grant_type: str) -> int:
        return self.counts().get(f"token:{grant_type}", 0)

    def expire(self, tenant: str, kinds: tuple[str, ...] | None = None) -> None:
        body = {"tenant": tenant, "kinds": list(kinds) if kinds else None}
        self._call("POST", "/_control/expire", json=body)

    def fail(
        self,
        endpoint: str,
        status: int,
        count: int = 1,
        retry_after: int | None = None,
    ) -> None:
        body = {
            "endpoint": endpoint,
            "status": status,
            "count": count,
            "retry_after": retry_after,
        }
        self._call("POST", "/_control/fail", json=body)

    def revoke_consent(self, tenant: str, client_id: str | None = None) -> int:
        body = {"tenant": tenant, "client_id": client_id}
        return self._call("POST", "/_control/revoke-consent", json=body)["revoked"]

    def issue_ci_token(self, **spec) -> str:
        return self._call("POST", "/_control/ci-token", json=spec)["token"]

    def reset(self) -> None:
        self._call("POST", "/_control/reset")

    # The Graph registry, as the offline apply uses it

    def register_application(
        self,
        display_name: str,
        redirect_uris: list[str],
        *,
        application_permissions: list[str] = (),
        delegated_permissions: list[str] = (),
    ) -> dict:
        """Create an app asking for Graph permissions by name; Graph's reply."""
        access = [{"id": APP_ROLES[n], "type": "Role"} for n in application_permissions]
        access += [
            {"id": DELEGATED_SCOPES[n][0], "type": "Scope"}
            for n in delegated_permissions
        ]
        body = {
            "displayName": display_name,
            "signInAudience": "AzureADMultipleOrgs",
            "web": {"redirectUris": list(redirect_uris)},
            "requiredResourceAccess": [
                {"resourceAppId": GRAPH_APP_ID, "resourceAccess": access}
            ],
        }
        return self._call("POST", "/graph/v1.0/applications", json=body)

    def add_password(self, object_id: str, display_name: str = "sandbox") -> dict:
        body = {"passwordCredential": {"displayName": display_name}}
        path = f"/graph/v1.0/applications/{object_id}/addPassword"
        return self._call("POST", path, json=body)

    def add_federated_credential(
        self,
        object_id: str,
        *,
        name: str,
        issuer: str,
        subject: str,
        audiences: list[str] = ("api://AzureADTokenExchange",),
    ) -> dict:
        body = {
            "name": name,
            "issuer": issuer,
            "subject": subject,
            "audiences": list(audiences),
        }
        path = f"/graph/v1.0/applications/{object_id}/federatedIdentityCredentials"
        return self._call("POST", path, json=body)

    def remove_password(self, object_id: str, key_id: str) -> None:
        path = f"/graph/v1.0/applications/{object_id}/removePassword"
        self._call("POST", path, json={"keyId": key_id})

    def service_principals(self, app_id: str) -> list[dict]:
        """`GET /servicePrincipals?$filter=appId eq '...'`, as azuread looks one up."""
        found = self._call(
            "GET",
            "/graph/v1.0/servicePrincipals",
            params={"$filter": f"appId eq '{app_id}'"},
        )
        return found["value"]

    def create_service_principal(self, app_id: str) -> dict:
        return self._call(
            "POST", "/graph/v1.0/servicePrincipals", json={"appId": app_id}
        )


class _Form(HTMLParser):
    """Reads a stand-in page: form action, hidden fields, accounts, error."""

    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.accounts: list[dict[str, str]] = []
        self.error: str | None = None
        self._in_error = False

    @property
    def ctx(self) -> str | None:
        return self.fields.get("ctx")

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.action = attributes.get("action")
        elif tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes.get("name", "")] = attributes.get("value", "")
        elif tag == "option":
            self.accounts.append(attributes)
        elif tag == "p" and attributes.get("id") == "error":
            self._in_error = True

    def handle_data(self, data):
        if self._in_error:
            self.error = data.strip()
            self._in_error = False


@dataclass(frozen=True)
class Callback:
    """Where the browser goes after the decision, and with what.

    `method` is GET for `response_mode=query` (then `url` is the full redirect
    URL) and POST for `form_post` (then `url` is the redirect URI and the
    fields are in `params`). `params` holds code and state, or the error.
    """

    method: str
    url: str
    params: dict[str, str] = field(repr=False)

    def __repr__(self) -> str:
        return f"Callback({self.method} {self.url.split('?')[0]}, params=***)"


def sign_in(
    url: str,
    *,
    ca_file: Path | str,
    tenant: str | None = None,
    login: str | None = None,
    decline: bool = False,
) -> Callback:
    """Open a sign-in URL as a browser would, pick an account and decide.

    The account is `login`, else the administrator of `tenant` (any tenant's
    administrator shown when `tenant` is None). Raises `StandinError` when the
    stand-in shows an error page instead of sending the browser back.
    """
    verify = str(ca_file)
    with requests.Session() as browser:
        page = browser.get(url, timeout=TIMEOUT, verify=verify, allow_redirects=False)
        form = _Form()
        form.feed(page.text)
        if page.status_code != 200 or not form.ctx or not form.action:
            raise StandinError(
                f"sign-in page refused (HTTP {page.status_code}): "
                f"{form.error or _error_code(page)}"
            )
        account = login or _pick_admin(form.accounts, tenant)
        decision = browser.post(
            urljoin(url, form.action),
            data={
                "ctx": form.ctx,
                "login": account,
                "decision": "cancel" if decline else "accept",
            },
            timeout=TIMEOUT,
            verify=verify,
            allow_redirects=False,
        )
    if decision.status_code == 302:
        location = decision.headers["Location"]
        params = dict(parse_qsl(urlsplit(location).query))
        return Callback("GET", location, params)
    result = _Form()
    result.feed(decision.text)
    if decision.status_code == 200 and result.action and result.fields:
        return Callback("POST", result.action, result.fields)
    raise StandinError(f"sign-in refused (HTTP {decision.status_code}): {result.error}")


def approve(
    url: str,
    *,
    ca_file: Path | str,
    tenant: str | None = None,
    login: str | None = None,
    decline: bool = False,
) -> str:
    """`sign_in` for `response_mode=query` and adminconsent: the redirect URL."""
    callback = sign_in(
        url, ca_file=ca_file, tenant=tenant, login=login, decline=decline
    )
    if callback.method != "GET":
        raise StandinError("the request used response_mode=form_post; use sign_in()")
    return callback.url


def _pick_admin(accounts: list[dict[str, str]], tenant: str | None) -> str:
    for account in accounts:
        if account.get("data-admin") == "true" and (
            tenant is None or account.get("data-tenant") == tenant
        ):
            return account["value"]
    raise StandinError(f"no administrator of tenant {tenant} on the sign-in page")


def _error_code(reply: requests.Response) -> str:
    try:
        return str(reply.json().get("error_codes"))
    except ValueError:
        return "no details"
