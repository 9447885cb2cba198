"""Turning a callback into a verified grant and an encrypted tenant record.

The order is fixed so that bad input leaves nothing behind: the callback is
validated (callback.py), its flow is taken from Vault (single use), the grant
is verified with the identity platform, and only then is the tenant record
written, with check-and-set.

- Admin consent: the callback's `tenant` is only a claim. The grant is
  verified by getting an app-only token for that tenant; the token's `tid`
  must match and its `roles` are what was granted.
- Delegated: msal redeems the code with the flow's PKCE verifier and checks
  the nonce; the tenant comes from the id_token's `tid`, never from the URL.
  The refresh token is stored as transit ciphertext only.

Re-consent of a known tenant updates its record in place and moves the
previous grant's metadata into `previous_grants`, then deletes the Graph
access token that `mint graph-token` shares beside the tenant's refresh lock:
it was issued under the previous consent and would otherwise be handed out
until it expires.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import hvac

from consentvault import errors
from consentvault.consent.callback import Callback
from consentvault.consent.state import ConsentStates, PendingFlow
from consentvault.entra_client import (
    GRAPH_DEFAULT_SCOPE,
    GRAPH_RESOURCE,
    MULTI_TENANT,
    EntraClient,
    error_from_result,
    read_app_credential,
    unverified_claims,
)
from consentvault.records import (
    TenantRecord,
    TenantRecords,
    normalize_tenant_id,
    utc_now,
)
from consentvault.settings import Settings
from consentvault.vaultclient import vault_errors

log = logging.getLogger(__name__)

# Earlier grants kept per record; older ones are dropped, newest last.
MAX_PREVIOUS_GRANTS = 10
STORE_ATTEMPTS = 3


class Redemption:
    """Redeem callbacks with one Vault client (the consent broker's)."""

    def __init__(self, client: hvac.Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.states = ConsentStates(client, settings)
        self.records = TenantRecords(client, settings)

    def redeem(self, callback: Callback) -> TenantRecord:
        """The stored record for a validated callback, or one of our errors."""
        pending = self.states.take(callback.state)
        if callback.kind == "error":
            raise error_from_result(callback.params)
        try:
            if callback.kind == "admin" and pending.mode == "admin":
                return self._redeem_admin_consent(callback, pending)
            if callback.kind == "code" and pending.mode == "delegated":
                return self._redeem_code(callback, pending)
        except errors.IdentityPlatformUnavailable as exc:
            # Nothing was stored; the same callback may be presented again.
            if self.states.release(pending):
                raise type(exc)(f"{exc}; the callback can be retried") from None
            raise
        raise errors.UsageError(
            f"the callback does not fit its {pending.mode} consent flow"
        )

    def _entra(self, tenant: str = MULTI_TENANT) -> EntraClient:
        credential = read_app_credential(self.client, self.settings)
        return EntraClient(self.settings, credential, tenant=tenant)

    def _redeem_admin_consent(
        self, callback: Callback, pending: PendingFlow
    ) -> TenantRecord:
        tenant_id = callback.tenant
        if pending.tenant_hint not in (MULTI_TENANT, tenant_id):
            raise errors.ConsentError(
                f"consent came back for tenant {tenant_id}, "
                f"but was requested for {pending.tenant_hint}"
            )
        result = self._entra(tenant_id).acquire_token_for_client([GRAPH_DEFAULT_SCOPE])
        claims = unverified_claims(result["access_token"])
        if _claimed_tenant(claims) != tenant_id:
            raise errors.ConsentError(
                f"the app token for tenant {tenant_id} names another tenant"
            )
        roles = sorted(str(role) for role in claims.get("roles") or ())
        if not roles and self.settings.entra.application_permissions:
            raise errors.ConsentError(
                f"tenant {tenant_id} granted no application permissions (AADSTS65001)"
            )
        record = TenantRecord(
            tenant_id=tenant_id,
            mode="admin",
            granted=tuple(roles),
            consented_at=utc_now(),
            last_refreshed_at=utc_now(),
        )
        return self._store(record)

    def _redeem_code(self, callback: Callback, pending: PendingFlow) -> TenantRecord:
        entra = self._entra(pending.tenant_hint)
        result = entra.redeem_auth_code(
            pending.flow, callback.params, scopes=list(pending.scopes)
        )
        claims = result.get("id_token_claims") or {}
        if claims.get("aud") != entra.credential.client_id:
            raise errors.ConsentError("the id_token was issued to another app")
        tenant_id = _claimed_tenant(claims)
        if pending.tenant_hint not in (MULTI_TENANT, tenant_id):
            raise errors.ConsentError(
                f"consent came back for tenant {tenant_id}, "
                f"but was requested for {pending.tenant_hint}"
            )
        refresh_token = result.get("refresh_token")
        if not refresh_token:
            raise errors.ConsentError(
                f"tenant {tenant_id}: no refresh token came back (offline_access)"
            )
        self.records.ensure_key(tenant_id)
        secret = self.records.encrypt_secret(
            tenant_id, {"refresh_token": refresh_token}
        )
        record = TenantRecord(
            tenant_id=tenant_id,
            mode="delegated",
            granted=tuple(_scope_names(result.get("scope", ""))),
            consented_by=str(claims.get("oid") or ""),
            consented_at=utc_now(),
            last_refreshed_at=utc_now(),
            secret=secret,
        )
        return self._store(record)

    def _store(self, record: TenantRecord) -> TenantRecord:
        """Create the record, or replace a known tenant's grant with CAS."""
        for attempt in range(1, STORE_ATTEMPTS + 1):
            try:
                existing = self.records.read(record.tenant_id)
            except errors.NotFound:
                existing = None
            try:
                if existing is None:
                    stored = self.records.create(record)
                else:
                    stored = self.records.write(_reconsent(existing, record))
            except errors.Conflict:
                # The new grant is already verified, so applying it again on
                # top of whatever won the race is safe.
                if attempt == STORE_ATTEMPTS:
                    raise
                continue
            log.info(
                "tenant %s consented (%s), record version %d",
                stored.tenant_id,
                stored.mode,
                stored.version,
            )
            if existing is not None:
                self._forget_shared_token(stored)
            return stored
        raise AssertionError("unreachable")

    def _forget_shared_token(self, stored: TenantRecord) -> None:
        """Delete `locks/<tenant>`, with any Graph token of the old consent."""
        vault = self.settings.vault
        path = f"{vault.locks_prefix}/{stored.tenant_id}"
        action = (
            f"tenant {stored.tenant_id}: new consent stored (record version "
            f"{stored.version}), but the cached Graph token at "
            f"{vault.kv_mount}/{path} could not be deleted and stays usable "
            "until it expires"
        )
        with vault_errors(action):
            self.client.secrets.kv.v2.delete_metadata_and_all_versions(
                path=path, mount_point=vault.kv_mount
            )
        log.info(
            "tenant %s: shared Graph token of the old consent deleted", stored.tenant_id
        )


def _reconsent(existing: TenantRecord, new: TenantRecord) -> TenantRecord:
    previous = (*existing.previous_grants, existing.grant_summary())
    return dataclasses.replace(
        new,
        previous_grants=previous[-MAX_PREVIOUS_GRANTS:],
        version=existing.version,
        extra=existing.extra,
    )


def _claimed_tenant(claims: dict[str, Any]) -> str:
    try:
        return normalize_tenant_id(claims.get("tid", ""))
    except errors.UsageError:
        raise errors.ConsentError(
            "the identity platform's token carries no valid tenant id (tid)"
        ) from None


def _scope_names(scope_text: str) -> list[str]:
    """Granted scopes by name: Graph's resource prefix and OIDC scopes dropped."""
    names = []
    for scope in str(scope_text).split():
        if scope.startswith(GRAPH_RESOURCE + "/"):
            scope = scope[len(GRAPH_RESOURCE) + 1 :]
        if scope not in ("openid", "profile", "email", "offline_access"):
            names.append(scope)
    return sorted(set(names))
