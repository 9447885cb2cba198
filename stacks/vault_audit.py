"""Audit devices: every request and response, HMAC'd, as the settings list them."""

from __future__ import annotations

from cdktf_cdktf_provider_vault.audit import Audit
from constructs import Construct

from consentvault.settings import AuditDeviceSettings


class AuditDevices(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, devices: list[AuditDeviceSettings]
    ) -> None:
        super().__init__(scope, id_)

        self.devices = [
            Audit(
                self,
                f"device_{device.path.replace('/', '_').replace('-', '_')}",
                type=device.type,
                path=device.path,
                options=dict(device.options),
                description=f"consentvault {device.type} audit",
            )
            for device in devices
        ]
