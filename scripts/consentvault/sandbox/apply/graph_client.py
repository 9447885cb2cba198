"""Graph management calls to the stand-in, signed in as its provisioner app.

The azuread provider signs in as an identity allowed to manage applications;
here that is the stand-in's built-in provisioner app, whose credential the
stand-in writes to `<sandbox>/entra/provisioner.json` (0600). msal gets the
token by client credentials, exactly as against Entra.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import msal
import requests

from consentvault.errors import ConfigError, IdentityPlatformUnavailable, NotFound

logger = logging.getLogger(__name__)

GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"


class GraphAdmin:
    def __init__(
        self,
        *,
        authority_host: str,
        graph_url: str,
        credential_file: Path,
        ca_file: Path,
    ) -> None:
        try:
            credential = json.loads(credential_file.read_text())
        except (OSError, ValueError):
            raise ConfigError(
                f"{credential_file}: the stand-in's provisioner credential is missing"
            ) from None
        self.tenant_id = credential["tenant_id"]
        self.client_id = credential["client_id"]
        self.graph_url = graph_url.rstrip("/")
        # REQUESTS_CA_BUNDLE in the caller's shell would replace a session's
        # CA; the stand-in is trusted through the sandbox CA alone.
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = str(ca_file)
        self._app = msal.ConfidentialClientApplication(
            self.client_id,
            client_credential=credential["client_secret"],
            authority=f"{authority_host.rstrip('/')}/{self.tenant_id}",
            instance_discovery=False,
            http_client=self.session,
        )

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        reply = self.session.request(
            method,
            f"{self.graph_url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self._token()}"},
            timeout=30,
        )
        logger.info("%s %s %d", method, path.split("?")[0], reply.status_code)
        if reply.status_code >= 400:
            failure = (
                NotFound if reply.status_code == 404 else IdentityPlatformUnavailable
            )
            where = path.split("?")[0]
            raise failure(
                f"stand-in Graph {method} {where}: HTTP {reply.status_code} "
                f"{_graph_error_code(reply)}"
            )
        return reply.json() if reply.content else {}

    def _token(self) -> str:
        result = self._app.acquire_token_for_client(scopes=[GRAPH_DEFAULT_SCOPE])
        if "access_token" not in result:
            raise IdentityPlatformUnavailable(
                f"provisioner sign-in to the stand-in failed: {result.get('error')} "
                f"(correlation id {result.get('correlation_id')})"
            )
        return result["access_token"]


def _graph_error_code(reply: requests.Response) -> str:
    try:
        return reply.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""
