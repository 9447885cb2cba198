"""Reading the `scope` parameter the way the v2.0 endpoint does.

A scope is an OpenID Connect scope (`openid`, `offline_access`, ...), a Graph
permission by bare name (Graph is the default resource), a permission after
a resource identifier (`https://graph.microsoft.com/User.Read`) or
`<resource>/.default` (everything the app registration lists statically).
The stand-in's own Graph URL counts as a resource identifier for Graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from consentvault.sandbox.entra.permissions import (
    APP_ROLES,
    DELEGATED_SCOPES,
    GRAPH_APP_ID,
    GRAPH_RESOURCE_URIS,
    OIDC_SCOPES,
    role_name,
    scope_name,
)
from consentvault.sandbox.entra.replies import EntraError

DEFAULT = ".default"


@dataclass(frozen=True)
class ScopeRequest:
    oidc: frozenset[str]
    graph: frozenset[str]
    uses_default: bool


def _invalid_scope(scope: str) -> EntraError:
    return EntraError(
        "invalid_scope",
        70011,
        "The provided value for the input parameter 'scope' is not valid. "
        f"The scope '{scope}' is not valid.",
    )


def _resource_not_found(resource: str) -> EntraError:
    return EntraError(
        "invalid_resource",
        500011,
        f"The resource principal named {resource} was not found in the tenant.",
    )


def is_graph_resource(resource: str, graph_url: str) -> bool:
    resource = resource.rstrip("/")
    return resource in GRAPH_RESOURCE_URIS or resource == graph_url.rstrip("/")


def parse(scope_text: str, graph_url: str) -> ScopeRequest:
    oidc, graph, uses_default = set(), set(), False
    for scope in scope_text.split():
        if scope in OIDC_SCOPES:
            oidc.add(scope)
            continue
        resource, _, name = scope.rpartition("/")
        if resource and not is_graph_resource(resource, graph_url):
            raise _resource_not_found(resource)
        if name == DEFAULT:
            uses_default = True
        elif name in DELEGATED_SCOPES or name in APP_ROLES:
            graph.add(name)
        else:
            raise _invalid_scope(scope)
    return ScopeRequest(frozenset(oidc), frozenset(graph), uses_default)


def client_credentials_resource(scope_text: str, graph_url: str) -> None:
    """Client credentials take exactly one `<resource>/.default`; Graph only."""
    scopes = scope_text.split()
    if len(scopes) != 1 or not scopes[0].endswith("/" + DEFAULT):
        raise EntraError(
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows "
            "must have a scope value with /.default suffixed to the resource "
            "identifier (application ID URI).",
        )
    resource = scopes[0][: -len(DEFAULT) - 1]
    if not is_graph_resource(resource, graph_url):
        raise _resource_not_found(resource)


def static_permissions(app: dict) -> tuple[list[str], list[str]]:
    """(roles, delegated scopes) the registration lists for Graph by id."""
    roles, scopes = [], []
    for resource in app.get("requiredResourceAccess", []):
        if resource.get("resourceAppId") != GRAPH_APP_ID:
            continue
        for access in resource.get("resourceAccess", []):
            if access.get("type") == "Role" and role_name(access.get("id", "")):
                roles.append(role_name(access["id"]))
            if access.get("type") == "Scope" and scope_name(access.get("id", "")):
                scopes.append(scope_name(access["id"]))
    return sorted(roles), sorted(scopes)
