"""Tenant records: one KV v2 entry per customer tenant, secrets under transit.

A record lives at `<kv_mount>/<tenants_prefix>/<tenant-guid>` (see
docs/internals.md, "Tenant record"). Its secret material (a JSON object, for
example the delegated refresh token) is stored only as transit ciphertext of
the tenant's own key `<tenant_key_prefix><tenant-guid>`, which the consent
broker creates when it first stores the tenant. A token bound to one tenant
may use that tenant's key only, and destroying the key at offboarding makes
every stored copy of the ciphertext (old KV versions, backups) unreadable.

Every write is a check-and-set on the version that was read: creation uses
cas=0, updates the version of the record they changed. A lost race raises
`Conflict`, unless the caller declares its change idempotent, in which case
the read-modify-write is repeated a bounded number of times.

    store = TenantRecords(client, settings)
    record = store.read(tenant_id)
    tokens = store.decrypt_secret(record)
    store.write(replace(record, secret=store.encrypt_secret(tenant_id, new)))
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Literal

import hvac
import hvac.exceptions

from consentvault import errors
from consentvault.settings import Settings
from consentvault.tenant_ids import GUID as _GUID
from consentvault.vaultclient import vault_errors

log = logging.getLogger(__name__)

Mode = Literal["admin", "delegated"]
Status = Literal["active", "needs_consent", "revoked"]
MODES: tuple[str, ...] = ("admin", "delegated")
STATUSES: tuple[str, ...] = ("active", "needs_consent", "revoked")

# How often an idempotent update re-reads and retries after losing a race.
DEFAULT_UPDATE_ATTEMPTS = 3

# The fields of the record table; anything else found in KV is kept as `extra`.
_RECORD_KEYS = (
    "tenant_id",
    "mode",
    "status",
    "granted",
    "consented_by",
    "consented_at",
    "last_refreshed_at",
    "secret",
    "previous_grants",
)


class InvalidTenantId(errors.UsageError):
    """A tenant id that is not a GUID."""


def normalize_tenant_id(value: object) -> str:
    """The tenant id as a lower-case GUID, or `InvalidTenantId`.

    Only the canonical 8-4-4-4-12 form is accepted (no braces, no `urn:uuid:`),
    because the id becomes a Vault path segment and an entity alias name.
    """
    text = value.strip().lower() if isinstance(value, str) else ""
    if not _GUID.fullmatch(text):
        shown = _shorten(value)
        raise InvalidTenantId(f"tenant id {shown} is not a GUID")
    return str(uuid.UUID(text))


def is_tenant_id(value: object) -> bool:
    """Whether `value` is a canonical GUID (any case)."""
    return isinstance(value, str) and bool(_GUID.fullmatch(value.strip().lower()))


def utc_now() -> str:
    """The current time as RFC 3339 UTC, to the second."""
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return now.isoformat().replace("+00:00", "Z")


@dataclasses.dataclass(frozen=True)
class TenantRecord:
    """One tenant's record as stored, plus the KV version it was read at.

    `version` is 0 for a record not yet written. `secret` holds transit
    ciphertext (or "" for admin consent); it is left out of the repr anyway so
    that no log line carries even the ciphertext.
    """

    tenant_id: str
    mode: Mode
    status: Status = "active"
    granted: tuple[str, ...] = ()
    consented_by: str = ""
    consented_at: str = ""
    last_refreshed_at: str = ""
    secret: str = dataclasses.field(default="", repr=False)
    previous_grants: tuple[dict[str, Any], ...] = ()
    version: int = 0
    # Keys written by a newer version of the project; kept so no write drops them.
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    def to_data(self) -> dict[str, Any]:
        """The KV v2 data of this record (without the version)."""
        data = dict(self.extra)
        data.update(
            tenant_id=self.tenant_id,
            mode=self.mode,
            status=self.status,
            granted=list(self.granted),
            consented_by=self.consented_by,
            consented_at=self.consented_at,
            last_refreshed_at=self.last_refreshed_at,
            secret=self.secret,
            previous_grants=[dict(grant) for grant in self.previous_grants],
        )
        return data

    def metadata(self) -> dict[str, Any]:
        """Everything but the secret material: safe to print."""
        data = self.to_data()
        del data["secret"]
        data["has_secret"] = bool(self.secret)
        data["version"] = self.version
        return data

    def grant_summary(self) -> dict[str, Any]:
        """This grant as an entry for a later record's `previous_grants`."""
        return {
            "mode": self.mode,
            "granted": list(self.granted),
            "consented_by": self.consented_by,
            "consented_at": self.consented_at,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any], version: int) -> TenantRecord:
        """A record from KV data; refuses data that does not look like a record."""
        try:
            tenant_id = normalize_tenant_id(data["tenant_id"])
            mode = data["mode"]
            status = data.get("status", "active")
            if mode not in MODES or status not in STATUSES:
                raise ValueError("mode or status out of range")
            return cls(
                tenant_id=tenant_id,
                mode=mode,
                status=status,
                granted=tuple(str(item) for item in data.get("granted") or ()),
                consented_by=str(data.get("consented_by") or ""),
                consented_at=str(data.get("consented_at") or ""),
                last_refreshed_at=str(data.get("last_refreshed_at") or ""),
                secret=str(data.get("secret") or ""),
                previous_grants=tuple(
                    dict(item) for item in data.get("previous_grants") or ()
                ),
                version=version,
                extra={k: v for k, v in data.items() if k not in _RECORD_KEYS},
            )
        except (KeyError, TypeError, ValueError, errors.UsageError) as exc:
            raise errors.ConsentVaultError(
                f"tenant record version {version} is malformed ({type(exc).__name__})"
            ) from None


class TenantRecords:
    """Read, write and encrypt tenant records with one Vault client."""

    def __init__(self, client: hvac.Client, settings: Settings) -> None:
        self.client = client
        self.vault = settings.vault

    # Paths

    def path(self, tenant_id: str) -> str:
        """The KV path (below the mount) of a tenant's record."""
        return f"{self.vault.tenants_prefix}/{normalize_tenant_id(tenant_id)}"

    def _where(self, tenant_id: str) -> str:
        return f"{self.vault.kv_mount}/{self.path(tenant_id)}"

    # Reading

    def read(self, tenant_id: str) -> TenantRecord:
        """The current record of a tenant, or `NotFound`."""
        tenant_id = normalize_tenant_id(tenant_id)
        response = self._read_raw(tenant_id)
        if response is None or response.get("data", {}).get("data") is None:
            raise errors.NotFound(f"unknown tenant {tenant_id}: no record")
        version = int(response["data"]["metadata"]["version"])
        return TenantRecord.from_data(response["data"]["data"], version)

    def current_version(self, tenant_id: str) -> int:
        """The latest KV version of a tenant's record (0: none, even deleted)."""
        tenant_id = normalize_tenant_id(tenant_id)
        response = self._read_raw(tenant_id)
        if response is None:
            return 0
        return int(response["data"]["metadata"]["version"])

    def _read_raw(self, tenant_id: str) -> dict[str, Any] | None:
        """The KV response, including soft-deleted versions; None if absent."""
        with vault_errors(f"read tenant record {self._where(tenant_id)}"):
            try:
                return self.client.secrets.kv.v2.read_secret_version(
                    path=self.path(tenant_id),
                    mount_point=self.vault.kv_mount,
                    raise_on_deleted_version=False,
                )
            except hvac.exceptions.InvalidPath:
                return None

    def list_ids(self) -> list[str]:
        """The ids of every tenant with a record, sorted."""
        with vault_errors(f"list {self.vault.kv_mount}/{self.vault.tenants_prefix}"):
            try:
                response = self.client.secrets.kv.v2.list_secrets(
                    path=self.vault.tenants_prefix, mount_point=self.vault.kv_mount
                )
            except hvac.exceptions.InvalidPath:
                return []
        keys = response.get("data", {}).get("keys", [])
        return sorted(key.lower() for key in keys if is_tenant_id(key))

    # Writing

    def create(self, record: TenantRecord) -> TenantRecord:
        """Write a new tenant's record; `Conflict` if the tenant already has one.

        The tenant's transit key is created first if it does not exist yet.
        """
        self.ensure_key(record.tenant_id)
        return self._write(record, cas=0)

    def write(self, record: TenantRecord) -> TenantRecord:
        """Write `record` over the version it was read at (`Conflict` if stale).

        A record with version 0 is created. The returned record carries the
        version that was written.
        """
        return self._write(record, cas=record.version)

    def update(
        self,
        tenant_id: str,
        change: Callable[[TenantRecord], TenantRecord],
        *,
        idempotent: bool = False,
        attempts: int = DEFAULT_UPDATE_ATTEMPTS,
    ) -> TenantRecord:
        """Read, apply `change`, write back with check-and-set.

        If another writer got there first, an idempotent change is re-applied to
        the newer record (up to `attempts` times); any other change raises
        `Conflict`, because repeating it might not be safe (a refresh token, for
        instance, must not be redeemed twice).
        """
        tries = attempts if idempotent else 1
        for attempt in range(1, tries + 1):
            current = self.read(tenant_id)
            changed = change(current)
            if changed.tenant_id != current.tenant_id:
                raise errors.UsageError("an update must not change the tenant id")
            try:
                return self.write(dataclasses.replace(changed, version=current.version))
            except errors.Conflict:
                if attempt == tries:
                    raise
                log.info("tenant %s changed meanwhile; retrying update", tenant_id)
        raise AssertionError("unreachable")

    def _write(self, record: TenantRecord, *, cas: int) -> TenantRecord:
        tenant_id = normalize_tenant_id(record.tenant_id)
        if record.secret and not record.secret.startswith("vault:v"):
            raise errors.UsageError("refusing to store secret material unencrypted")
        action = f"write tenant record {self._where(tenant_id)} (cas={cas})"
        with vault_errors(action):
            response = self.client.secrets.kv.v2.create_or_update_secret(
                path=self.path(tenant_id),
                secret=record.to_data(),
                cas=cas,
                mount_point=self.vault.kv_mount,
            )
        version = int(response["data"]["version"])
        log.info("wrote tenant record %s version %d", tenant_id, version)
        return dataclasses.replace(record, tenant_id=tenant_id, version=version)

    def destroy(self, tenant_id: str) -> None:
        """Delete every version and the metadata of a tenant's record."""
        tenant_id = normalize_tenant_id(tenant_id)
        with vault_errors(f"destroy tenant record {self._where(tenant_id)}"):
            self.client.secrets.kv.v2.delete_metadata_and_all_versions(
                path=self.path(tenant_id), mount_point=self.vault.kv_mount
            )
        log.info("destroyed tenant record %s", tenant_id)

    # Secret material

    def key_name(self, tenant_id: str) -> str:
        """The name of the tenant's own transit key."""
        return self.vault.tenant_key(normalize_tenant_id(tenant_id))

    def ensure_key(self, tenant_id: str) -> None:
        """Create the tenant's transit key unless it exists (the broker's job).

        Vault would otherwise create a key on first encrypt with its defaults;
        here it is made not exportable, without plaintext backup, rotating on
        the settings' schedule. `deletion_allowed` stays false until offboarding.
        Writing to an existing key's path changes nothing, so this is safe to
        repeat and to race.
        """
        path = f"{self.vault.transit_mount}/keys/{self.key_name(tenant_id)}"
        with vault_errors(f"create transit key {path}"):
            self.client.write_data(
                path,
                data={
                    "exportable": False,
                    "allow_plaintext_backup": False,
                    "auto_rotate_period": self.vault.transit_rotation_period,
                },
            )
        log.info("transit key %s of tenant %s is in place", path, tenant_id)

    def destroy_key(self, tenant_id: str) -> bool:
        """Delete the tenant's transit key (offboarding); False if there is none.

        Every ciphertext made with it, in any KV version or backup, can no
        longer be decrypted by anyone, root included.
        """
        name = self.key_name(tenant_id)
        path = f"{self.vault.transit_mount}/keys/{name}"
        if not self._key_exists(path):
            return False
        with vault_errors(f"destroy transit key {path}"):
            self.client.write_data(f"{path}/config", data={"deletion_allowed": True})
            self.client.delete(path)
        log.info("destroyed transit key %s of tenant %s", path, tenant_id)
        return True

    def _key_exists(self, path: str) -> bool:
        with vault_errors(f"read transit key {path}"):
            try:
                return self.client.read(path) is not None
            except hvac.exceptions.InvalidPath:
                return False

    def encrypt_secret(self, tenant_id: str, material: Mapping[str, Any]) -> str:
        """Transit ciphertext of `material` (a JSON object) with the tenant's key.

        The key must exist: `create` (or `ensure_key`) makes it.
        """
        tenant_id = normalize_tenant_id(tenant_id)
        plaintext = json.dumps(dict(material), separators=(",", ":")).encode()
        return transit_encrypt(
            self.client,
            mount=self.vault.transit_mount,
            key=self.key_name(tenant_id),
            plaintext=plaintext,
        )

    def decrypt_secret(self, record: TenantRecord) -> dict[str, Any]:
        """The secret material of `record` ({} for a record without any)."""
        if not record.secret:
            return {}
        plaintext = transit_decrypt(
            self.client,
            mount=self.vault.transit_mount,
            key=self.key_name(record.tenant_id),
            ciphertext=record.secret,
        )
        try:
            material = json.loads(plaintext)
        except ValueError:
            material = None
        if not isinstance(material, dict):
            raise errors.ConsentVaultError(
                f"tenant {record.tenant_id}: secret material is not a JSON object"
            )
        return material


def transit_encrypt(
    client: hvac.Client,
    *,
    mount: str,
    key: str,
    plaintext: bytes,
    context: str | None = None,
) -> str:
    """Encrypt with a transit key; `context` (plain text) only for a derived key."""
    with vault_errors(f"encrypt with {mount}/keys/{key}"):
        response = client.secrets.transit.encrypt_data(
            name=key,
            plaintext=_b64(plaintext),
            context=None if context is None else _b64(context.encode()),
            mount_point=mount,
        )
    return str(response["data"]["ciphertext"])


def transit_decrypt(
    client: hvac.Client,
    *,
    mount: str,
    key: str,
    ciphertext: str,
    context: str | None = None,
) -> bytes:
    """Decrypt what `transit_encrypt` produced with the same key and context."""
    with vault_errors(f"decrypt with {mount}/keys/{key}"):
        response = client.secrets.transit.decrypt_data(
            name=key,
            ciphertext=ciphertext,
            context=None if context is None else _b64(context.encode()),
            mount_point=mount,
        )
    try:
        return base64.b64decode(response["data"]["plaintext"], validate=True)
    except (KeyError, TypeError, binascii.Error):
        raise errors.ConsentVaultError(
            f"decrypt with {mount}/keys/{key}: Vault returned no plaintext"
        ) from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _shorten(value: object, limit: int = 40) -> str:
    """A printable, bounded rendering of untrusted input for messages."""
    text = repr(value) if not isinstance(value, str) else repr(value.strip())
    return text if len(text) <= limit else text[: limit - 3] + "..."
