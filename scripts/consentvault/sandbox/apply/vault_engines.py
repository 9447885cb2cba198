"""Secrets engines: mounts, KV v2 mount config, transit keys."""

from __future__ import annotations

import hvac.exceptions

from consentvault.sandbox.apply.registry import (
    ApplyContext,
    Attributes,
    resource,
    without_meta,
    write,
)


def _mount_accessor(ctx: ApplyContext, path: str) -> str:
    mounts = ctx.vault.sys.list_mounted_secrets_engines()["data"]
    return mounts[path.strip("/") + "/"]["accessor"]


@resource("vault_mount")
class Mount:
    def create(self, ctx: ApplyContext, config: Attributes) -> Attributes:
        ctx.vault.sys.enable_secrets_engine(
            backend_type=config["type"],
            path=config["path"],
            description=config.get("description"),
            config=self._tuning(config),
            options=config.get("options"),
            local=config.get("local", False),
            seal_wrap=config.get("seal_wrap", False),
        )
        return self._attributes(ctx, config)

    def update(self, ctx, previous: Attributes, config: Attributes) -> Attributes:
        if (previous["path"], previous["type"]) != (config["path"], config["type"]):
            # Terraform replaces a mount whose path or type changes; the
            # data on the old path goes with it.
            self.delete(ctx, previous)
            return self.create(ctx, config)
        ctx.vault.sys.tune_mount_configuration(
            path=config["path"],
            description=config.get("description"),
            options=config.get("options"),
            **self._tuning(config),
        )
        return self._attributes(ctx, config)

    def delete(self, ctx: ApplyContext, previous: Attributes) -> None:
        ctx.vault.sys.disable_secrets_engine(path=previous["path"])

    def _tuning(self, config: Attributes) -> dict:
        names = ("default_lease_ttl", "max_lease_ttl")
        return {
            name: config[f"{name}_seconds"]
            for name in names
            if config.get(f"{name}_seconds") is not None
        }

    def _attributes(self, ctx: ApplyContext, config: Attributes) -> Attributes:
        accessor = _mount_accessor(ctx, config["path"])
        return {**config, "id": config["path"], "accessor": accessor}


@resource("vault_kv_secret_backend_v2")
class KvBackendConfig:
    def create(self, ctx: ApplyContext, config: Attributes) -> Attributes:
        fields = without_meta(config, "mount", "namespace")
        write(ctx, f"{config['mount']}/config", fields)
        return {**config, "id": f"{config['mount']}/config"}

    def update(self, ctx, previous: Attributes, config: Attributes) -> Attributes:
        return self.create(ctx, config)

    def delete(self, ctx: ApplyContext, previous: Attributes) -> None:
        # Deleting the resource returns the mount to Vault's defaults.
        defaults = {"max_versions": 0, "cas_required": False}
        try:
            ctx.vault.write_data(f"{previous['mount']}/config", data=defaults)
        except hvac.exceptions.InvalidPath:
            pass


_KEY_CREATE_FIELDS = (
    "type",
    "derived",
    "convergent_encryption",
    "exportable",
    "allow_plaintext_backup",
    "auto_rotate_period",
)
_KEY_CONFIG_FIELDS = (
    "deletion_allowed",
    "exportable",
    "allow_plaintext_backup",
    "auto_rotate_period",
    "min_decryption_version",
    "min_encryption_version",
)


@resource("vault_transit_secret_backend_key")
class TransitKey:
    def create(self, ctx: ApplyContext, config: Attributes) -> Attributes:
        path = self._path(config)
        fields = {k: config[k] for k in _KEY_CREATE_FIELDS if k in config}
        write(ctx, path, fields)
        return self.update(ctx, config, config)

    def update(self, ctx, previous: Attributes, config: Attributes) -> Attributes:
        if self._identity(previous) != self._identity(config):
            self.delete(ctx, previous)
            return self.create(ctx, config)
        settings = {k: config[k] for k in _KEY_CONFIG_FIELDS if k in config}
        write(ctx, f"{self._path(config)}/config", settings)
        key = ctx.vault.read(self._path(config))["data"]
        return {
            **config,
            "id": self._path(config),
            "latest_version": key["latest_version"],
        }

    def delete(self, ctx: ApplyContext, previous: Attributes) -> None:
        path = self._path(previous)
        ctx.vault.write_data(f"{path}/config", data={"deletion_allowed": True})
        ctx.vault.delete(path)

    def _identity(self, config: Attributes) -> tuple:
        # Set once at creation: Terraform replaces the key if these change.
        return (
            config["backend"],
            config["name"],
            config.get("type"),
            config.get("derived"),
        )

    def _path(self, config: Attributes) -> str:
        return f"{config['backend']}/keys/{config['name']}"
