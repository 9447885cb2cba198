"""Replies in the shapes Entra and Graph use: JSON, errors, redirects.

Error descriptions are built from fixed templates and identifiers (tenant id,
client id, scope names); no request value that could be a secret (code,
token, client secret, verifier) is ever put into one.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Response


def json_reply(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    reply = Response(json.dumps(body), status=status, mimetype="application/json")
    reply.headers["Cache-Control"] = "no-store, no-cache"
    for name, value in (headers or {}).items():
        reply.headers[name] = value
    return reply


def utc_now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@dataclass
class EntraError(Exception):
    """An identity-platform error; `reply()` renders Entra's JSON shape."""

    error: str
    code: int
    message: str
    status: int = 400
    suberror: str | None = None
    headers: dict = field(default_factory=dict)

    @property
    def description(self) -> str:
        return f"AADSTS{self.code}: {self.message}"

    def reply(self, correlation_id: str | None = None) -> Response:
        trace_id = str(uuid.uuid4())
        correlation_id = correlation_id or str(uuid.uuid4())
        body = {
            "error": self.error,
            "error_description": (
                f"{self.description} Trace ID: {trace_id} "
                f"Correlation ID: {correlation_id} Timestamp: {utc_now_text()}"
            ),
            "error_codes": [self.code],
            "timestamp": utc_now_text(),
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }
        if self.suberror:
            body["suberror"] = self.suberror
        return json_reply(body, self.status, self.headers)


def invalid_tenant(tenant: str) -> EntraError:
    return EntraError(
        "invalid_tenant",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct "
        "tenant ID and are signing into the correct cloud.",
    )


def consent_required(client_id: str, display_name: str) -> EntraError:
    return EntraError(
        "invalid_grant",
        65001,
        "The user or administrator has not consented to use the application "
        f"with ID '{client_id}' named '{display_name}'. Send an interactive "
        "authorization request for this user and resource.",
        suberror="consent_required",
    )


def expired_grant() -> EntraError:
    return EntraError(
        "invalid_grant",
        70008,
        "The provided authorization code or refresh token has expired due to "
        "inactivity. Send a new interactive authorization request for this user "
        "and resource.",
    )


def malformed_grant() -> EntraError:
    return EntraError(
        "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
    )


def missing_parameter(name: str) -> EntraError:
    return EntraError(
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{name}'.",
    )


def service_fault(status: int, retry_after: int | None) -> EntraError:
    """What the control interface makes an endpoint answer instead."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if status == 429:
        return EntraError(
            "temporarily_unavailable",
            90055,
            "TenantThrottlingError - There are too many incoming requests. "
            "Try again later.",
            status=429,
            headers=headers or {"Retry-After": "1"},
        )
    if status == 503:
        return EntraError(
            "temporarily_unavailable",
            90033,
            "A transient error has occurred. Please try again.",
            status=503,
            headers=headers,
        )
    return EntraError(
        "server_error",
        50000,
        "There was an error issuing a token or an issue with our sign-in service.",
        status=status,
        headers=headers,
    )


def graph_error(status: int, code: str, message: str) -> Response:
    """Graph's error envelope, as `GET /v1.0/users` answers a bad token."""
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": str(uuid.uuid4()),
                "client-request-id": str(uuid.uuid4()),
            },
        }
    }
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = (
            'Bearer realm="", authorization_uri='
            '"https://login.microsoftonline.com/common/oauth2/authorize", '
            'client_id="00000003-0000-0000-c000-000000000000"'
        )
    return json_reply(body, status, headers)


def redirect_with(redirect_uri: str, params: dict) -> Response:
    """A 302 to `redirect_uri` with `params` added to its query string."""
    parts = urlsplit(redirect_uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    reply = Response(status=302)
    reply.headers["Location"] = urlunsplit(parts._replace(query=query))
    reply.headers["Cache-Control"] = "no-store, no-cache"
    return reply
