"""A minimal Microsoft Graph: reads for customers, the registry for the sandbox.

Reads (`/organization`, `/users`, `/me`) accept only a valid, unexpired
access token issued by the stand-in for Graph, and answer with the data of
the token's tenant. Management calls (`/applications`, `/servicePrincipals`)
accept the control token or a token of the built-in provisioner app holding
`Application.ReadWrite.All` in the home tenant.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import jwt
from werkzeug.wrappers import Request, Response

from consentvault.sandbox.entra import graph_admin
from consentvault.sandbox.entra.graph_admin import GraphRequestError
from consentvault.sandbox.entra.permissions import GRAPH_AUDIENCE
from consentvault.sandbox.entra.replies import graph_error, json_reply

if TYPE_CHECKING:
    from consentvault.sandbox.entra.app import Standin

# Permissions that allow each read, as Graph's reference lists them.
ORGANIZATION_ROLES = {"Organization.Read.All", "Directory.Read.All"}
ORGANIZATION_SCOPES = {"User.Read", "Organization.Read.All", "Directory.Read.All"}
USERS_ROLES = {"User.Read.All", "Directory.Read.All"}
USERS_SCOPES = {"User.Read", "User.ReadBasic.All", "User.Read.All"}
MANAGEMENT_ROLES = {"Application.ReadWrite.All"}


class _Refused(Exception):
    def __init__(self, reply: Response):
        self.reply = reply


def _unauthorized(message: str) -> _Refused:
    return _Refused(graph_error(401, "InvalidAuthenticationToken", message))


def _forbidden() -> _Refused:
    return _Refused(
        graph_error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    )


def _bearer(request: Request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthorized("Access token is empty.")
    return value.strip()


def validated_claims(standin: Standin, request: Request) -> dict:
    """Claims of the request's Graph token, or a Graph-shaped refusal."""
    token = _bearer(request)
    try:
        claims = standin.identity_key.verify(
            token,
            audience=GRAPH_AUDIENCE,
            options={"require": ["exp", "iat", "tid", "iss", "aio"]},
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized(
            "Lifetime validation failed, the token is expired."
        ) from None
    except jwt.PyJWTError:
        raise _unauthorized("IDX14100: JWT is not well formed.") from None
    tenant_id = claims["tid"]
    expected_issuer = f"{standin.base_url(request)}/{tenant_id}/v2.0"
    if standin.directory.tenant(tenant_id) is None or claims["iss"] != expected_issuer:
        raise _unauthorized("Invalid token issuer or tenant.")
    issued_in = int(str(claims["aio"]).split(".", 1)[0])
    if issued_in < standin.directory.generation(tenant_id, "access_tokens"):
        raise _unauthorized("Lifetime validation failed, the token is expired.")
    return claims


def _require(claims: dict, roles: set[str], scopes: set[str]) -> None:
    granted_roles = set(claims.get("roles", []))
    granted_scopes = set(str(claims.get("scp", "")).split())
    if not (granted_roles & roles or granted_scopes & scopes):
        raise _forbidden()


def _collection(request: Request, entity: str, values: list[dict]) -> Response:
    context = f"{request.host_url}graph/v1.0/$metadata#{entity}"
    return json_reply({"@odata.context": context, "value": values})


def _user_view(user: dict) -> dict:
    return {
        "id": user["id"],
        "displayName": user["displayName"],
        "userPrincipalName": user["userPrincipalName"],
        "mail": user["userPrincipalName"],
        "businessPhones": [],
    }


def _guarded(handler):
    """Turn refusals into Graph replies, so handlers read top to bottom."""

    def run(standin: Standin, request: Request, **args) -> Response:
        try:
            return handler(standin, request, **args)
        except _Refused as refused:
            return refused.reply
        except GraphRequestError as exc:
            return graph_error(exc.status, exc.code, exc.message)

    run.__name__ = handler.__name__
    return run


@_guarded
def organization(standin: Standin, request: Request) -> Response:
    claims = validated_claims(standin, request)
    _require(claims, ORGANIZATION_ROLES, ORGANIZATION_SCOPES)
    tenant = standin.directory.tenant(claims["tid"])
    view = {
        "id": tenant["id"],
        "displayName": tenant["displayName"],
        "tenantType": "AAD",
        "countryLetterCode": "NL",
        "verifiedDomains": [
            {
                "name": tenant["domain"],
                "isDefault": True,
                "isInitial": True,
                "type": "Managed",
                "capabilities": "Email, OfficeCommunicationsOnline",
            }
        ],
    }
    return _collection(request, "organization", [view])


@_guarded
def users(standin: Standin, request: Request) -> Response:
    claims = validated_claims(standin, request)
    _require(claims, USERS_ROLES, USERS_SCOPES)
    tenant = standin.directory.tenant(claims["tid"])
    return _collection(request, "users", [_user_view(u) for u in tenant["users"]])


@_guarded
def me(standin: Standin, request: Request) -> Response:
    claims = validated_claims(standin, request)
    if claims.get("idtyp") != "user":
        raise _Refused(
            graph_error(
                400,
                "BadRequest",
                "/me request is only valid with delegated authentication flow.",
            )
        )
    _require(claims, set(), {"User.Read", "User.Read.All"})
    tenant = standin.directory.tenant(claims["tid"])
    user = next(u for u in tenant["users"] if u["id"] == claims["oid"])
    return json_reply(_user_view(user))


# Management: the application registry


def _require_manager(standin: Standin, request: Request) -> None:
    if standin.is_control_request(request):
        return
    claims = validated_claims(standin, request)
    if claims["tid"] != standin.directory.home_tenant:
        raise _forbidden()
    _require(claims, MANAGEMENT_ROLES, set())


def _body(request: Request) -> dict:
    try:
        body = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise GraphRequestError(
            400, "BadRequest", "Unable to read JSON request payload."
        )
    return body


def _entity(request: Request, entity: str, value: dict, status: int = 200):
    context = f"{request.host_url}graph/v1.0/$metadata#{entity}"
    return json_reply({"@odata.context": context, **value}, status)


@_guarded
def applications(standin: Standin, request: Request) -> Response:
    _require_manager(standin, request)
    directory = standin.directory
    with directory.lock:
        if request.method == "GET":
            found = graph_admin.list_applications(
                directory, request.args.get("$filter")
            )
            return _collection(request, "applications", found)
        app = graph_admin.create_application(directory, _body(request))
        directory.save()
        return _entity(
            request, "applications/$entity", graph_admin.public_view(app), 201
        )


@_guarded
def application(standin: Standin, request: Request, object_id: str) -> Response:
    _require_manager(standin, request)
    directory = standin.directory
    with directory.lock:
        app = graph_admin.find_application(directory, object_id)
        if request.method == "GET":
            return _entity(
                request, "applications/$entity", graph_admin.public_view(app)
            )
        if request.method == "PATCH":
            graph_admin.update_application(app, _body(request))
        elif request.method == "DELETE":
            graph_admin.delete_application(directory, app)
        else:
            raise GraphRequestError(405, "Request_BadRequest", "Method not allowed.")
        directory.save()
        return Response(status=204)


@_guarded
def add_password(standin: Standin, request: Request, object_id: str) -> Response:
    _require_manager(standin, request)
    directory = standin.directory
    with directory.lock:
        app = graph_admin.find_application(directory, object_id)
        body = _body(request).get("passwordCredential") or {}
        credential = graph_admin.add_password(directory, app, body)
        directory.save()
    return _entity(request, "microsoft.graph.passwordCredential", credential)


@_guarded
def remove_password(standin: Standin, request: Request, object_id: str) -> Response:
    _require_manager(standin, request)
    directory = standin.directory
    with directory.lock:
        app = graph_admin.find_application(directory, object_id)
        graph_admin.remove_password(app, _body(request))
        directory.save()
    return Response(status=204)


@_guarded
def service_principals(standin: Standin, request: Request) -> Response:
    _require_manager(standin, request)
    directory = standin.directory
    with directory.lock:
        if request.method == "GET":
            found = graph_admin.list_service_principals(
                directory, request.args.get("$filter")
            )
            return _collection(request, "servicePrincipals", found)
        sp = graph_admin.create_service_principal(directory, _body(request))
        directory.save()
    return _entity(request, "servicePrincipals/$entity", sp, 201)


@_guarded
def federated_credentials(
    standin: Standin, request: Request, object_id: str
) -> Response:
    _require_manager(standin, request)
    directory = standin.directory
    with directory.lock:
        app = graph_admin.find_application(directory, object_id)
        if request.method == "GET":
            listed = app.get("federatedIdentityCredentials", [])
            return _collection(request, "federatedIdentityCredentials", listed)
        credential = graph_admin.add_federated_credential(app, _body(request))
        directory.save()
    return _entity(request, "federatedIdentityCredentials/$entity", credential, 201)


@_guarded
def federated_credential(
    standin: Standin, request: Request, object_id: str, credential_id: str
) -> Response:
    _require_manager(standin, request)
    directory = standin.directory
    with directory.lock:
        app = graph_admin.find_application(directory, object_id)
        graph_admin.remove_federated_credential(app, credential_id)
        directory.save()
    return Response(status=204)


@_guarded
def service_principal(standin: Standin, request: Request, sp_id: str) -> Response:
    _require_manager(standin, request)
    directory = standin.directory
    with directory.lock:
        graph_admin.delete_service_principal(directory, sp_id)
        directory.save()
    return Response(status=204)
