"""The token role that minted tenant credentials come from."""

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
        vault: VaultSettings,
        reader_policy: str,
    ) -> None:
        super().__init__(scope, id_)

        # Orphan: a token outlives the CI job that minted it, but not its
        # explicit max TTL; not renewable, so that TTL is a hard stop. The
        # entity alias (the tenant id) is what the reader policy is keyed on.
        # No default policy: the reader policy alone says what it may do.
        self.role = TokenAuthBackendRole(
            self,
            "role",
            role_name=vault.token_role,
            orphan=True,
            renewable=False,
            token_type="service",
            token_ttl=duration_seconds(vault.minted_ttl),
            token_explicit_max_ttl=duration_seconds(vault.minted_max_ttl),
            allowed_policies=[reader_policy],
            allowed_entity_aliases=["*"],
            token_no_default_policy=True,
        )
