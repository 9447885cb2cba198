"""The stand-in as one WSGI application: routing, faults, counters, logging.

Each request is logged once at INFO as method, path (never the query string)
and status. Handlers raise `EntraError` for identity-platform failures; this
module renders them, so no handler formats an error body itself.
"""

from __future__ import annotations

import collections
import logging
import secrets
import threading
import traceback
from pathlib import Path

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from consentvault.sandbox.entra import ci, control, graph, identity, signin
from consentvault.sandbox.entra.control import Fault
from consentvault.sandbox.entra.directory import Directory, TenantSpec
from consentvault.sandbox.entra.replies import EntraError, graph_error, service_fault
from consentvault.sandbox.entra.signing import SigningKey

logger = logging.getLogger("consentvault.sandbox.entra")

# Endpoint names used by routing, fault injection and call counters.
_RULES = [
    ("/<tenant>/v2.0/.well-known/openid-configuration", "discovery", ["GET"]),
    ("/<tenant>/discovery/v2.0/keys", "keys", ["GET"]),
    ("/<tenant>/oauth2/v2.0/authorize", "authorize", ["GET", "POST"]),
    ("/<tenant>/v2.0/adminconsent", "adminconsent", ["GET", "POST"]),
    ("/<tenant>/oauth2/v2.0/token", "token", ["POST"]),
    ("/graph/v1.0/organization", "graph_organization", ["GET"]),
    ("/graph/v1.0/users", "graph_users", ["GET"]),
    ("/graph/v1.0/me", "graph_me", ["GET"]),
    ("/graph/v1.0/applications", "graph_applications", ["GET", "POST"]),
    ("/graph/v1.0/applications/<object_id>", "graph_application", None),
    ("/graph/v1.0/applications/<object_id>/addPassword", "graph_add_password", None),
    (
        "/graph/v1.0/applications/<object_id>/removePassword",
        "graph_remove_password",
        None,
    ),
    ("/graph/v1.0/servicePrincipals", "graph_service_principals", ["GET", "POST"]),
    ("/graph/v1.0/servicePrincipals/<sp_id>", "graph_service_principal", ["DELETE"]),
    (
        "/graph/v1.0/applications/<object_id>/federatedIdentityCredentials",
        "graph_federated_credentials",
        ["GET", "POST"],
    ),
    (
        "/graph/v1.0/applications/<object_id>/federatedIdentityCredentials/"
        "<credential_id>",
        "graph_federated_credential",
        ["DELETE"],
    ),
    ("/ci/.well-known/openid-configuration", "ci_discovery", ["GET"]),
    ("/ci/keys", "ci_keys", ["GET"]),
    ("/_control/<action>", "control", ["GET", "POST"]),
]

_HANDLERS = {
    "discovery": identity.openid_configuration,
    "keys": identity.keys,
    "token": identity.token,
    "authorize": signin.authorize,
    "adminconsent": signin.adminconsent,
    "graph_organization": graph.organization,
    "graph_users": graph.users,
    "graph_me": graph.me,
    "graph_applications": graph.applications,
    "graph_application": graph.application,
    "graph_add_password": graph.add_password,
    "graph_remove_password": graph.remove_password,
    "graph_service_principals": graph.service_principals,
    "graph_service_principal": graph.service_principal,
    "graph_federated_credentials": graph.federated_credentials,
    "graph_federated_credential": graph.federated_credential,
    "ci_discovery": ci.openid_configuration,
    "ci_keys": ci.keys,
    "control": control.dispatch,
}


class Standin:
    """State and behaviour shared by every request of one stand-in server."""

    def __init__(
        self,
        state_dir: Path,
        *,
        control_token: str | None = None,
        customers: tuple[TenantSpec, ...] | None = None,
    ):
        state_dir.mkdir(parents=True, exist_ok=True)
        self.directory = Directory(state_dir, customers)
        self.identity_key = SigningKey(state_dir / "identity-signing-key.pem")
        self.ci_key = SigningKey(state_dir / "ci-signing-key.pem")
        self.control_token = control_token
        self.url_map = Map(
            [Rule(path, endpoint=name, methods=m) for path, name, m in _RULES]
        )
        self._faults: dict[str, collections.deque[Fault]] = {}
        self._counts: collections.Counter[str] = collections.Counter()
        self._meta_lock = threading.Lock()
        # Sign-in pages waiting for a decision, by their opaque `ctx` value.
        self.pending_signins: dict[str, dict] = {}

    # Addresses

    @staticmethod
    def base_url(request: Request) -> str:
        return request.host_url.rstrip("/")

    def graph_url(self, request: Request) -> str:
        return self.base_url(request) + "/graph"

    # Control-side bookkeeping

    def count(self, name: str) -> None:
        with self._meta_lock:
            self._counts[name] += 1

    def counts(self) -> dict[str, int]:
        with self._meta_lock:
            return dict(self._counts)

    def add_fault(self, endpoint: str, fault: Fault) -> None:
        with self._meta_lock:
            self._faults.setdefault(endpoint, collections.deque()).append(fault)

    def reset_faults_and_counts(self) -> None:
        with self._meta_lock:
            self._faults.clear()
            self._counts.clear()

    def _take_fault(self, endpoint: str) -> Fault | None:
        with self._meta_lock:
            queue = self._faults.get(endpoint)
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.popleft()
            return fault

    def is_control_request(self, request: Request) -> bool:
        if not self.control_token:
            return False
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and secrets.compare_digest(
            value.strip().encode(), self.control_token.encode()
        )

    # WSGI

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self._respond(request)
        logger.info("%s %s %d", request.method, request.path, response.status_code)
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except HTTPException as exc:
            return exc.get_response()
        self.count(f"endpoint:{endpoint}")
        if endpoint == "token":
            # Counted before any injected fault: a throttled call still happened.
            self.count(f"token:{request.form.get('grant_type') or 'missing'}")
        correlation_id = request.headers.get("client-request-id")
        try:
            fault = self._take_fault(_fault_family(endpoint))
            if fault is not None:
                return self._fault_reply(endpoint, fault, correlation_id)
            return _HANDLERS[endpoint](self, request, **args)
        except EntraError as exc:
            return exc.reply(correlation_id)
        except Exception as exc:
            # Exception text may quote request values; log where, not what.
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            logger.error(
                "%s in %s:%d while serving %s",
                type(exc).__name__,
                Path(frame.filename).name,
                frame.lineno,
                request.path,
            )
            return service_fault(500, None).reply(correlation_id)

    @staticmethod
    def _fault_reply(endpoint: str, fault: Fault, correlation_id: str | None):
        if endpoint.startswith("graph_"):
            code = "TooManyRequests" if fault.status == 429 else "ServiceNotAvailable"
            reply = graph_error(fault.status, code, "Injected by the sandbox.")
            if fault.retry_after is not None or fault.status == 429:
                reply.headers["Retry-After"] = str(fault.retry_after or 1)
            return reply
        return service_fault(fault.status, fault.retry_after).reply(correlation_id)


def _fault_family(endpoint: str) -> str:
    """Faults are set per endpoint name; all of Graph shares the name `graph`."""
    return "graph" if endpoint.startswith("graph_") else endpoint
