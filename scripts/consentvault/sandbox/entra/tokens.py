"""Access tokens, id tokens and `client_info` with Entra's v2.0 claims."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid

from consentvault.sandbox.entra.permissions import GRAPH_AUDIENCE
from consentvault.sandbox.entra.signing import SigningKey

ACCESS_TOKEN_SECONDS = 3599
CODE_SECONDS = 600
REFRESH_TOKEN_SECONDS = 90 * 24 * 3600


def issuer(base_url: str, tenant_id: str) -> str:
    return f"{base_url}/{tenant_id}/v2.0"


def opaque(prefix: str) -> str:
    """A code or refresh token: opaque to clients, as Entra's are."""
    return f"{prefix}.{secrets.token_urlsafe(48)}"


def client_info(user_id: str, tenant_id: str) -> str:
    raw = json.dumps({"uid": user_id, "utid": tenant_id}).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def pairwise_subject(user_id: str, client_id: str) -> str:
    """Entra's `sub` differs per application for the same user."""
    digest = hashlib.sha256(f"{user_id}:{client_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()[:43]


def _base_claims(base_url: str, tenant_id: str, generation: int) -> dict:
    now = int(time.time())
    return {
        "iss": issuer(base_url, tenant_id),
        "iat": now,
        "nbf": now,
        "exp": now + ACCESS_TOKEN_SECONDS,
        "tid": tenant_id,
        "ver": "2.0",
        "uti": uuid.uuid4().hex,
        # Entra's `aio` is opaque; the stand-in keeps the tenant's token
        # generation in it so the control interface can expire tokens.
        "aio": f"{generation}.{secrets.token_hex(8)}",
    }


def application_token(
    key: SigningKey,
    base_url: str,
    *,
    tenant_id: str,
    app: dict,
    sp_id: str,
    roles: list[str],
    generation: int,
) -> str:
    claims = _base_claims(base_url, tenant_id, generation)
    claims.update(
        {
            "aud": GRAPH_AUDIENCE,
            "appid": app["appId"],
            "azp": app["appId"],
            "app_displayname": app["displayName"],
            "idtyp": "app",
            "oid": sp_id,
            "sub": sp_id,
        }
    )
    if roles:
        claims["roles"] = roles
    return key.sign(claims)


def delegated_token(
    key: SigningKey,
    base_url: str,
    *,
    tenant_id: str,
    app: dict,
    user: dict,
    scopes: list[str],
    generation: int,
) -> str:
    claims = _base_claims(base_url, tenant_id, generation)
    claims.update(
        {
            "aud": GRAPH_AUDIENCE,
            "appid": app["appId"],
            "azp": app["appId"],
            "app_displayname": app["displayName"],
            "idtyp": "user",
            "oid": user["id"],
            "sub": pairwise_subject(user["id"], app["appId"]),
            "upn": user["userPrincipalName"],
            "name": user["displayName"],
            "scp": " ".join(scopes),
        }
    )
    return key.sign(claims)


def id_token(
    key: SigningKey,
    base_url: str,
    *,
    tenant_id: str,
    client_id: str,
    user: dict,
    nonce: str | None,
) -> str:
    claims = _base_claims(base_url, tenant_id, 0)
    del claims["aio"], claims["uti"]
    claims.update(
        {
            "aud": client_id,
            "oid": user["id"],
            "sub": pairwise_subject(user["id"], client_id),
            "preferred_username": user["userPrincipalName"],
            "name": user["displayName"],
        }
    )
    if nonce:
        claims["nonce"] = nonce
    return key.sign(claims)
