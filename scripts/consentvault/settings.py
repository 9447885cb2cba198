"""Typed settings for one environment, loaded from `environments/<name>.toml`.

This module is the single source of every name that both halves of the project
use: the CDKTF stacks render Vault mounts, keys, roles and policies from it,
and the commands find those same things through it. It must stay importable
without cdktf or jsii, because the commands run in CI jobs where start-up time
matters.

The environment is picked by `CONSENTVAULT_ENV` (a name under `environments/`,
default `local`) or `CONSENTVAULT_ENV_FILE` (a path to any TOML file, which
wins); both can be overridden by the caller of `load_settings`.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from consentvault.errors import ConfigError
from consentvault.vaultenv import is_loopback

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS_DIR = PROJECT_ROOT / "environments"
DEFAULT_ENVIRONMENT = "local"

# Vault path segments: no slashes at either end, no spaces, no `..`.
VaultPath = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
]
# Vault durations as the API accepts them: "90s", "15m", "24h".
Duration = Annotated[str, StringConstraints(pattern=r"^[0-9]+[smhd]?$")]


class SettingsError(ConfigError):
    """The environment file is missing, unreadable or does not fit the schema."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BackendSettings(_Section):
    """Where Terraform keeps the state of this environment's stacks."""

    type: Literal["local", "azurerm", "s3", "consul", "pg", "remote"] = "local"
    # Passed unchanged to the backend; `path` for local is per stack if unset.
    options: dict[str, str | int | bool] = Field(default_factory=dict)


class FederatedCredentialSettings(_Section):
    """Lets the project's own CI sign in to Entra as the app, without a secret."""

    name: str
    issuer: str
    subject: str
    audiences: list[str] = Field(default_factory=lambda: ["api://AzureADTokenExchange"])


class EntraSettings(_Section):
    display_name: str
    sign_in_audience: Literal["AzureADMultipleOrgs"] = "AzureADMultipleOrgs"
    redirect_uris: list[str] = Field(min_length=1)
    # https://login.microsoftonline.com for the real cloud; the stand-in locally.
    authority_host: str = Field(pattern=r"^https://")
    graph_url: str = Field(pattern=r"^https://")
    # Graph permissions by name; the Entra stack resolves them to ids.
    application_permissions: list[str] = Field(default_factory=list)
    delegated_permissions: list[str] = Field(default_factory=list)
    # The app secret rotates every `secret_rotation_days`; the previous one
    # stays valid for `secret_overlap_days` so no consumer is cut off.
    secret_rotation_days: int = Field(default=90, ge=2)
    secret_overlap_days: int = Field(default=14, ge=1)
    certificate_file: str | None = None
    federated_ci: FederatedCredentialSettings | None = None
    # Path to a PEM CA bundle for a private authority (the sandbox's stand-in).
    ca_file: str | None = None


class AuditDeviceSettings(_Section):
    type: Literal["file", "socket", "syslog"]
    path: VaultPath
    options: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _keeps_the_log_safe(self) -> AuditDeviceSettings:
        # Vault takes these options as strings; refuse the ones that would put
        # secrets in clear in the log or let others read it.
        option = {key: value.strip().lower() for key, value in self.options.items()}
        if option.get("log_raw") in _TRUE_WORDS:
            raise ValueError("log_raw = true would write secrets in clear")
        if option.get("hmac_accessor") in _FALSE_WORDS:
            raise ValueError("hmac_accessor = false would write token accessors")
        if self.type == "file" and "mode" in option:
            _check_file_mode(option["mode"])
        return self


_TRUE_WORDS = {"1", "t", "true", "yes", "on"}
_FALSE_WORDS = {"0", "f", "false", "no", "off"}


def _check_file_mode(mode: str) -> None:
    """An audit file mode no looser than 0600 (0000 would leave it unset)."""
    try:
        bits = int(mode, 8)
    except ValueError:
        raise ValueError(f"mode {mode!r} is not an octal file mode") from None
    if bits == 0 or bits & ~0o600:
        raise ValueError(f"mode {mode!r} is looser than 0600")


class JwtAuthSettings(_Section):
    """JWT/OIDC login for CI jobs (GitHub Actions or GitLab id tokens)."""

    path: VaultPath = "jwt-ci"
    role: str = "ci-minter"
    oidc_discovery_url: str = Field(pattern=r"^https://")
    # PEM file trusted for the discovery URL; unset means the system store.
    oidc_discovery_ca_file: str | None = None
    bound_issuer: str
    bound_audiences: list[str] = Field(min_length=1)
    bound_claims: dict[str, str | list[str]] = Field(min_length=1)
    user_claim: str = "sub"
    token_ttl: Duration = "15m"


class AppRoleAuthSettings(_Section):
    path: VaultPath = "approle-ci"
    role: str = "ci-minter"
    secret_id_ttl: Duration = "10m"
    secret_id_num_uses: int = Field(default=1, ge=0)
    token_ttl: Duration = "15m"
    token_max_ttl: Duration = "30m"
    token_bound_cidrs: list[str] = Field(default_factory=list)


class AzureSecretsSettings(_Section):
    """HashiCorp Vault's Azure secrets engine; OpenBao has no such plugin."""

    enabled: bool = False
    path: VaultPath = "azure"
    role: str = "graph-reader"
    ttl: Duration = "15m"
    explicit_max_ttl: Duration = "1h"
    # The engine's config requires a subscription, even for app-only roles.
    subscription_id: str | None = None

    @model_validator(mode="after")
    def _subscription_when_enabled(self) -> AzureSecretsSettings:
        if self.enabled and not self.subscription_id:
            raise ValueError("subscription_id is required when enabled = true")
        return self


class VaultSettings(_Section):
    address: str = Field(pattern=r"^https?://")

    @field_validator("address")
    @classmethod
    def _https_unless_loopback(cls, address: str) -> str:
        host = urlsplit(address).hostname or ""
        if address.startswith("http://") and not is_loopback(host):
            raise ValueError(
                f"{address} is plain http to {host or 'no host'}, not loopback: "
                "tokens would cross the network in clear; use https"
            )
        return address

    # CA bundle for a private Vault certificate; TLS is never disabled.
    ca_file: str | None = None
    kv_mount: VaultPath = "consentvault"
    kv_max_versions: int = Field(default=5, ge=1, le=20)
    transit_mount: VaultPath = "consentvault-transit"
    # One transit key per tenant, `<tenant_key_prefix><tenant-guid>`: a policy
    # can name a key in a path but cannot constrain a derived key's context.
    # The broker creates it with the tenant; `tenant remove` destroys it.
    tenant_key_prefix: Annotated[
        str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+$")
    ] = "tenant-"
    transit_state_key: str = "consent-state"
    transit_rotation_period: Duration = "720h"
    # KV paths below `kv_mount`.
    tenants_prefix: VaultPath = "tenants"
    consent_state_prefix: VaultPath = "consent-state"
    locks_prefix: VaultPath = "locks"
    # The app's credential has a KV v2 mount of its own, without check-and-set:
    # Terraform is its only writer, and each deploy after a rotation must be
    # able to write a new version over whatever is there.
    app_kv_mount: VaultPath = "consentvault-app"
    app_credential_path: VaultPath = "entra"
    consent_state_ttl_seconds: int = Field(default=600, ge=30, le=3600)
    token_role: str = "tenant-reader"
    # `mint graph-token` writes a rotated refresh token back with a token of
    # this role; workers never get one. Its TTL is also its explicit max.
    refresh_token_role: str = "tenant-refresher"
    refresh_token_ttl: Duration = "2m"
    refresh_token_num_uses: int = Field(default=16, ge=1)
    minted_ttl: Duration = "15m"
    minted_max_ttl: Duration = "1h"
    audit: list[AuditDeviceSettings] = Field(min_length=1)
    jwt: JwtAuthSettings | None = None
    approle: AppRoleAuthSettings = Field(default_factory=AppRoleAuthSettings)
    azure: AzureSecretsSettings = Field(default_factory=AzureSecretsSettings)

    @model_validator(mode="after")
    def _mounts_apart(self) -> VaultSettings:
        mounts = [self.kv_mount, self.app_kv_mount, self.transit_mount]
        if len(set(mounts)) != len(mounts):
            raise ValueError(
                "kv_mount, app_kv_mount and transit_mount must be different mounts"
            )
        if self.transit_state_key.startswith(self.tenant_key_prefix):
            raise ValueError("transit_state_key must not start with tenant_key_prefix")
        if self.token_role == self.refresh_token_role:
            raise ValueError("token_role and refresh_token_role must differ")
        return self

    def tenant_key(self, tenant_id: str) -> str:
        """The name of a tenant's own transit key."""
        return f"{self.tenant_key_prefix}{tenant_id}"


class Settings(_Section):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$")]
    backend: BackendSettings = Field(default_factory=BackendSettings)
    entra: EntraSettings
    vault: VaultSettings
    source: Path | None = Field(default=None, exclude=True)

    def policy_names(self) -> dict[str, str]:
        """Vault policy names by identity; the stacks create exactly these."""
        return {
            "consent_broker": f"{self.name}-consent-broker",
            "ci_minter": f"{self.name}-ci-minter",
            "tenant_reader": f"{self.name}-tenant-reader",
            "tenant_refresher": f"{self.name}-tenant-refresher",
            "operator": f"{self.name}-operator",
        }


def environment_file(name: str | None = None) -> Path:
    """The TOML file for `name`, or for the environment the caller's env picks."""
    explicit = os.environ.get("CONSENTVAULT_ENV_FILE")
    if name is None and explicit:
        return Path(explicit)
    name = name or os.environ.get("CONSENTVAULT_ENV") or DEFAULT_ENVIRONMENT
    if not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        raise SettingsError(
            f"environment name {name!r} is not of the form [a-z][a-z0-9-]*"
        )
    return ENVIRONMENTS_DIR / f"{name}.toml"


def load_settings(name: str | None = None, *, path: Path | None = None) -> Settings:
    """Load and validate one environment; every failure names the file and key."""
    path = path or environment_file(name)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: environment file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None

    try:
        return Settings.model_validate({**raw, "source": path})
    except ValidationError as exc:
        raise SettingsError(_describe(path, exc)) from None


def _describe(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: {exc.error_count()} setting(s) wrong:"]
    for error in exc.errors(include_url=False, include_input=False):
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"  {key}: {error['msg']}")
    return "\n".join(lines)
