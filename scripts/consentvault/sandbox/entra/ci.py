"""An OIDC issuer for CI jobs at `/ci`, shaped like GitHub Actions' issuer.

Vault's JWT auth reads `/ci/.well-known/openid-configuration` and `/ci/keys`;
tests get id tokens from the control interface (`issue_ci_token`).
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from consentvault.sandbox.entra.replies import json_reply

if TYPE_CHECKING:
    from consentvault.sandbox.entra.app import Standin

CI_TOKEN_SECONDS = 300


def issuer(standin: Standin, request: Request) -> str:
    return standin.base_url(request) + "/ci"


def openid_configuration(standin: Standin, request: Request) -> Response:
    iss = issuer(standin, request)
    return json_reply(
        {
            "issuer": iss,
            "jwks_uri": f"{iss}/keys",
            "subject_types_supported": ["public", "pairwise"],
            "response_types_supported": ["id_token"],
            "claims_supported": [
                "sub",
                "aud",
                "exp",
                "iat",
                "iss",
                "jti",
                "nbf",
                "ref",
                "repository",
                "repository_owner",
                "run_id",
                "workflow",
                "event_name",
                "ref_type",
                "actor",
                "environment",
            ],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid"],
        }
    )


def keys(standin: Standin, request: Request) -> Response:
    return json_reply(standin.ci_key.jwks())


def issue_token(standin: Standin, request: Request, spec: dict) -> str:
    """A GitHub-Actions-shaped id token; `spec` overrides any claim."""
    now = int(time.time())
    repository = str(spec.get("repository", "example/consentvault"))
    ref = str(spec.get("ref", "refs/heads/main"))
    ttl = int(spec.get("ttl", CI_TOKEN_SECONDS))
    claims = {
        "iss": issuer(standin, request),
        "aud": spec.get("audience", "consentvault"),
        "sub": f"repo:{repository}:ref:{ref}",
        "repository": repository,
        "repository_owner": repository.split("/", 1)[0],
        "ref": ref,
        "ref_type": "branch",
        "run_id": str(spec.get("run_id", "1")),
        "run_attempt": "1",
        "workflow": "ci",
        "event_name": "push",
        "actor": "sandbox",
        "jti": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
    }
    claims.update(spec.get("claims", {}))
    return standin.ci_key.sign(claims)
