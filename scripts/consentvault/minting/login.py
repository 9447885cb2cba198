"""Who is calling: a Vault token from the environment, AppRole or CI JWT login.

token    VAULT_TOKEN (or ~/.vault-token), as the vault CLI finds it
approle  a role id plus a response-wrapped secret id; the wrapping token is
         looked up first and refused unless Vault created it at the
         AppRole's secret-id endpoint, so a substituted token is noticed
jwt      an id token from the CI provider: GitHub Actions' OIDC endpoint,
         a GitLab `id_tokens` variable named by the caller, or a file
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from consentvault import errors
from consentvault.minting.light_settings import MintSettings
from consentvault.minting.vaulthttp import VaultHTTP, client_from_environment

log = logging.getLogger(__name__)

METHODS = ("token", "approle", "jwt")


@dataclass(frozen=True)
class LoginOptions:
    method: str = "token"
    role_id: str | None = None
    # Environment variable holding the wrapping token of the secret id, unless
    # a caller in this process passes the wrapping token itself.
    secret_id_env: str = "CONSENTVAULT_SECRET_ID_WRAPPED"
    wrapped_secret_id: str | None = field(default=None, repr=False)
    jwt_env: str | None = None
    jwt_file: Path | None = None
    jwt_role: str | None = None


def login(settings: MintSettings, options: LoginOptions) -> VaultHTTP:
    """A Vault client carrying the caller's token, by the chosen method."""
    client = client_from_environment(settings.address, settings.ca_file)
    if options.method == "token":
        if not client.token:
            raise errors.PermissionDenied(
                "no Vault token: set VAULT_TOKEN, or log in with --auth approle|jwt"
            )
        return client
    if options.method not in METHODS:
        raise errors.UsageError(f"--auth must be one of {', '.join(METHODS)}")
    with client:
        if options.method == "approle":
            token = approle_login(client, settings, options)
        else:
            token = jwt_login(client, settings, options)
    return client.with_token(token)


def approle_login(
    client: VaultHTTP, settings: MintSettings, options: LoginOptions
) -> str:
    role_id = options.role_id or os.environ.get("CONSENTVAULT_ROLE_ID")
    wrapping_token = (
        options.wrapped_secret_id or os.environ.get(options.secret_id_env, "").strip()
    )
    if not role_id:
        raise errors.UsageError("AppRole login needs --role-id or CONSENTVAULT_ROLE_ID")
    if not wrapping_token:
        raise errors.UsageError(
            f"AppRole login needs the wrapped secret id in ${options.secret_id_env}"
        )
    expected = f"auth/{settings.approle_path}/role/{settings.approle_role}/secret-id"
    check_wrapping_token(client, wrapping_token, expected)
    unwrapped = client.write(
        "sys/wrapping/unwrap", {}, "unwrap the AppRole secret id", token=wrapping_token
    )
    secret_id = (unwrapped or {}).get("data", {}).get("secret_id")
    if not secret_id:
        raise errors.PermissionDenied("the unwrapped response holds no secret id")
    path = f"auth/{settings.approle_path}/login"
    try:
        reply = client.write(
            path, {"role_id": role_id, "secret_id": secret_id}, f"log in at {path}"
        )
    except (errors.UsageError, errors.PermissionDenied) as exc:
        # The role id cannot be checked without a login, and unwrapping spent
        # the secret id: a retry with the same wrapping token cannot work.
        raise errors.PermissionDenied(
            f"{exc}: Vault refused the role id or secret id; the wrapped secret "
            "id has now been used by this command, so issue a new one (and "
            "check the role id) before trying again"
        ) from None
    return _client_token(reply, path)


def check_wrapping_token(client: VaultHTTP, wrapping_token: str, expected: str) -> None:
    """Refuse a wrapping token that is spent, expired or not from `expected`."""
    try:
        reply = client.write(
            "sys/wrapping/lookup",
            {"token": wrapping_token},
            "look up the wrapping token",
        )
    except errors.UsageError:
        raise errors.PermissionDenied(
            "the wrapping token was already unwrapped or has expired; if this job "
            "did not unwrap it, someone else may hold the secret id: revoke it"
        ) from None
    creation_path = (reply or {}).get("data", {}).get("creation_path", "")
    if creation_path != expected:
        raise errors.PermissionDenied(
            f"the wrapping token was created at {creation_path!r}, not {expected!r}: "
            "refusing to unwrap it"
        )


def jwt_login(client: VaultHTTP, settings: MintSettings, options: LoginOptions) -> str:
    if settings.jwt_path is None:
        raise errors.ConfigError(f"{settings.source}: no [vault.jwt] section")
    jwt = ci_id_token(options, settings.jwt_audience)
    path = f"auth/{settings.jwt_path}/login"
    role = options.jwt_role or settings.jwt_role
    try:
        reply = client.write(path, {"role": role, "jwt": jwt}, f"log in at {path}")
    except errors.UsageError as exc:
        # Vault answers 400 to a malformed or rejected JWT: a failed login.
        raise errors.PermissionDenied(str(exc)) from None
    return _client_token(reply, path)


def ci_id_token(options: LoginOptions, audience: str | None) -> str:
    """The CI provider's id token: a file, a named variable, or GitHub's OIDC."""
    if options.jwt_file is not None:
        try:
            token = options.jwt_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            message = f"cannot read --jwt-file {options.jwt_file}: {exc.strerror}"
            raise errors.UsageError(message) from None
        return _nonempty(token, str(options.jwt_file))
    if options.jwt_env:
        return _nonempty(os.environ.get(options.jwt_env, "").strip(), options.jwt_env)
    request_url = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL")
    request_token = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if request_url and request_token:
        return github_id_token(request_url, request_token, audience)
    raise errors.UsageError(
        "JWT login needs --jwt-file, --jwt-env NAME (GitLab id_tokens), or GitHub "
        "Actions with `permissions: id-token: write`"
    )


def github_id_token(request_url: str, request_token: str, audience: str | None) -> str:
    # Imported here: only GitHub jobs pay for urllib's request machinery.
    import urllib.error
    import urllib.parse
    import urllib.request

    url = request_url
    if audience:
        separator = "&" if "?" in url else "?"
        url += separator + urllib.parse.urlencode({"audience": audience})
    request = urllib.request.Request(
        url, headers={"Authorization": f"bearer {request_token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            value = json.load(response).get("value", "")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise errors.PermissionDenied(
            f"GitHub Actions did not issue an id token ({type(exc).__name__})"
        ) from None
    return _nonempty(value, "the GitHub Actions id token reply")


def _nonempty(token: str, where: str) -> str:
    if not token:
        raise errors.UsageError(f"no id token in {where}")
    return token


def _client_token(reply: dict | None, path: str) -> str:
    auth = (reply or {}).get("auth") or {}
    if not auth.get("client_token"):
        raise errors.PermissionDenied(f"login at {path} returned no token")
    log.info(
        "logged in at %s: accessor %s, policies %s",
        path,
        auth.get("accessor"),
        ",".join(auth.get("policies") or []),
    )
    return str(auth["client_token"])
