"""The token roles minted tenant credentials come from.

Both bind a token to one tenant through its entity alias (the tenant id). The
reader role is what workers get (`mint vault-token`); the refresher role only
`mint graph-token` uses internally, to write a rotated refresh token back.
"""

from __future__ import annotations

from cdktf_cdktf_provider_vault.token_auth_backend_role import TokenAuthBackendRole
from constructs import Construct

from consentvault.settings import VaultSettings
from stacks.durations import duration_seconds


class TenantTokenRole(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        role_name: str,
        policy: str,
        ttl: str,
        max_ttl: str,
        num_uses: int | None = None,
    ) -> None:
        super().__init__(scope, id_)

        # Orphan: a token outlives the CI job that minted it, but not its
        # explicit max TTL; not renewable, so that TTL is a hard stop. The
        # entity alias (the tenant id) is what the policy is keyed on. No
        # default policy: the role's policy alone says what it may do.
        self.role = TokenAuthBackendRole(
            self,
            "role",
            role_name=role_name,
            orphan=True,
            renewable=False,
            token_type="service",
            token_ttl=duration_seconds(ttl),
            token_explicit_max_ttl=duration_seconds(max_ttl),
            token_num_uses=num_uses,
            allowed_policies=[policy],
            allowed_entity_aliases=["*"],
            token_no_default_policy=True,
        )


def reader_role(
    scope: Construct, id_: str, *, vault: VaultSettings, policy: str
) -> TenantTokenRole:
    """The worker-facing role: read one tenant's record and open its secret."""
    return TenantTokenRole(
        scope,
        id_,
        role_name=vault.token_role,
        policy=policy,
        ttl=vault.minted_ttl,
        max_ttl=vault.minted_max_ttl,
    )


def refresher_role(
    scope: Construct, id_: str, *, vault: VaultSettings, policy: str
) -> TenantTokenRole:
    """The write-back role: minutes long and a bounded number of uses."""
    return TenantTokenRole(
        scope,
        id_,
        role_name=vault.refresh_token_role,
        policy=policy,
        ttl=vault.refresh_token_ttl,
        max_ttl=vault.refresh_token_ttl,
        num_uses=vault.refresh_token_num_uses,
    )
