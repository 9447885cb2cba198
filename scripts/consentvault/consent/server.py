"""The callback server: takes the redirect, redeems it, answers the browser.

It listens on the host and port of the configured redirect URI (TLS when the
URI is https). The page it answers with is short, plain HTML saying what
happened: the tenant id and status, or one fixed sentence per kind of failure.
The customer's administrator reads that page, so the details (Vault mounts and
paths, Vault's or Microsoft's own text) go only to the server's log. Codes,
tokens and state values never appear on it, nor in the request log: the query
string is left out of every log line.
"""

from __future__ import annotations

import dataclasses
import errno
import html
import logging
import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.serving import (
    BaseWSGIServer,
    WSGIRequestHandler,
    load_ssl_context,
    make_server,
    select_address_family,
)
from werkzeug.wrappers import Request, Response

from consentvault import errors
from consentvault.consent import callback
from consentvault.records import TenantRecord

log = logging.getLogger(__name__)

# Our exit codes as the HTTP status the browser gets.
_HTTP_STATUS = {2: 400, 3: 500, 4: 503, 5: 403, 6: 404, 7: 400, 8: 409, 9: 503}
_TELL_VENDOR = "Nothing was stored; please tell the vendor who sent you the link."
# Our exit codes as the sentence the browser gets: the admin learns what to do,
# never how the service is built.
_BROWSER_TEXT = {
    2: "This consent callback is incomplete or malformed; "
    "start again from a new consent link.",
    3: f"The consent service is not configured correctly. {_TELL_VENDOR}",
    4: "The consent service is briefly unavailable; reload this page in a few minutes.",
    5: f"The consent service was refused access to its store. {_TELL_VENDOR}",
    6: "This consent link is unknown or has expired; ask for a new one.",
    7: "Consent was declined, or this consent link has expired or was already "
    "used; ask for a new one if you meant to consent.",
    8: "This consent link was already used; ask for a new one.",
    9: "Microsoft's identity platform is busy or failing; "
    "reload this page in a few minutes.",
}
_UNEXPECTED_TEXT = f"Something went wrong on our side. {_TELL_VENDOR}"
_HEADERS = {
    "Cache-Control": "no-store",
    # The callback URL carries the code: never send it on as a referrer.
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'",
    "X-Content-Type-Options": "nosniff",
}


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one callback came to: a stored record or one of our errors."""

    record: TenantRecord | None = None
    error: errors.ConsentVaultError | None = None

    @property
    def exit_code(self) -> int:
        return self.error.exit_code if self.error else 0

    def describe(self) -> str:
        if self.record is not None:
            return (
                f"tenant {self.record.tenant_id}: {self.record.mode} consent "
                f"stored, status {self.record.status}"
            )
        return f"consent not recorded: {self.error}"


Redeemer = Callable[[callback.Callback], TenantRecord]


class CallbackApp:
    """A WSGI app answering the redirect URI's path; other paths get 404."""

    def __init__(self, redeem: Redeemer, path: str) -> None:
        self.redeem = redeem
        self.path = path or "/"
        self.outcomes: list[Outcome] = []

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        if request.path != self.path:
            response = _page(404, "Not found", "Nothing is served here.")
        elif request.method != "GET":
            response = _page(405, "Method not allowed", "The callback is a GET.")
        else:
            outcome = self.handle(request.query_string.decode("latin-1"))
            self.outcomes.append(outcome)
            response = _outcome_page(outcome)
        return response(environ, start_response)

    def handle(self, query: str) -> Outcome:
        try:
            record = self.redeem(callback.from_query(query))
        except errors.ConsentVaultError as exc:
            log.warning("callback refused: %s", exc)
            return Outcome(error=exc)
        except Exception as exc:
            # Foreign messages may quote request data: name the class only.
            log.error("callback failed unexpectedly (%s)", type(exc).__name__)
            return Outcome(
                error=errors.ConsentVaultError(
                    f"an unexpected failure ({type(exc).__name__}); see the server log"
                )
            )
        log.info("callback stored tenant %s (%s)", record.tenant_id, record.mode)
        return Outcome(record=record)


def _outcome_page(outcome: Outcome) -> Response:
    if outcome.record is not None:
        record = outcome.record
        return _page(
            200,
            "Consent recorded",
            f"Tenant {record.tenant_id}: {record.mode} consent, "
            f"status {record.status}. You can close this window.",
        )
    status = _HTTP_STATUS.get(outcome.exit_code, 500)
    text = _BROWSER_TEXT.get(outcome.exit_code, _UNEXPECTED_TEXT)
    return _page(status, "Consent not recorded", text)


def _page(status: int, title: str, text: str) -> Response:
    body = (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>consentvault: {html.escape(title)}</title></head>\n"
        f"<body><h1>{html.escape(title)}</h1>\n"
        f"<p>{html.escape(text)}</p></body></html>\n"
    )
    response = Response(body, status=status, mimetype="text/html")
    response.headers.update(_HEADERS)
    return response


class _QuietRequestHandler(WSGIRequestHandler):
    """Logs method, path and status; never the query string or request line."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = urlsplit(getattr(self, "path", "") or "").path
        log.info("%s %s -> %s", getattr(self, "command", "-"), path, code)

    def log_error(self, format: str, *args: object) -> None:
        log.warning("malformed HTTP request from %s", self.address_string())


def make_callback_server(
    app: CallbackApp,
    redirect_uri: str,
    *,
    cert_file: str | None,
    key_file: str | None,
    environment_file: Path | None = None,
) -> BaseWSGIServer:
    """A server bound to the redirect URI's host and port."""
    parts = urlsplit(redirect_uri)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    ssl_context = None
    if parts.scheme == "https":
        if not cert_file or not key_file:
            raise errors.ConfigError(
                "an https redirect URI needs a certificate: pass --cert and --key"
            )
        ssl_context = _load_certificate(cert_file, key_file)
    # We bind the socket ourselves: on a taken port Werkzeug prints its own
    # text and exits 1, where ours names the setting to change.
    listener = _listen(host, port, environment_file)
    try:
        return make_server(
            host,
            port,
            app,
            request_handler=_QuietRequestHandler,
            ssl_context=ssl_context,
            fd=listener.fileno(),
        )
    finally:
        # Werkzeug serves on its own duplicate of the descriptor.
        listener.close()


def _load_certificate(cert_file: str, key_file: str) -> ssl.SSLContext:
    try:
        return load_ssl_context(cert_file, key_file)
    except OSError as exc:
        reason = exc.strerror or getattr(exc, "reason", None) or type(exc).__name__
        raise errors.ConfigError(
            f"could not load the TLS certificate {cert_file} and key {key_file} "
            f"({reason}); check --cert and --key"
        ) from None


def _listen(host: str, port: int, environment_file: Path | None) -> socket.socket:
    where = f"entra.redirect_uris of {environment_file or 'the environment file'}"
    try:
        return socket.create_server(
            (host, port), family=select_address_family(host, port)
        )
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise errors.ConfigError(
                f"{host}:{port} is taken by another process (another `consent "
                f"serve`?); stop it or pick another redirect URI port in {where}"
            ) from None
        raise errors.ConfigError(
            f"cannot listen on {host}:{port} "
            f"({exc.strerror or type(exc).__name__}); check {where}"
        ) from None


def serve_callbacks(
    server: BaseWSGIServer, app: CallbackApp, *, once: bool, timeout: float
) -> Outcome | None:
    """Serve until stopped, or (`once`) until one callback has been handled.

    With `once`, returns that callback's outcome, or None after `timeout`
    seconds without one (0: wait for ever). Without it, only Ctrl-C ends the
    loop, as `KeyboardInterrupt`.
    """
    if not once:
        # Werkzeug's loop returns quietly on Ctrl-C: say it was interrupted.
        server.serve_forever()
        raise KeyboardInterrupt
    deadline = time.monotonic() + timeout if timeout else None
    server.timeout = 0.5
    try:
        while not app.outcomes:
            if deadline is not None and time.monotonic() > deadline:
                return None
            server.handle_request()
    finally:
        server.server_close()
    return app.outcomes[0]
