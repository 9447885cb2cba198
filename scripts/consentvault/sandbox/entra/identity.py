"""Discovery, keys and the token endpoint of the identity platform v2.0."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from consentvault.sandbox.entra import client_auth, graph_admin, scopes, tokens
from consentvault.sandbox.entra.replies import (
    EntraError,
    consent_required,
    expired_grant,
    invalid_tenant,
    json_reply,
    malformed_grant,
    missing_parameter,
)

if TYPE_CHECKING:
    from consentvault.sandbox.entra.app import Standin

MULTI_TENANT_AUTHORITIES = ("organizations", "common")


def resolve_tenant(standin: Standin, tenant: str) -> dict | None:
    """The tenant record, None for a multi-tenant authority; else 90002."""
    if tenant.lower() in MULTI_TENANT_AUTHORITIES:
        return None
    record = standin.directory.tenant(tenant)
    if record is None:
        raise invalid_tenant(tenant)
    return record


def openid_configuration(standin: Standin, request: Request, tenant: str) -> Response:
    record = resolve_tenant(standin, tenant)
    base = standin.base_url(request)
    # Multi-tenant authorities publish a templated issuer, as Entra does.
    issuer_tenant = record["id"] if record else "{tenantid}"
    return json_reply(
        {
            "issuer": tokens.issuer(base, issuer_tenant),
            "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
            "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
            "end_session_endpoint": f"{base}/{tenant}/oauth2/v2.0/logout",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "response_types_supported": ["code", "id_token", "code id_token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "client_secret_basic",
            ],
            "code_challenge_methods_supported": ["S256", "plain"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nbf",
                "nonce",
                "tid",
                "oid",
                "name",
                "preferred_username",
                "ver",
            ],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": standin.graph_url(request).split("://", 1)[1],
        }
    )


def keys(standin: Standin, request: Request, tenant: str) -> Response:
    resolve_tenant(standin, tenant)
    return json_reply(standin.identity_key.jwks())


def token(standin: Standin, request: Request, tenant: str) -> Response:
    grant_type = request.form.get("grant_type", "")
    authority_tenant = resolve_tenant(standin, tenant)
    if not grant_type:
        raise missing_parameter("grant_type")
    handler = _GRANTS.get(grant_type)
    if handler is None:
        raise EntraError(
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        )
    with standin.directory.lock:
        app = client_auth.authenticate(standin, request, authority_tenant)
        body = handler(standin, request, authority_tenant, app)
        standin.directory.save()
    return json_reply(body)


def _grant_mismatch() -> EntraError:
    return EntraError("invalid_grant", 70000, "Provided grant is invalid or malformed.")


def _pkce_matches(record: dict, verifier: str) -> bool:
    challenge = record.get("code_challenge")
    if not challenge:
        return True
    if record.get("code_challenge_method", "plain") == "S256":
        hashed = hashlib.sha256(verifier.encode()).digest()
        verifier = base64.urlsafe_b64encode(hashed).rstrip(b"=").decode()
    return secrets.compare_digest(verifier, challenge)


def _redeem_code(
    standin: Standin, request: Request, authority_tenant: dict | None, app: dict
) -> dict:
    form = request.form
    record = _find_grant(standin, form, "code", "codes", authority_tenant, app)
    if record["used"]:
        raise EntraError(
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a "
            "new valid code or use an existing refresh token.",
        )
    if _is_expired(standin, record, "codes"):
        raise expired_grant()
    if form.get("redirect_uri", "") != record["redirect_uri"]:
        raise EntraError(
            "invalid_grant",
            50148,
            "The redirect URI in the token request does not match the one used "
            "in the authorization request.",
        )
    if not _pkce_matches(record, form.get("code_verifier", "")):
        raise EntraError(
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the "
            "authorization request.",
        )
    record["used"] = True
    return _user_tokens(standin, request, app, record, record.get("nonce"))


def _find_grant(
    standin: Standin,
    form: Mapping[str, str],
    parameter: str,
    kind: str,
    authority_tenant: dict | None,
    app: dict,
) -> dict:
    """The stored code or refresh token named by `parameter`, issued to `app`.

    A grant of another app, or redeemed at another tenant's authority, is
    refused as Entra refuses it: without saying whose it was.
    """
    value = form.get(parameter, "")
    if not value:
        raise missing_parameter(parameter)
    record = standin.directory.find_grant(kind, value)
    if record is None:
        raise malformed_grant()
    if record["client_id"] != app["appId"]:
        raise _grant_mismatch()
    if authority_tenant and authority_tenant["id"] != record["tenant_id"]:
        raise _grant_mismatch()
    return record


def _is_expired(standin: Standin, record: dict, kind: str) -> bool:
    generation = standin.directory.generation(record["tenant_id"], kind)
    return record["expires_at"] < time.time() or record["generation"] < generation


def _redeem_refresh_token(
    standin: Standin, request: Request, authority_tenant: dict | None, app: dict
) -> dict:
    form = request.form
    record = _find_grant(
        standin, form, "refresh_token", "refresh_tokens", authority_tenant, app
    )
    if _is_expired(standin, record, "refresh_tokens"):
        raise expired_grant()
    consent = standin.directory.consent(record["tenant_id"], app["appId"])
    if consent is None:
        raise consent_required(app["appId"], app["displayName"])
    asked = scopes.parse(form.get("scope", ""), standin.graph_url(request))
    wanted = set(asked.graph) or set(record["scopes"])
    if not wanted <= set(consent["scopes"]):
        raise consent_required(app["appId"], app["displayName"])
    grant = {**record, "scopes": sorted(wanted), "oidc": sorted(asked.oidc)}
    return _user_tokens(standin, request, app, grant, nonce=None)


def _user_tokens(
    standin: Standin, request: Request, app: dict, grant: dict, nonce: str | None
) -> dict:
    """Access token, rotated refresh token, id token and client_info."""
    tenant_id = grant["tenant_id"]
    directory = standin.directory
    tenant = directory.tenant(tenant_id)
    user = next(u for u in tenant["users"] if u["id"] == grant["user_id"])
    base = standin.base_url(request)
    access = tokens.delegated_token(
        standin.identity_key,
        base,
        tenant_id=tenant_id,
        app=app,
        user=user,
        scopes=grant["scopes"],
        generation=directory.generation(tenant_id, "access_tokens"),
    )
    oidc = set(grant["oidc"])
    body = {
        "token_type": "Bearer",
        "scope": " ".join(grant["scopes"] + sorted(oidc)),
        "expires_in": tokens.ACCESS_TOKEN_SECONDS,
        "ext_expires_in": tokens.ACCESS_TOKEN_SECONDS,
        "access_token": access,
    }
    if "offline_access" in oidc:
        refresh = tokens.opaque("1.AR")
        directory.store_grant(
            "refresh_tokens",
            refresh,
            {
                "client_id": app["appId"],
                "tenant_id": tenant_id,
                "user_id": user["id"],
                "scopes": grant["scopes"],
                "expires_at": time.time() + tokens.REFRESH_TOKEN_SECONDS,
                "generation": directory.generation(tenant_id, "refresh_tokens"),
            },
        )
        body["refresh_token"] = refresh
    if "openid" in oidc:
        body["id_token"] = tokens.id_token(
            standin.identity_key,
            base,
            tenant_id=tenant_id,
            client_id=app["appId"],
            user=user,
            nonce=nonce,
        )
    if request.form.get("client_info") == "1":
        body["client_info"] = tokens.client_info(user["id"], tenant_id)
    return body


def _client_credentials(
    standin: Standin, request: Request, authority_tenant: dict | None, app: dict
) -> dict:
    if authority_tenant is None:
        raise EntraError(
            "invalid_request",
            50059,
            "No tenant-identifying information found in either the request or "
            "implied by any provided credentials.",
        )
    scope_text = request.form.get("scope", "")
    if not scope_text:
        raise missing_parameter("scope")
    scopes.client_credentials_resource(scope_text, standin.graph_url(request))
    tenant_id = authority_tenant["id"]
    consent = standin.directory.consent(tenant_id, app["appId"])
    if consent is None:
        raise consent_required(app["appId"], app["displayName"])
    sp = graph_admin.ensure_service_principal(standin.directory, tenant_id, app)
    access = tokens.application_token(
        standin.identity_key,
        standin.base_url(request),
        tenant_id=tenant_id,
        app=app,
        sp_id=sp["id"],
        roles=consent["roles"],
        generation=standin.directory.generation(tenant_id, "access_tokens"),
    )
    return {
        "token_type": "Bearer",
        "expires_in": tokens.ACCESS_TOKEN_SECONDS,
        "ext_expires_in": tokens.ACCESS_TOKEN_SECONDS,
        "access_token": access,
    }


_GRANTS = {
    "authorization_code": _redeem_code,
    "refresh_token": _redeem_refresh_token,
    "client_credentials": _client_credentials,
}
