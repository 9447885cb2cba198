"""The few settings the minting commands need, read without pydantic.

`consentvault.settings` validates a whole environment with pydantic, which
costs about 0.2 s of imports: more than the Vault call that `mint vault-token`
exists for. This module reads the same TOML file with `tomllib`, takes only
the keys minting uses, and applies the same defaults. A test compares it with
`load_settings()` for every environment file, so the two cannot drift apart
unnoticed; anything malformed is still reported by the full loader, which the
stacks and the sandbox run.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consentvault.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[3]
_DURATION = re.compile(r"^([0-9]+)([smhd]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(value: str | int) -> int:
    """Seconds in a Vault duration such as "90s", "15m", "1h" or "3600"."""
    match = _DURATION.fullmatch(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a duration such as 90s, 15m or 1h")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


@dataclass(frozen=True)
class AuditDevice:
    type: str
    path: str
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MintSettings:
    """Names and limits of one environment, as minting uses them."""

    name: str
    source: Path
    address: str
    ca_file: str | None
    kv_mount: str = "consentvault"
    tenants_prefix: str = "tenants"
    locks_prefix: str = "locks"
    app_kv_mount: str = "consentvault-app"
    app_credential_path: str = "entra"
    transit_mount: str = "consentvault-transit"
    tenant_key_prefix: str = "tenant-"
    token_role: str = "tenant-reader"
    refresh_token_role: str = "tenant-refresher"
    refresh_token_ttl: str = "2m"
    minted_ttl: str = "15m"
    minted_max_ttl: str = "1h"
    approle_path: str = "approle-ci"
    approle_role: str = "ci-minter"
    jwt_path: str | None = None
    jwt_role: str | None = None
    jwt_audience: str | None = None
    azure_enabled: bool = False
    azure_path: str = "azure"
    azure_role: str = "graph-reader"
    audit: tuple[AuditDevice, ...] = ()

    @property
    def minted_ttl_seconds(self) -> int:
        return duration_seconds(self.minted_ttl)

    @property
    def minted_max_ttl_seconds(self) -> int:
        return duration_seconds(self.minted_max_ttl)

    def tenant_path(self, tenant_id: str) -> str:
        """The KV v2 API path of a tenant's record."""
        return f"{self.kv_mount}/data/{self.tenants_prefix}/{tenant_id}"

    def tenant_key(self, tenant_id: str) -> str:
        """The name of a tenant's own transit key."""
        return f"{self.tenant_key_prefix}{tenant_id}"

    def lock_path(self, tenant_id: str) -> str:
        return f"{self.kv_mount}/data/{self.locks_prefix}/{tenant_id}"


def environment_file(name: str | None = None) -> Path:
    """The TOML file the caller's environment picks (as `settings` does)."""
    explicit = os.environ.get("CONSENTVAULT_ENV_FILE")
    if name is None and explicit:
        return Path(explicit)
    name = name or os.environ.get("CONSENTVAULT_ENV") or "local"
    if not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        raise ConfigError(
            f"environment name {name!r} is not of the form [a-z][a-z0-9-]*"
        )
    return PROJECT_ROOT / "environments" / f"{name}.toml"


def load_mint_settings(
    name: str | None = None, *, path: Path | None = None
) -> MintSettings:
    """Read the minting subset of one environment file."""
    path = path or environment_file(name)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: environment file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        return _from_raw(raw, path)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: setting missing or wrong: {exc}") from None


def _from_raw(raw: dict[str, Any], path: Path) -> MintSettings:
    vault = _table(raw, "vault", path, required=True)
    approle = _table(vault, "vault.approle", path)
    jwt = _table(vault, "vault.jwt", path) if "jwt" in vault else None
    azure = _table(vault, "vault.azure", path)
    defaults = MintSettings.__dataclass_fields__
    picked = {
        key: str(vault[key])
        for key in (
            "kv_mount",
            "tenants_prefix",
            "locks_prefix",
            "app_kv_mount",
            "app_credential_path",
            "transit_mount",
            "tenant_key_prefix",
            "token_role",
            "refresh_token_role",
            "refresh_token_ttl",
            "minted_ttl",
            "minted_max_ttl",
        )
        if key in vault
    }
    settings = MintSettings(
        name=str(raw["name"]),
        source=path,
        address=str(vault["address"]),
        ca_file=vault.get("ca_file"),
        approle_path=approle.get("path", defaults["approle_path"].default),
        approle_role=approle.get("role", defaults["approle_role"].default),
        jwt_path=jwt.get("path", "jwt-ci") if jwt is not None else None,
        jwt_role=jwt.get("role", "ci-minter") if jwt is not None else None,
        jwt_audience=_first_audience(jwt, path) if jwt is not None else None,
        azure_enabled=bool(azure.get("enabled", False)),
        azure_path=azure.get("path", defaults["azure_path"].default),
        azure_role=azure.get("role", defaults["azure_role"].default),
        audit=tuple(_audit_device(d, path) for d in vault["audit"]),
        **picked,
    )
    # Fail here, not halfway through a mint, on a duration Vault would refuse.
    duration_seconds(settings.minted_ttl)
    duration_seconds(settings.minted_max_ttl)
    return settings


def _table(
    parent: dict[str, Any], dotted: str, path: Path, *, required: bool = False
) -> dict[str, Any]:
    """The sub-table `dotted` names; {} when optional and absent."""
    key = dotted.rsplit(".", 1)[-1]
    if key not in parent and not required:
        return {}
    value = parent.get(key)
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{dotted}] must be a table")
    return value


def _first_audience(jwt: dict[str, Any], path: Path) -> str:
    audiences = jwt.get("bound_audiences")
    if not isinstance(audiences, list) or not audiences:
        raise ConfigError(
            f"{path}: vault.jwt.bound_audiences must list at least one audience"
        )
    return str(audiences[0])


def _audit_device(device: Any, path: Path) -> AuditDevice:
    if not isinstance(device, dict):
        raise ConfigError(f"{path}: each [[vault.audit]] entry must be a table")
    return AuditDevice(device["type"], device["path"], dict(device.get("options", {})))
