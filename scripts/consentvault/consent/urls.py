"""The URL a customer's administrator is sent to, and its stored state.

Admin mode uses the v2.0 admin-consent endpoint with Graph's `/.default`
scope (every application permission the registration lists). Delegated mode
uses msal's auth-code flow: PKCE, state and nonce, with the delegated Graph
scopes from settings. Either way the flow is stored in Vault before the URL is
handed out, so whichever process takes the callback can finish it.
"""

from __future__ import annotations

import dataclasses
import logging

import hvac

from consentvault import errors
from consentvault.consent.state import ConsentStates, Mode, new_state
from consentvault.entra_client import (
    GRAPH_DEFAULT_SCOPE,
    MULTI_TENANT,
    EntraClient,
    graph_scopes,
    read_app_credential,
)
from consentvault.records import normalize_tenant_id
from consentvault.settings import Settings

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ConsentLink:
    url: str = dataclasses.field(repr=False)
    mode: Mode
    expires_at: int


def redirect_uri_for(settings: Settings, requested: str | None = None) -> str:
    """The configured redirect URI (the first, unless another is named)."""
    configured = settings.entra.redirect_uris
    if requested is None:
        return configured[0]
    if requested not in configured:
        raise errors.UsageError(
            "the redirect URI is not one of the app's configured redirect URIs"
        )
    return requested


def start_consent(
    client: hvac.Client,
    settings: Settings,
    *,
    mode: Mode,
    tenant: str | None = None,
    redirect_uri: str | None = None,
) -> ConsentLink:
    """Store a new pending flow and return the URL for the administrator."""
    tenant_hint = normalize_tenant_id(tenant) if tenant else MULTI_TENANT
    redirect_uri = redirect_uri_for(settings, redirect_uri)
    entra = EntraClient(settings, read_app_credential(client, settings))
    states = ConsentStates(client, settings)
    state = new_state()

    if mode == "admin":
        url = entra.for_tenant(tenant_hint).admin_consent_url(
            state=state, redirect_uri=redirect_uri, scope=GRAPH_DEFAULT_SCOPE
        )
        flow = {"state": state, "redirect_uri": redirect_uri}
        scopes = [GRAPH_DEFAULT_SCOPE]
    else:
        scopes = graph_scopes(settings.entra.delegated_permissions)
        authority = entra.for_tenant(tenant_hint) if tenant else entra
        flow = authority.initiate_auth_code_flow(
            scopes, redirect_uri, state=state, prompt="consent"
        )
        url = flow["auth_uri"]

    expires_at = states.start(
        mode=mode,
        flow=flow,
        redirect_uri=redirect_uri,
        tenant_hint=tenant_hint,
        scopes=scopes,
    )
    log.info("started %s consent for %s", mode, tenant_hint)
    return ConsentLink(url=url, mode=mode, expires_at=expires_at)
