"""ACL policies and audit devices."""

from __future__ import annotations

from consentvault.sandbox.apply.registry import (
    ApplyContext,
    Attributes,
    Replaced,
    resource,
)


@resource("vault_policy")
class Policy:
    def create(self, ctx: ApplyContext, config: Attributes) -> Attributes:
        ctx.vault.sys.create_or_update_policy(
            name=config["name"], policy=config["policy"]
        )
        return {**config, "id": config["name"]}

    def update(self, ctx, previous: Attributes, config: Attributes) -> Attributes:
        if previous["name"] != config["name"]:
            self.delete(ctx, previous)
        return self.create(ctx, config)

    def delete(self, ctx: ApplyContext, previous: Attributes) -> None:
        ctx.vault.sys.delete_policy(name=previous["name"])


@resource("vault_audit")
class AuditDevice(Replaced):
    # Vault cannot change an audit device in place: every change replaces it.
    def create(self, ctx: ApplyContext, config: Attributes) -> Attributes:
        path = config.get("path") or config["type"]
        ctx.vault.sys.enable_audit_device(
            device_type=config["type"],
            path=path,
            description=config.get("description"),
            options=config.get("options") or {},
            local=config.get("local"),
        )
        return {**config, "id": path}

    def delete(self, ctx: ApplyContext, previous: Attributes) -> None:
        ctx.vault.sys.disable_audit_device(path=previous["id"])
