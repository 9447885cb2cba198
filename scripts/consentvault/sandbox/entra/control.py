"""The control interface for tests: `/_control/<action>`, bearer-protected.

Off unless the server was started with a control token; then every request
must carry it as `Authorization: Bearer <token>`. Without a token configured
the routes answer 404, as if they did not exist.

    GET  tenants          home tenant id and every tenant with its users
    GET  counts           calls per endpoint and per token grant type
    GET  consent          ?tenant=&client_id= : the consent record or 404
    POST expire           {tenant, kinds: [codes|refresh_tokens|access_tokens]}
    POST fail             {endpoint, status, count, retry_after}
    POST revoke-consent   {tenant, client_id (optional: all apps)}
    POST ci-token         {repository, ref, audience, run_id, ttl, claims}
    POST reset            forget injected faults and counters
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from consentvault.sandbox.entra import ci
from consentvault.sandbox.entra.replies import json_reply

if TYPE_CHECKING:
    from consentvault.sandbox.entra.app import Standin

GRANT_KINDS = ("codes", "refresh_tokens", "access_tokens")
FAULTABLE = ("discovery", "keys", "authorize", "adminconsent", "token", "graph")
FAULT_STATUSES = (429, 500, 502, 503, 504)


@dataclass
class Fault:
    """Answer the next `remaining` calls of an endpoint with `status`."""

    status: int
    remaining: int
    retry_after: int | None = None


class _BadControlRequest(Exception):
    pass


def dispatch(standin: Standin, request: Request, action: str) -> Response:
    if not standin.control_token:
        return json_reply({"error": "not_found"}, 404)
    if not standin.is_control_request(request):
        return json_reply({"error": "unauthorized"}, 401)
    handler = _ACTIONS.get((request.method, action))
    if handler is None:
        return json_reply(
            {"error": f"no control action {request.method} {action}"}, 404
        )
    try:
        return handler(standin, request)
    except _BadControlRequest as exc:
        return json_reply({"error": "bad_request", "message": str(exc)}, 400)


def _body(request: Request) -> dict:
    try:
        body = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        raise _BadControlRequest("body is not JSON") from None
    if not isinstance(body, dict):
        raise _BadControlRequest("body must be a JSON object")
    return body


def _tenant_id(standin: Standin, value) -> str:
    tenant = standin.directory.tenant(str(value or ""))
    if tenant is None:
        raise _BadControlRequest(f"unknown tenant {value!r}")
    return tenant["id"]


def _tenants(standin: Standin, request: Request) -> Response:
    directory = standin.directory
    with directory.lock:
        tenants = [
            {
                "id": t["id"],
                "displayName": t["displayName"],
                "domain": t["domain"],
                "kind": t["kind"],
                "users": t["users"],
            }
            for t in directory.data["tenants"].values()
        ]
    return json_reply({"home_tenant": directory.home_tenant, "tenants": tenants})


def _counts(standin: Standin, request: Request) -> Response:
    return json_reply(standin.counts())


def _consent(standin: Standin, request: Request) -> Response:
    tenant_id = _tenant_id(standin, request.args.get("tenant"))
    consent = standin.directory.consent(tenant_id, request.args.get("client_id", ""))
    if consent is None:
        return json_reply({"error": "no consent"}, 404)
    return json_reply(consent)


def _expire(standin: Standin, request: Request) -> Response:
    body = _body(request)
    kinds = tuple(body.get("kinds") or GRANT_KINDS)
    unknown = set(kinds) - set(GRANT_KINDS)
    if unknown:
        raise _BadControlRequest(f"unknown kinds {sorted(unknown)}; use {GRANT_KINDS}")
    tenant_id = _tenant_id(standin, body.get("tenant"))
    with standin.directory.lock:
        standin.directory.expire_tenant(tenant_id, kinds)
        standin.directory.save()
    return json_reply({"tenant": tenant_id, "expired": list(kinds)})


def _fail(standin: Standin, request: Request) -> Response:
    body = _body(request)
    endpoint = body.get("endpoint")
    if endpoint not in FAULTABLE:
        raise _BadControlRequest(f"endpoint must be one of {FAULTABLE}")
    status = body.get("status", 503)
    if status not in FAULT_STATUSES:
        raise _BadControlRequest(f"status must be one of {FAULT_STATUSES}")
    count = body.get("count", 1)
    retry_after = body.get("retry_after")
    if not isinstance(count, int) or count < 1:
        raise _BadControlRequest("count must be a positive integer")
    if retry_after is not None and (
        not isinstance(retry_after, int) or retry_after < 0
    ):
        raise _BadControlRequest("retry_after must be a non-negative integer")
    standin.add_fault(endpoint, Fault(status, count, retry_after))
    return json_reply({"endpoint": endpoint, "status": status, "count": count})


def _revoke_consent(standin: Standin, request: Request) -> Response:
    body = _body(request)
    tenant_id = _tenant_id(standin, body.get("tenant"))
    with standin.directory.lock:
        removed = standin.directory.revoke_consent(tenant_id, body.get("client_id"))
        standin.directory.save()
    return json_reply({"tenant": tenant_id, "revoked": removed})


def _ci_token(standin: Standin, request: Request) -> Response:
    body = _body(request)
    if not isinstance(body.get("claims", {}), dict):
        raise _BadControlRequest("claims must be an object")
    if not isinstance(body.get("ttl", 0), int):
        raise _BadControlRequest("ttl must be an integer number of seconds")
    return json_reply({"token": ci.issue_token(standin, request, body)})


def _reset(standin: Standin, request: Request) -> Response:
    standin.reset_faults_and_counts()
    return json_reply({"reset": True})


_ACTIONS = {
    ("GET", "tenants"): _tenants,
    ("GET", "counts"): _counts,
    ("GET", "consent"): _consent,
    ("POST", "expire"): _expire,
    ("POST", "fail"): _fail,
    ("POST", "revoke-consent"): _revoke_consent,
    ("POST", "ci-token"): _ci_token,
    ("POST", "reset"): _reset,
}
