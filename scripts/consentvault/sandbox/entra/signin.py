"""The sign-in and consent pages: `/authorize` and `/adminconsent`.

A GET validates the request as Entra does (unknown client or unregistered
redirect URI: an error page, never a redirect) and answers with a sign-in page
whose form carries only an opaque `ctx`; the request itself (state, nonce,
PKCE challenge) stays on the server. A POST of that form with an account and
a decision (`accept` or `cancel`) ends in a 302 to the app's redirect URI, as
a browser would see it. The scripted browser in `client.py` drives this form.
"""

from __future__ import annotations

import html
import secrets
import time
import uuid
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from consentvault.sandbox.entra import graph_admin, scopes, tokens
from consentvault.sandbox.entra.identity import resolve_tenant
from consentvault.sandbox.entra.permissions import APP_ROLES, needs_admin
from consentvault.sandbox.entra.replies import EntraError, redirect_with

if TYPE_CHECKING:
    from consentvault.sandbox.entra.app import Standin

PENDING_SECONDS = 600
DECLINED = "AADSTS65004: User declined to consent to access the app."


def authorize(standin: Standin, request: Request, tenant: str) -> Response:
    if request.method == "POST":
        return _decide(standin, request, tenant, "authorize")
    params = request.args
    authority = resolve_tenant(standin, tenant)
    app, redirect_uri = _registered_client(standin, params)
    state = params.get("state")
    if params.get("response_type") != "code":
        return redirect_with(
            redirect_uri,
            {
                "error": "unsupported_response_type",
                "error_description": "AADSTS700054: response_type 'code' is the "
                "only one the sandbox supports.",
                "state": state,
            },
        )
    response_mode = params.get("response_mode", "query")
    if response_mode not in ("query", "form_post"):
        return _error_page(
            "AADSTS900144: the sandbox answers with response_mode query or "
            "form_post only."
        )
    challenge_method = params.get("code_challenge_method", "plain")
    if params.get("code_challenge") and challenge_method not in ("S256", "plain"):
        return redirect_with(
            redirect_uri,
            {
                "error": "invalid_request",
                "error_description": "AADSTS501491: Invalid code_challenge_method.",
                "state": state,
            },
        )
    try:
        asked = scopes.parse(params.get("scope", ""), standin.graph_url(request))
    except EntraError as exc:
        return redirect_with(
            redirect_uri,
            {"error": exc.error, "error_description": exc.description, "state": state},
        )
    _, static_scopes = scopes.static_permissions(app)
    wanted = set(asked.graph) | (set(static_scopes) if asked.uses_default else set())
    pending = {
        "kind": "authorize",
        "authority": authority["id"] if authority else None,
        "client_id": app["appId"],
        "redirect_uri": redirect_uri,
        "scopes": sorted(wanted),
        "oidc": sorted(asked.oidc),
        "state": state,
        "nonce": params.get("nonce"),
        "code_challenge": params.get("code_challenge"),
        "code_challenge_method": challenge_method,
        "response_mode": response_mode,
    }
    return _signin_page(standin, request, app, pending, admins_only=False)


def adminconsent(standin: Standin, request: Request, tenant: str) -> Response:
    if request.method == "POST":
        return _decide(standin, request, tenant, "adminconsent")
    params = request.args
    authority = resolve_tenant(standin, tenant)
    app, redirect_uri = _registered_client(standin, params)
    scope_text = params.get("scope", "")
    try:
        asked = scopes.parse(scope_text, standin.graph_url(request))
    except EntraError as exc:
        return redirect_with(
            redirect_uri,
            {
                "error": exc.error,
                "error_description": exc.description,
                "state": params.get("state"),
            },
        )
    static_roles, static_scopes = scopes.static_permissions(app)
    named = set(asked.graph)
    pending = {
        "kind": "adminconsent",
        "authority": authority["id"] if authority else None,
        "client_id": app["appId"],
        "redirect_uri": redirect_uri,
        "roles": sorted(
            {n for n in named if n in APP_ROLES}
            | (set(static_roles) if asked.uses_default or not named else set())
        ),
        "scopes": sorted(
            {n for n in named if n not in APP_ROLES}
            | (set(static_scopes) if asked.uses_default or not named else set())
        ),
        "scope_text": scope_text,
        "state": params.get("state"),
    }
    return _signin_page(standin, request, app, pending, admins_only=True)


def _registered_client(standin: Standin, params) -> tuple[dict, str]:
    client_id = params.get("client_id", "").lower()
    with standin.directory.lock:
        app = standin.directory.application_by_app_id(client_id)
    if app is None:
        raise EntraError(
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the "
            "directory.",
        )
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in app["web"]["redirectUris"]:
        raise EntraError(
            "invalid_request",
            50011,
            "The redirect URI specified in the request does not match the "
            f"redirect URIs configured for the application '{app['appId']}'.",
        )
    return app, redirect_uri


def _error_page(message: str, status: int = 400) -> Response:
    body = (
        "<!doctype html><html><head><title>Sign in to your account</title></head>"
        f"<body><h1>Sorry, but we're having trouble signing you in.</h1>"
        f'<p id="error">{html.escape(message)}</p></body></html>'
    )
    return Response(body, status=status, mimetype="text/html")


def _signin_page(
    standin: Standin, request: Request, app: dict, pending: dict, admins_only: bool
) -> Response:
    ctx = secrets.token_urlsafe(24)
    pending["expires_at"] = time.time() + PENDING_SECONDS
    with standin.directory.lock:
        _drop_stale(standin.pending_signins)
        standin.pending_signins[ctx] = pending
    directory = standin.directory
    if pending["authority"]:
        tenants = [directory.tenant(pending["authority"])]
    else:
        tenants = directory.customer_tenants()
    options = []
    for tenant in tenants:
        for user in tenant["users"]:
            if admins_only and not user["admin"]:
                continue
            options.append(
                f'<option value="{html.escape(user["userPrincipalName"])}" '
                f'data-tenant="{tenant["id"]}" '
                f'data-admin="{"true" if user["admin"] else "false"}">'
                f"{html.escape(user['displayName'])} "
                f"({html.escape(user['userPrincipalName'])})</option>"
            )
    asked = ", ".join(pending.get("roles", []) + pending["scopes"]) or "sign-in only"
    body = (
        "<!doctype html><html><head><title>Sign in to your account</title></head>"
        "<body><h1>Sign in (consentvault sandbox)</h1>"
        f"<p>{html.escape(app['displayName'])} asks for: {html.escape(asked)}</p>"
        f'<form method="post" action="{html.escape(request.path)}">'
        f'<input type="hidden" name="ctx" value="{ctx}">'
        f'<select name="login">{"".join(options)}</select>'
        '<button name="decision" value="accept">Accept</button>'
        '<button name="decision" value="cancel">Cancel</button>'
        "</form></body></html>"
    )
    reply = Response(body, mimetype="text/html")
    reply.headers["Cache-Control"] = "no-store"
    return reply


def _drop_stale(pending: dict[str, dict]) -> None:
    now = time.time()
    for key in [k for k, v in pending.items() if v["expires_at"] < now]:
        del pending[key]


def _decide(standin: Standin, request: Request, tenant: str, kind: str) -> Response:
    form = request.form
    with standin.directory.lock:
        pending = standin.pending_signins.pop(form.get("ctx", ""), None)
    if (
        pending is None
        or pending["kind"] != kind
        or pending["expires_at"] < time.time()
    ):
        return _error_page("AADSTS90014: the sign-in session is unknown or expired.")
    if form.get("decision") != "accept":
        return _answer(
            pending,
            {
                "error": "access_denied",
                "error_subcode": "cancel",
                "error_description": DECLINED,
                "state": pending["state"],
            },
        )
    found = standin.directory.user(form.get("login", ""))
    if found is None:
        return _error_page("AADSTS50034: The user account does not exist.")
    user_tenant, user = found
    if pending["authority"] and pending["authority"] != user_tenant["id"]:
        return _error_page(
            "AADSTS50020: User account from identity provider does not exist in "
            f"tenant '{pending['authority']}'."
        )
    if kind == "adminconsent":
        return _grant_admin_consent(standin, pending, user_tenant, user)
    return _issue_code(standin, pending, user_tenant, user)


def _grant_admin_consent(
    standin: Standin, pending: dict, tenant: dict, user: dict
) -> Response:
    if not user["admin"]:
        return _error_page(
            "AADSTS90094: Admin consent is required for the permissions "
            "requested by this application.",
            403,
        )
    directory = standin.directory
    with directory.lock:
        app = directory.application_by_app_id(pending["client_id"])
        directory.grant_consent(
            tenant["id"],
            app["appId"],
            roles=pending["roles"],
            scopes=pending["scopes"],
            consented_by=user["id"],
        )
        graph_admin.ensure_service_principal(directory, tenant["id"], app)
        directory.save()
    return redirect_with(
        pending["redirect_uri"],
        {
            "admin_consent": "True",
            "tenant": tenant["id"],
            "state": pending["state"],
            "scope": pending["scope_text"],
        },
    )


def _issue_code(standin: Standin, pending: dict, tenant: dict, user: dict) -> Response:
    directory = standin.directory
    with directory.lock:
        app = directory.application_by_app_id(pending["client_id"])
        consent = directory.consent(tenant["id"], app["appId"]) or {"scopes": []}
        missing = set(pending["scopes"]) - set(consent["scopes"])
        if any(needs_admin(s) for s in missing) and not user["admin"]:
            return _error_page(
                "AADSTS90094: Admin consent is required for the permissions "
                "requested by this application.",
                403,
            )
        if missing:
            directory.grant_consent(
                tenant["id"],
                app["appId"],
                roles=[],
                scopes=sorted(missing),
                consented_by=user["id"],
            )
        graph_admin.ensure_service_principal(directory, tenant["id"], app)
        code = tokens.opaque("1.AQ")
        directory.store_grant(
            "codes",
            code,
            {
                "client_id": app["appId"],
                "tenant_id": tenant["id"],
                "user_id": user["id"],
                "scopes": pending["scopes"],
                "oidc": pending["oidc"],
                "redirect_uri": pending["redirect_uri"],
                "code_challenge": pending["code_challenge"],
                "code_challenge_method": pending["code_challenge_method"],
                "nonce": pending["nonce"],
                "used": False,
                "expires_at": time.time() + tokens.CODE_SECONDS,
                "generation": directory.generation(tenant["id"], "codes"),
            },
        )
        directory.save()
    return _answer(
        pending,
        {"code": code, "state": pending["state"], "session_state": str(uuid.uuid4())},
    )


def _answer(pending: dict, params: dict) -> Response:
    """Send the browser back to the app: a 302, or a self-posting form."""
    if pending.get("response_mode") != "form_post":
        return redirect_with(pending["redirect_uri"], params)
    fields = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if v is not None
    )
    body = (
        "<!doctype html><html><head><title>Working...</title></head>"
        '<body onload="document.forms[0].submit()">'
        f'<form method="post" action="{html.escape(pending["redirect_uri"])}">'
        f"{fields}<noscript><button>Continue</button></noscript></form>"
        "</body></html>"
    )
    reply = Response(body, mimetype="text/html")
    reply.headers["Cache-Control"] = "no-store"
    return reply
