"""How CI jobs log in to mint credentials: JWT/OIDC id tokens or AppRole."""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_vault.approle_auth_backend_role import (
    ApproleAuthBackendRole,
)
from cdktf_cdktf_provider_vault.auth_backend import AuthBackend
from cdktf_cdktf_provider_vault.jwt_auth_backend import JwtAuthBackend
from cdktf_cdktf_provider_vault.jwt_auth_backend_role import JwtAuthBackendRole
from constructs import Construct

from consentvault.settings import AppRoleAuthSettings, JwtAuthSettings
from stacks.config import StackPlacement
from stacks.durations import duration_seconds


class JwtCiAuth(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        jwt: JwtAuthSettings,
        minter_policy: str,
        placement: StackPlacement,
    ) -> None:
        super().__init__(scope, id_)

        # A private discovery CA is read when Terraform applies, not at synth.
        ca_pem = None
        if jwt.oidc_discovery_ca_file:
            ca_pem = Fn.file(placement.path_from_workdir(jwt.oidc_discovery_ca_file))
        self.backend = JwtAuthBackend(
            self,
            "backend",
            path=jwt.path,
            type="jwt",
            description="consentvault CI jobs (OIDC id tokens)",
            oidc_discovery_url=jwt.oidc_discovery_url,
            oidc_discovery_ca_pem=ca_pem,
            bound_issuer=jwt.bound_issuer,
        )
        # Only a job whose token has these audiences and claims gets in.
        self.role = JwtAuthBackendRole(
            self,
            "role",
            backend=self.backend.path,
            role_name=jwt.role,
            role_type="jwt",
            bound_audiences=list(jwt.bound_audiences),
            bound_claims={
                claim: ",".join(value) if isinstance(value, list) else value
                for claim, value in jwt.bound_claims.items()
            },
            user_claim=jwt.user_claim,
            token_policies=[minter_policy],
            token_ttl=duration_seconds(jwt.token_ttl),
            token_max_ttl=duration_seconds(jwt.token_ttl),
        )


class AppRoleCiAuth(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        approle: AppRoleAuthSettings,
        minter_policy: str,
    ) -> None:
        super().__init__(scope, id_)

        self.backend = AuthBackend(
            self,
            "backend",
            type="approle",
            path=approle.path,
            description="consentvault CI jobs without OIDC (AppRole)",
        )
        # Secret ids are short-lived and single use by default.
        self.role = ApproleAuthBackendRole(
            self,
            "role",
            backend=self.backend.path,
            role_name=approle.role,
            secret_id_ttl=duration_seconds(approle.secret_id_ttl),
            secret_id_num_uses=approle.secret_id_num_uses,
            token_ttl=duration_seconds(approle.token_ttl),
            token_max_ttl=duration_seconds(approle.token_max_ttl),
            token_bound_cidrs=list(approle.token_bound_cidrs) or None,
            token_policies=[minter_policy],
        )
