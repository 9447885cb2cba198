"""The app's own credentials: rotating client secrets, certificate, CI federation.

Two client secrets take turns. Each has a `time_rotating` clock that ticks every
2 x R days (R = `secret_rotation_days`); clock B is based R days after clock A.
So every R days one secret is replaced at the next apply, and the new one
becomes current (`current_secret` is the secret whose clock started last),
while the other keeps working for R more days until its own turn: consumers
that read the new secret within R days are never cut off. Each secret also
expires `secret_overlap_days` after its planned rotation, so a missed apply
does not leave an old secret valid for ever.
"""

from __future__ import annotations

from cdktf import Fn, Op, TerraformLocal, TerraformResourceLifecycle
from cdktf_cdktf_provider_azuread.application import Application
from cdktf_cdktf_provider_azuread.application_certificate import (
    ApplicationCertificate,
)
from cdktf_cdktf_provider_azuread.application_federated_identity_credential import (
    ApplicationFederatedIdentityCredential,
)
from cdktf_cdktf_provider_azuread.application_password import ApplicationPasswordA
from cdktf_cdktf_provider_time.rotating import Rotating
from constructs import Construct

from consentvault.settings import EntraSettings
from stacks.config import StackPlacement


class RotatingClientSecret(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        application: Application,
        rotation_days: int,
        overlap_days: int,
    ) -> None:
        super().__init__(scope, id_)

        first_clock = Rotating(self, "clock_a", rotation_days=2 * rotation_days)
        # Clock B's base is taken once, when B is (re)created; following A's
        # later rotations would replace both secrets at the same apply.
        second_clock = Rotating(
            self,
            "clock_b",
            rfc3339=Fn.timeadd(first_clock.rfc3339, f"{24 * rotation_days}h"),
            rotation_days=2 * rotation_days,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["rfc3339"]),
        )
        first = self._password("secret_a", application, first_clock, overlap_days)
        second = self._password("secret_b", application, second_clock, overlap_days)

        # The younger secret is the current one: its clock started later.
        # (timecmp gives -1, 0 or 1; a literal 0 would not survive jsii.)
        younger_first = Op.gt(Fn.timecmp(first_clock.rfc3339, second_clock.rfc3339), -1)
        current = TerraformLocal(
            self,
            "current",
            Fn.conditional(younger_first, first.value, second.value),
        )
        self.current_secret = current.as_string

    def _password(
        self, id_: str, application: Application, clock: Rotating, overlap_days: int
    ) -> ApplicationPasswordA:
        return ApplicationPasswordA(
            self,
            id_,
            application_id=application.id,
            display_name=f"consentvault {id_.replace('_', ' ')}",
            rotate_when_changed={"rotation": clock.id},
            end_date=Fn.timeadd(clock.rotation_rfc3339, f"{24 * overlap_days}h"),
        )


class AppCredentials(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        application: Application,
        entra: EntraSettings,
        placement: StackPlacement,
    ) -> None:
        super().__init__(scope, id_)

        self.client_secret = RotatingClientSecret(
            self,
            "client_secret",
            application=application,
            rotation_days=entra.secret_rotation_days,
            overlap_days=entra.secret_overlap_days,
        )
        if entra.certificate_file:
            ApplicationCertificate(
                self,
                "certificate",
                application_id=application.id,
                type="AsymmetricX509Cert",
                encoding="pem",
                value=Fn.file(placement.path_from_workdir(entra.certificate_file)),
            )
        if entra.federated_ci:
            federated = entra.federated_ci
            ApplicationFederatedIdentityCredential(
                self,
                "federated_ci",
                application_id=application.id,
                display_name=federated.name,
                issuer=federated.issuer,
                subject=federated.subject,
                audiences=list(federated.audiences),
            )
