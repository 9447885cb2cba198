"""The CI OIDC issuer at `/ci`: discovery, keys and GitHub-shaped id tokens."""

from __future__ import annotations

import jwt
import requests


def _get(standin, path: str) -> dict:
    reply = requests.get(
        standin.base_url + path, verify=str(standin.ca_file), timeout=10
    )
    assert reply.status_code == 200
    return reply.json()


def test_discovery_points_at_the_ci_keys(standin):
    config = _get(standin, "/ci/.well-known/openid-configuration")

    assert config["issuer"] == f"{standin.base_url}/ci"
    assert config["jwks_uri"] == f"{standin.base_url}/ci/keys"
    assert "RS256" in config["id_token_signing_alg_values_supported"]


def test_issued_token_verifies_with_the_published_keys(standin):
    token = standin.control.issue_ci_token(
        repository="example/consentvault", ref="refs/heads/main", run_id="42"
    )
    key = jwt.PyJWK(_get(standin, "/ci/keys")["keys"][0])

    claims = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience="consentvault",
        issuer=f"{standin.base_url}/ci",
    )

    assert claims["sub"] == "repo:example/consentvault:ref:refs/heads/main"
    assert claims["repository"] == "example/consentvault"
    assert claims["ref"] == "refs/heads/main"
    assert claims["run_id"] == "42"
    assert claims["exp"] - claims["iat"] == 300


def test_claims_and_audience_can_be_overridden(standin):
    token = standin.control.issue_ci_token(
        audience="other", claims={"environment": "prod"}
    )

    claims = jwt.decode(token, options={"verify_signature": False})

    assert claims["aud"] == "other"
    assert claims["environment"] == "prod"


def test_ci_keys_differ_from_the_identity_keys(standin, tenants):
    ci_keys = _get(standin, "/ci/keys")["keys"]
    entra_keys = _get(standin, f"/{tenants[0]}/discovery/v2.0/keys")["keys"]

    assert {k["kid"] for k in ci_keys}.isdisjoint(k["kid"] for k in entra_keys)
