"""Who is calling the token endpoint: a client secret or a federated assertion.

Secrets come as `client_secret` in the form (msal's way) or HTTP Basic. A
federated assertion (`client_assertion_type` jwt-bearer) is accepted when it
is an id token of the stand-in's own CI issuer whose issuer, subject and
audience match one of the app's federatedIdentityCredentials, as workload
identity federation works in Entra. Other issuers' keys are not fetched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jwt
from werkzeug.wrappers import Request

from consentvault.sandbox.entra import ci
from consentvault.sandbox.entra.replies import EntraError, missing_parameter

if TYPE_CHECKING:
    from consentvault.sandbox.entra.app import Standin

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def authenticate(
    standin: Standin, request: Request, authority_tenant: dict | None
) -> dict:
    """The calling application, or the Entra error for its credential."""
    form = request.form
    client_id = form.get("client_id", "")
    secret = form.get("client_secret", "")
    if request.authorization and request.authorization.type == "basic":
        client_id = request.authorization.username or client_id
        secret = request.authorization.password or secret
    if not client_id:
        raise missing_parameter("client_id")
    app = standin.directory.application_by_app_id(client_id.lower())
    if app is None:
        where = authority_tenant["id"] if authority_tenant else "organizations"
        raise EntraError(
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the "
            f"directory '{where}'. This can happen if the application has not "
            "been installed by the administrator of the tenant or consented to "
            "by any user in the tenant.",
        )
    if form.get("client_assertion_type") == JWT_BEARER:
        _check_assertion(standin, request, app, form.get("client_assertion", ""))
    elif not secret:
        raise EntraError(
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: "
            "'client_assertion' or 'client_secret'.",
            status=401,
        )
    elif not standin.directory.check_secret(app, secret):
        raise EntraError(
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the "
            "request is the client secret value, not the client secret ID, for a "
            f"secret added to app '{app['appId']}'.",
            status=401,
        )
    return app


def _check_assertion(standin: Standin, request: Request, app: dict, assertion: str):
    try:
        claims = standin.ci_key.verify(
            assertion,
            issuer=ci.issuer(standin, request),
            options={"verify_aud": False, "require": ["exp", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise EntraError(
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range.",
            status=401,
        ) from None
    except jwt.PyJWTError:
        raise EntraError(
            "invalid_client",
            50027,
            "JWT token is invalid or malformed.",
            status=401,
        ) from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    for credential in app.get("federatedIdentityCredentials", []):
        if (
            credential["issuer"] == claims["iss"]
            and credential["subject"] == claims["sub"]
            and set(credential["audiences"]) & set(audiences)
        ):
            return
    raise EntraError(
        "invalid_client",
        70021,
        "No matching federated identity record found for presented assertion. "
        f"Assertion Issuer: '{claims['iss']}'. Assertion Subject: "
        f"'{claims['sub']}'.",
        status=401,
    )
