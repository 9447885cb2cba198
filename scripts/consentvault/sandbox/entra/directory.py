"""The stand-in's directory: tenants, applications, consents, grants.

Everything lives in one JSON document under the caller's folder, rewritten
atomically after each change, so a restarted stand-in keeps its apps, tenants,
consents and refresh tokens. Codes, refresh tokens and client secrets are
kept only as SHA-256 digests, as a real token service would: the file alone
redeems nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from consentvault.sandbox.paths import write_private

STATE_FILE = "directory.json"
HOME_TENANT_NAME = "consentvault sandbox (home)"
DEFAULT_CUSTOMERS = ("Contoso", "Fabrikam", "Northwind Traders")
PROVISIONER_NAME = "sandbox provisioner"


@dataclass(frozen=True)
class TenantSpec:
    """One tenant to create on first start: a name and its ordinary users."""

    display_name: str
    users: tuple[str, ...] = ("Adele Vance", "Lee Gu")


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())[:24] or "tenant"


def _new_tenant(spec: TenantSpec, kind: str) -> dict:
    tenant_id = str(uuid.uuid4())
    domain = f"{_slug(spec.display_name)}.onmicrosoft.com"
    admin = {
        "id": str(uuid.uuid4()),
        "displayName": "Global Administrator",
        "userPrincipalName": f"admin@{domain}",
        "admin": True,
    }
    users = [
        {
            "id": str(uuid.uuid4()),
            "displayName": name,
            "userPrincipalName": f"{_slug(name)}@{domain}",
            "admin": False,
        }
        for name in spec.users
    ]
    return {
        "id": tenant_id,
        "displayName": spec.display_name,
        "domain": domain,
        "kind": kind,
        "users": [admin, *users],
    }


class Directory:
    """Thread-safe holder of the persistent state; callers hold `lock`."""

    def __init__(self, folder: Path, customers: tuple[TenantSpec, ...] | None = None):
        self.folder = folder
        self.path = folder / STATE_FILE
        self.lock = threading.RLock()
        if self.path.exists():
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
        else:
            specs = customers or tuple(TenantSpec(n) for n in DEFAULT_CUSTOMERS)
            self.data = self._fresh(specs)
            self._create_provisioner()
            self.save()

    @staticmethod
    def _fresh(customers: tuple[TenantSpec, ...]) -> dict:
        home = _new_tenant(TenantSpec(HOME_TENANT_NAME, ()), "home")
        tenants = {home["id"]: home}
        for spec in customers:
            tenant = _new_tenant(spec, "customer")
            tenants[tenant["id"]] = tenant
        return {
            "home_tenant": home["id"],
            "tenants": tenants,
            "applications": {},
            "service_principals": {},
            "graph_service_principal": str(uuid.uuid4()),
            "consents": {},
            "codes": {},
            "refresh_tokens": {},
            "generations": {},
        }

    def save(self) -> None:
        with self.lock:
            self._drop_stale_grants()
            write_private(self.path, json.dumps(self.data, indent=1, sort_keys=True))

    def _drop_stale_grants(self) -> None:
        now = time.time()
        for kind in ("codes", "refresh_tokens"):
            grants = self.data[kind]
            for key in [k for k, g in grants.items() if g["expires_at"] < now - 3600]:
                del grants[key]

    # Tenants and users

    @property
    def home_tenant(self) -> str:
        return self.data["home_tenant"]

    def tenant(self, tenant: str) -> dict | None:
        """A tenant by GUID or by its `.onmicrosoft.com` domain."""
        tenants = self.data["tenants"]
        key = tenant.lower()
        if key in tenants:
            return tenants[key]
        return next((t for t in tenants.values() if t["domain"] == key), None)

    def customer_tenants(self) -> list[dict]:
        return [t for t in self.data["tenants"].values() if t["kind"] == "customer"]

    def user(self, upn: str) -> tuple[dict, dict] | None:
        """(tenant, user) for a sign-in name, in any tenant."""
        for tenant in self.data["tenants"].values():
            for user in tenant["users"]:
                if user["userPrincipalName"].lower() == upn.lower():
                    return tenant, user
        return None

    # Applications

    def application_by_app_id(self, app_id: str) -> dict | None:
        apps = self.data["applications"].values()
        return next((a for a in apps if a["appId"] == app_id), None)

    def check_secret(self, app: dict, secret: str) -> bool:
        now = time.time()
        wanted = digest(secret)
        return any(
            secrets.compare_digest(p["secretDigest"], wanted) and p["expiresAt"] > now
            for p in app["passwordCredentials"]
        )

    def _create_provisioner(self) -> None:
        """The built-in app that may call the Graph management API."""
        from consentvault.sandbox.entra import graph_admin

        app = graph_admin.create_application(
            self,
            {"displayName": PROVISIONER_NAME, "signInAudience": "AzureADMyOrg"},
        )
        password = graph_admin.add_password(self, app, {"displayName": "bootstrap"})
        self.grant_consent(
            self.home_tenant,
            app["appId"],
            roles=["Application.ReadWrite.All"],
            scopes=[],
            consented_by="",
        )
        credentials = {
            "tenant_id": self.home_tenant,
            "client_id": app["appId"],
            "client_secret": password["secretText"],
        }
        write_private(self.folder / "provisioner.json", json.dumps(credentials))

    # Consents

    def consent(self, tenant_id: str, app_id: str) -> dict | None:
        return self.data["consents"].get(tenant_id, {}).get(app_id)

    def grant_consent(
        self,
        tenant_id: str,
        app_id: str,
        *,
        roles: list[str],
        scopes: list[str],
        consented_by: str,
    ) -> dict:
        """Add permissions to a tenant's consent; earlier grants are kept."""
        current = self.consent(tenant_id, app_id) or {"roles": [], "scopes": []}
        entry = {
            "roles": sorted(set(current["roles"]) | set(roles)),
            "scopes": sorted(set(current["scopes"]) | set(scopes)),
            "consented_by": consented_by,
            "consented_at": time.time(),
        }
        self.data["consents"].setdefault(tenant_id, {})[app_id] = entry
        return entry

    def revoke_consent(self, tenant_id: str, app_id: str | None = None) -> int:
        grants = self.data["consents"].get(tenant_id, {})
        doomed = [app_id] if app_id else list(grants)
        return sum(1 for key in doomed if grants.pop(key, None) is not None)

    # Codes and refresh tokens (stored by digest)

    def store_grant(self, kind: str, value: str, record: dict) -> None:
        self.data[kind][digest(value)] = record

    def find_grant(self, kind: str, value: str) -> dict | None:
        return self.data[kind].get(digest(value))

    def generation(self, tenant_id: str, kind: str) -> int:
        """Bumped when the control interface expires a tenant's `kind` of grant.

        Kinds: `codes`, `refresh_tokens`, `access_tokens`. Everything issued
        carries the generation it was issued in; an older one counts as expired.
        """
        return self.data["generations"].get(tenant_id, {}).get(kind, 0)

    def expire_tenant(self, tenant_id: str, kinds: tuple[str, ...]) -> None:
        counters = self.data["generations"].setdefault(tenant_id, {})
        for kind in kinds:
            counters[kind] = counters.get(kind, 0) + 1
