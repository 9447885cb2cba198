"""`audit verify`: prove the audit trail is on and holds a credential's use.

1. The audit devices are enabled: `sys/audit` lists them. That endpoint is
   root-protected (sudo), which no project policy grants, so an identity
   without it checks each device named in the settings instead: hashing a
   value with `sys/audit-hash/<device>` succeeds only for an enabled device.
2. The file device's log is being written: its size grows after a probe
   request (every request is audited before Vault answers it).
3. The credential's use is there: audit logs keep accessors only as HMACs, so
   the accessor is hashed with the device's own key (`sys/audit-hash`) and the
   log is searched for requests carrying that hash.

The file log is read locally, so this runs where the log is readable (the
Vault host, or the sandbox's machine).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from consentvault import errors
from consentvault.minting.light_settings import PROJECT_ROOT, MintSettings
from consentvault.minting.vaulthttp import VaultHTTP

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Device:
    path: str
    type: str
    file_path: str | None


@dataclass
class AuditReport:
    devices: list[Device]
    listed_by: str
    log_file: Path
    grew_by: int
    accessor: str | None = None
    requests: int = 0
    times: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        names = ", ".join(f"{d.path} ({d.type})" for d in self.devices)
        found = [
            f"audit devices enabled: {names} (checked via {self.listed_by})",
            f"file log {self.log_file} is being written (+{self.grew_by} bytes "
            "after a probe)",
        ]
        if self.accessor:
            found.append(
                f"accessor {self.accessor}: {self.requests} request(s) in the log, "
                f"first {self.times[0]}, last {self.times[-1]}"
            )
        return found


def verify_audit(
    client: VaultHTTP, settings: MintSettings, accessor: str | None = None
) -> AuditReport:
    devices, listed_by = enabled_devices(client, settings)
    file_device = next((d for d in devices if d.type == "file"), None)
    if file_device is None or not file_device.file_path:
        raise errors.NotFound("no file audit device is enabled: nothing to verify in")
    log_file = _local_path(file_device.file_path)
    grew_by = _probe(client, file_device, log_file)
    report = AuditReport(devices, listed_by, log_file, grew_by)
    if accessor:
        hashed = audit_hash(client, file_device.path, accessor)
        report.accessor = accessor
        report.times = _request_times(log_file, hashed)
        report.requests = len(report.times)
        if not report.times:
            raise errors.NotFound(
                f"accessor {accessor}: no request by that credential in {log_file}"
            )
    return report


def enabled_devices(
    client: VaultHTTP, settings: MintSettings
) -> tuple[list[Device], str]:
    """The enabled audit devices, and which way they were found."""
    try:
        reply = client.read("sys/audit", "list the audit devices") or {}
    except errors.PermissionDenied:
        return _devices_from_settings(client, settings), "sys/audit-hash per device"
    listed = reply.get("data") or {}
    devices = [
        Device(
            path.rstrip("/"),
            entry["type"],
            (entry.get("options") or {}).get("file_path"),
        )
        for path, entry in sorted(listed.items())
    ]
    if not devices:
        raise errors.NotFound("no audit device is enabled: Vault keeps no audit log")
    return devices, "sys/audit"


def _devices_from_settings(client: VaultHTTP, settings: MintSettings) -> list[Device]:
    devices = []
    for device in settings.audit:
        try:
            audit_hash(client, device.path, "consentvault audit verify")
        except errors.UsageError:
            raise errors.NotFound(
                f"audit device {device.path}/ (from {settings.source}) is not enabled"
            ) from None
        devices.append(
            Device(device.path, device.type, device.options.get("file_path"))
        )
    if not devices:
        raise errors.ConfigError(f"{settings.source}: no audit device configured")
    return devices


def audit_hash(client: VaultHTTP, device_path: str, value: str) -> str:
    """`value` as the device's HMAC, which is how it appears in its log."""
    reply = client.write(
        f"sys/audit-hash/{device_path}",
        {"input": value},
        f"hash a value with audit device {device_path}/",
    )
    data = (reply or {}).get("data") or reply or {}
    return str(data["hash"])


def _probe(client: VaultHTTP, device: Device, log_file: Path) -> int:
    before = _size(log_file)
    audit_hash(client, device.path, "consentvault audit probe")
    grew_by = _size(log_file) - before
    if grew_by <= 0:
        raise errors.VaultUnavailable(
            f"the audit log {log_file} did not grow after a probe request: the file "
            "device is not writing there (rotated, full or a different host?)"
        )
    return grew_by


def _size(log_file: Path) -> int:
    try:
        return os.stat(log_file).st_size
    except OSError as exc:
        raise errors.ConfigError(
            f"cannot read the audit log {log_file} ({exc.strerror}); run "
            "`audit verify` where the log is readable"
        ) from None


def _request_times(log_file: Path, hashed: str) -> list[str]:
    times = []
    with open(log_file, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if hashed not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            auth = entry.get("auth") or {}
            if entry.get("type") == "request" and auth.get("accessor") == hashed:
                times.append(str(entry.get("time", "?")))
    return times


def _local_path(file_path: str) -> Path:
    path = Path(file_path)
    return path if path.is_absolute() else PROJECT_ROOT / path
