"""The app's msal client, built from the app credential in Vault and settings.

The client id and secret come from Vault (the stacks write them there), never
from flags or the environment. The authority is `<authority_host>/<tenant>`;
for a host that is not Microsoft's (the sandbox's stand-in) instance discovery
is off. TLS is verified against `settings.entra.ca_file` (or the system store),
and no REQUESTS_CA_BUNDLE in the caller's environment can change that.

msal reports failures in two ways: a result dict with `error` and
`error_codes`, or an exception (an HTTP 5xx, a connection failure, a failed
discovery). Both are translated here, once, into the errors of
`consentvault.errors`, with the AADSTS codes and the correlation id but never
the platform's free-text description or any token. Throttling and 5xx replies
are retried with backoff where repeating the request is safe.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import hvac
import hvac.exceptions
import jwt
import msal
import msal.authority
import requests
import tenacity

from consentvault import errors
from consentvault.records import normalize_tenant_id
from consentvault.settings import Settings
from consentvault.vaultclient import resolve_ca_file, vault_errors

log = logging.getLogger(__name__)
# msal's DEBUG records (its token cache events) print authorization codes and
# PKCE verifiers; however verbose the caller's logging, msal stays at WARNING.
logging.getLogger("msal").setLevel(logging.WARNING)

# Graph's resource identifier: scopes name it even when the stand-in answers.
GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_DEFAULT_SCOPE = f"{GRAPH_RESOURCE}/.default"
# Scopes msal adds to every auth-code flow itself and refuses to be given.
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})
# Tenant segment for a multi-tenant app's authorize and token requests.
MULTI_TENANT = "organizations"

HTTP_TIMEOUT_SECONDS = 10
RETRY_ATTEMPTS = 4
RETRY_BASE_SECONDS = 0.25
RETRY_MAX_SECONDS = 4.0
# The longest a Retry-After is honoured; a CLI should not hang for minutes.
RETRY_AFTER_LIMIT_SECONDS = 10.0

# AADSTS code -> (our error, what it means). Messages are ours, not Entra's
# free-text descriptions, which may quote request data.
_AADSTS: dict[int, tuple[type[errors.ConsentVaultError], str]] = {
    65004: (errors.ConsentError, "the administrator declined consent"),
    65001: (errors.ConsentError, "the app has no consent in that tenant"),
    70008: (errors.ConsentError, "the authorization code has expired"),
    54005: (errors.ConsentError, "the authorization code was already redeemed"),
    70000: (errors.ConsentError, "the authorization code is invalid"),
    7000215: (errors.PermissionDenied, "the app's client secret is invalid"),
    7000222: (errors.PermissionDenied, "the app's client secret has expired"),
    700016: (errors.NotFound, "the app is not known in that tenant"),
    90002: (errors.NotFound, "the tenant is not known to the identity platform"),
    90072: (errors.NotFound, "the user's tenant is not known to the identity platform"),
}
# OAuth error -> (our error, what it means), where no AADSTS code decides.
_OAUTH_ERRORS: dict[str, tuple[type[errors.ConsentVaultError], str]] = {
    "access_denied": (errors.ConsentError, "the administrator declined consent"),
    "consent_required": (errors.ConsentError, "consent is required"),
    "interaction_required": (errors.ConsentError, "consent is required"),
    "invalid_client": (errors.PermissionDenied, "the app's credential was refused"),
    "unauthorized_client": (errors.PermissionDenied, "the app is not authorized"),
    "invalid_grant": (errors.ConsentError, "the grant was refused"),
    "invalid_scope": (errors.ConsentError, "a requested permission is not valid"),
    "invalid_request": (errors.ConsentError, "the identity platform refused it"),
    "temporarily_unavailable": (
        errors.IdentityPlatformUnavailable,
        "the identity platform is temporarily unavailable",
    ),
}


@dataclasses.dataclass(frozen=True)
class AppCredential:
    """The multi-tenant app's own credential, as the stacks stored it."""

    client_id: str
    client_secret: str = dataclasses.field(repr=False)
    tenant_id: str = ""


def read_app_credential(client: hvac.Client, settings: Settings) -> AppCredential:
    """The app's client id and secret from `<app_kv_mount>/<app_credential_path>`."""
    vault = settings.vault
    where = f"{vault.app_kv_mount}/{vault.app_credential_path}"
    with vault_errors(f"read the app credential {where}"):
        try:
            response = client.secrets.kv.v2.read_secret_version(
                path=vault.app_credential_path,
                mount_point=vault.app_kv_mount,
                raise_on_deleted_version=True,
            )
        except hvac.exceptions.InvalidPath:
            raise errors.ConfigError(
                f"no app credential at {where}: provision the stacks first"
            ) from None
    data = response["data"]["data"] or {}
    if not data.get("client_id") or not data.get("client_secret"):
        raise errors.ConfigError(f"{where} lacks client_id or client_secret")
    return AppCredential(
        client_id=str(data["client_id"]),
        client_secret=str(data["client_secret"]),
        tenant_id=str(data.get("tenant_id") or ""),
    )


def graph_scopes(permissions: Iterable[str]) -> list[str]:
    """Graph permission names as delegated scopes, minus the ones msal adds."""
    return [
        name if "://" in name else f"{GRAPH_RESOURCE}/{name}"
        for name in permissions
        if name not in RESERVED_SCOPES
    ]


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT we received straight from the token endpoint.

    The signature is not checked: msal obtained the token over TLS from the
    configured authority (OpenID Connect Core 3.1.3.7, step 6), so the claims
    are only read, never trusted from any other channel.
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise errors.ConsentError(
            "the identity platform returned a token that is not a JWT"
        ) from None
    return claims if isinstance(claims, dict) else {}


class _PinnedSession(requests.Session):
    """A requests session whose TLS trust no environment variable overrides.

    It also remembers the status and Retry-After of the last response, which
    msal does not pass on, for the retry decisions below.
    """

    def __init__(self, ca_file: str | None) -> None:
        super().__init__()
        self.verify = ca_file or True
        self.last_status: int | None = None
        self.last_retry_after: str | None = None

    def merge_environment_settings(  # type: ignore[no-untyped-def]
        self, url, proxies, stream, verify, cert
    ):
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        merged["verify"] = self.verify
        return merged

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("timeout", HTTP_TIMEOUT_SECONDS)
        self.last_status = None
        self.last_retry_after = None
        response = super().request(method, url, *args, **kwargs)
        self.last_status = response.status_code
        self.last_retry_after = response.headers.get("Retry-After")
        # The path only: query strings of authorize-style URLs carry state.
        log.info("%s %s -> %d", method, urlsplit(url).path, response.status_code)
        return response


class _Transient(Exception):
    """A throttled or failed reply that may succeed when repeated."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class EntraClient:
    """One msal confidential client for the app, against one authority.

    `tenant` is a tenant GUID for tenant-specific calls (client credentials)
    or `organizations` for the multi-tenant authorize and token endpoints.
    """

    def __init__(
        self,
        settings: Settings,
        credential: AppCredential,
        *,
        tenant: str = MULTI_TENANT,
    ) -> None:
        self.settings = settings
        self.credential = credential
        # The tenant becomes a URL path segment: a GUID or `organizations` only.
        self.tenant = tenant if tenant == MULTI_TENANT else normalize_tenant_id(tenant)
        self.authority = f"{settings.entra.authority_host.rstrip('/')}/{self.tenant}"
        self._session = _PinnedSession(resolve_ca_file(settings.entra.ca_file))
        self._http_cache: dict[Any, Any] = {}
        self._app: msal.ConfidentialClientApplication | None = None

    def for_tenant(self, tenant_id: str) -> EntraClient:
        """The same app against a tenant-specific authority."""
        return EntraClient(self.settings, self.credential, tenant=tenant_id)

    @property
    def application(self) -> msal.ConfidentialClientApplication:
        """The msal application; building it fetches the OpenID configuration."""
        if self._app is None:
            self._app = self._retrying(
                f"discover {self.authority}", self._build_application, safe=True
            )
        return self._app

    def _build_application(self) -> msal.ConfidentialClientApplication:
        host = urlsplit(self.authority).hostname or ""
        try:
            return msal.ConfidentialClientApplication(
                client_id=self.credential.client_id,
                client_credential=self.credential.client_secret,
                authority=self.authority,
                instance_discovery=host in msal.authority.WELL_KNOWN_AUTHORITY_HOSTS,
                http_client=self._session,
                http_cache=self._http_cache,
            )
        except ValueError:
            # msal could not read the authority's OpenID configuration.
            raise self._discovery_failed(f"discover {self.authority}") from None

    # Consent URLs and flows

    def admin_consent_url(self, *, state: str, redirect_uri: str, scope: str) -> str:
        """The v2.0 admin-consent endpoint for this authority's tenant."""
        query = urlencode(
            {
                "client_id": self.credential.client_id,
                "scope": scope,
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{self.authority}/v2.0/adminconsent?{query}"

    def initiate_auth_code_flow(
        self, scopes: list[str], redirect_uri: str, **extra: Any
    ) -> dict[str, Any]:
        """msal's auth-code flow (PKCE, state, nonce); the dict holds secrets."""
        application = self.application
        try:
            with warnings.catch_warnings():
                # msal recommends response_mode=form_post; the callback here is
                # a query string (a URL a pipeline can pass on), and the
                # callback page sends no referrer, so the code goes no further.
                warnings.filterwarnings(
                    "ignore", message="response_mode='form_post'", category=UserWarning
                )
                return dict(
                    application.initiate_auth_code_flow(
                        scopes=scopes, redirect_uri=redirect_uri, **extra
                    )
                )
        except ValueError as exc:
            raise errors.UsageError(
                f"cannot start an auth-code flow: {type(exc).__name__}"
            ) from None

    def redeem_auth_code(
        self,
        flow: Mapping[str, Any],
        auth_response: Mapping[str, str],
        scopes: list[str],
    ) -> dict[str, Any]:
        """Redeem the callback's code with the flow's verifier and nonce.

        Only a throttled reply is retried: after a 5xx the code may already be
        spent, and a second try would only report it as replayed.
        """

        application = self.application

        def redeem() -> dict[str, Any]:
            try:
                return application.acquire_token_by_auth_code_flow(
                    dict(flow), dict(auth_response), scopes=scopes
                )
            except (ValueError, RuntimeError) as exc:
                # msal's messages here quote the state and nonce values.
                raise errors.ConsentError(
                    f"the callback does not match its flow ({type(exc).__name__})"
                ) from None

        return self._retrying("redeem the authorization code", redeem, safe=False)

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
        """An app-only token for this authority's tenant (client credentials)."""
        application = self.application
        return self._retrying(
            f"get an app token for tenant {self.tenant}",
            lambda: application.acquire_token_for_client(scopes=scopes),
            safe=True,
        )

    def acquire_token_by_refresh_token(
        self, refresh_token: str, scopes: list[str]
    ) -> dict[str, Any]:
        """A delegated token from a stored refresh token (which may rotate).

        Retried after a 5xx as after a 429: Microsoft does not revoke a refresh
        token when it is used (each use adds a rotated one), so repeating the
        grant with the same token is safe.
        """
        application = self.application
        return self._retrying(
            f"refresh a delegated token for tenant {self.tenant}",
            lambda: application.acquire_token_by_refresh_token(
                refresh_token, scopes=scopes
            ),
            safe=True,
        )

    # Errors and retries

    def _retrying(self, action: str, call: Callable[[], Any], *, safe: bool) -> Any:
        """Run `call`, translating failures; repeat transient ones with backoff.

        `safe` says a 5xx may be repeated; a 429 always may, because the
        platform refused the request before acting on it.
        """
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Transient),
            stop=tenacity.stop_after_attempt(RETRY_ATTEMPTS),
            wait=_wait_for_retry_after,
            reraise=True,
            before_sleep=lambda state: log.warning(
                "%s: %s; retrying (attempt %d)",
                action,
                state.outcome.exception() if state.outcome else "failed",
                state.attempt_number + 1,
            ),
        )
        try:
            return retrying(self._attempt, action, call, safe)
        except _Transient as exc:
            raise errors.IdentityPlatformUnavailable(
                f"{action}: {exc} (gave up after retries)"
            ) from None

    def _attempt(self, action: str, call: Callable[[], Any], safe: bool) -> Any:
        # msal replays a cached 429/5xx reply for its Retry-After period; a
        # retry must reach the platform again.
        self._http_cache.clear()
        try:
            result = call()
        except msal.exceptions.MsalServiceError:
            status = self._session.last_status
            raise self._unavailable(action, status, safe) from None
        except requests.exceptions.SSLError:
            raise errors.ConfigError(
                f"{action}: TLS verification of {self.authority} failed; "
                "set entra.ca_file to its CA bundle"
            ) from None
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
        ) as exc:
            connect_failed = isinstance(exc, requests.exceptions.ConnectTimeout) or (
                not isinstance(exc, requests.exceptions.Timeout)
            )
            reason = f"cannot reach {self.authority} ({type(exc).__name__})"
            if connect_failed or safe:
                raise _Transient(reason, None) from None
            raise errors.IdentityPlatformUnavailable(f"{action}: {reason}") from None
        except ValueError as exc:
            # msal's messages may quote request values: name the class only.
            raise errors.ConsentVaultError(
                f"{action}: msal refused the request ({type(exc).__name__})"
            ) from None
        if isinstance(result, dict) and "error" in result:
            raise self._translate_result(action, result, safe)
        return result

    def _unavailable(self, action: str, status: int | None, safe: bool) -> Exception:
        reason = f"the identity platform answered HTTP {status or 'error'}"
        if safe or status == 429:
            return _Transient(reason, _seconds(self._session.last_retry_after))
        return errors.IdentityPlatformUnavailable(f"{action}: {reason}")

    def _discovery_failed(self, action: str) -> Exception:
        status = self._session.last_status
        if status is not None and (status == 429 or status >= 500):
            return _Transient(f"discovery answered HTTP {status}", None)
        if self.tenant != MULTI_TENANT:
            return errors.NotFound(
                f"{action}: tenant {self.tenant} is not known to the identity platform"
            )
        return errors.ConfigError(
            f"{action}: {self.authority} serves no OpenID configuration"
        )

    def _translate_result(
        self, action: str, result: Mapping[str, Any], safe: bool
    ) -> Exception:
        status = self._session.last_status
        if status == 429 or (status is not None and status >= 500):
            return self._unavailable(action, status, safe)
        error = error_from_result(result)
        if isinstance(error, errors.IdentityPlatformUnavailable) and safe:
            return _Transient(str(error), _seconds(self._session.last_retry_after))
        return type(error)(f"{action}: {error}")


def error_from_result(result: Mapping[str, Any]) -> errors.ConsentVaultError:
    """Our error for an OAuth error reply (or callback), codes and ids only."""
    error = str(result.get("error") or "unknown_error")
    codes = [int(c) for c in result.get("error_codes") or () if str(c).isdigit()]
    codes += [c for c in _codes_in(result.get("error_description")) if c not in codes]
    error_class, meaning = errors.ConsentError, "the identity platform refused it"
    for code in codes:
        if code in _AADSTS:
            error_class, meaning = _AADSTS[code]
            break
    else:
        if error in _OAUTH_ERRORS:
            error_class, meaning = _OAUTH_ERRORS[error]
    details = [_safe_token(error)]
    if codes:
        details.append("AADSTS" + ",".join(str(code) for code in codes))
    for key in ("correlation_id", "trace_id"):
        if result.get(key):
            details.append(f"{key.replace('_', ' ')} {_safe_token(result[key])}")
    return error_class(f"{meaning} ({'; '.join(details)})")


def _codes_in(description: object) -> list[int]:
    """AADSTS codes named at the start of an error description."""
    if not isinstance(description, str) or not description.startswith("AADSTS"):
        return []
    digits = description[6:].split(":", 1)[0]
    return [int(digits)] if digits.isdigit() else []


def _safe_token(value: object) -> str:
    """An identifier-like value from a reply, cut and stripped for messages."""
    text = "".join(ch for ch in str(value) if ch.isalnum() or ch in "-_.")
    return text[:64]


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _wait_for_retry_after(state: tenacity.RetryCallState) -> float:
    """Exponential backoff, or the platform's Retry-After if it asks for longer."""
    backoff = min(
        RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** (state.attempt_number - 1)
    )
    exc = state.outcome.exception() if state.outcome else None
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is None:
        return backoff
    return min(max(backoff, retry_after), RETRY_AFTER_LIMIT_SECONDS)
