"""The redirect's query parameters, checked before anything touches Vault.

Both modes come back to the same redirect URI:

- delegated: `code` and `state` (plus `session_state`, `client_info`), or
  `error`, `error_description` and `state`;
- admin consent: `admin_consent=True`, `tenant` and `state` (plus `scope`),
  or `error`, `error_description` and `state`.

Anything oversized, malformed or contradictory is refused with `UsageError`
here, so bad input never reaches Vault or the identity platform.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from consentvault import errors
from consentvault.records import normalize_tenant_id

# Entra's codes are around 1-2 KB; anything past this is not a real callback.
MAX_VALUE_LENGTH = 4096
MAX_QUERY_LENGTH = 8192
MAX_PARAMETERS = 16

_STATE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_CODE = re.compile(r"^[\x21-\x7e]+$")
_ERROR = re.compile(r"^[a-z_]{1,64}$")
_KNOWN = frozenset(
    {
        "code",
        "state",
        "session_state",
        "client_info",
        "admin_consent",
        "tenant",
        "scope",
        "error",
        "error_description",
        "error_subcode",
        "error_uri",
        "correlation_id",
        "trace_id",
        "timestamp",
    }
)


class MalformedCallback(errors.UsageError):
    """The callback's parameters are missing, oversized or malformed."""


@dataclasses.dataclass(frozen=True)
class Callback:
    """A validated callback; `params` holds what msal or Entra sent."""

    kind: Literal["code", "admin", "error"]
    state: str = dataclasses.field(repr=False)
    params: Mapping[str, str] = dataclasses.field(repr=False)

    @property
    def tenant(self) -> str:
        """The admin-consent callback's tenant, as a normalized GUID."""
        return normalize_tenant_id(self.params.get("tenant", ""))

    @property
    def error(self) -> str:
        return self.params.get("error", "")


def from_url(url: str) -> Callback:
    """A callback from the full redirect URL (or just its query string)."""
    if len(url) > MAX_QUERY_LENGTH + 1024:
        raise MalformedCallback("the callback URL is too long")
    query = urlsplit(url).query if "://" in url else url.lstrip("?")
    return from_query(query)


def from_query(query: str) -> Callback:
    if len(query) > MAX_QUERY_LENGTH:
        raise MalformedCallback("the callback's query string is too long")
    try:
        pairs = parse_qsl(
            query,
            keep_blank_values=True,
            strict_parsing=bool(query),
            max_num_fields=MAX_PARAMETERS,
        )
    except ValueError:
        raise MalformedCallback("the callback's query string is malformed") from None
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        raise MalformedCallback("the callback repeats a parameter")
    return from_params(dict(pairs))


def from_params(raw: Mapping[str, str]) -> Callback:
    """A callback from its parameters; unknown names are dropped."""
    if len(raw) > MAX_PARAMETERS:
        raise MalformedCallback("the callback has too many parameters")
    params = {name: value for name, value in raw.items() if name in _KNOWN}
    for name, value in params.items():
        if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
            raise MalformedCallback(f"the callback's {name!r} is too long")

    state = params.get("state", "")
    if not state:
        raise MalformedCallback("the callback has no state")
    if not _STATE.fullmatch(state):
        raise MalformedCallback("the callback's state is malformed")

    if params.get("error"):
        if not _ERROR.fullmatch(params["error"]):
            raise MalformedCallback("the callback's error is malformed")
        return Callback("error", state, params)
    if params.get("code"):
        if not _CODE.fullmatch(params["code"]):
            raise MalformedCallback("the callback's code is malformed")
        if "admin_consent" in params or "tenant" in params:
            raise MalformedCallback("the callback mixes a code with admin consent")
        return Callback("code", state, params)
    if "admin_consent" in params:
        if params["admin_consent"].lower() != "true":
            raise MalformedCallback("admin_consent is not True and no error is given")
        normalize_tenant_id(params.get("tenant", ""))
        return Callback("admin", state, params)
    raise MalformedCallback("the callback has neither a code nor an error")
