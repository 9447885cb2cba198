"""KV v2 secrets written by a stack (the Entra app's credential)."""

from __future__ import annotations

import json

import hvac.exceptions

from consentvault.sandbox.apply.registry import ApplyContext, Attributes, resource


@resource("vault_kv_secret_v2")
class KvSecret:
    def create(self, ctx: ApplyContext, config: Attributes) -> Attributes:
        mount, name = config["mount"], config["name"]
        # The mount may require check-and-set: write over the version that is
        # there now (0 when absent), as the provider does after reading it.
        current = self._metadata(ctx, mount, name)
        version = current["current_version"] if current else 0
        written = ctx.vault.secrets.kv.v2.create_or_update_secret(
            path=name,
            secret=json.loads(config["data_json"]),
            cas=version,
            mount_point=mount,
        )
        return {
            **config,
            "id": f"{mount}/data/{name}",
            "path": f"{mount}/data/{name}",
            "version": written["data"]["version"],
        }

    def update(self, ctx, previous: Attributes, config: Attributes) -> Attributes:
        if (previous["mount"], previous["name"]) != (config["mount"], config["name"]):
            self.delete(ctx, previous)
        return self.create(ctx, config)

    def delete(self, ctx: ApplyContext, previous: Attributes) -> None:
        if self._metadata(ctx, previous["mount"], previous["name"]):
            ctx.vault.secrets.kv.v2.delete_metadata_and_all_versions(
                path=previous["name"], mount_point=previous["mount"]
            )

    def _metadata(self, ctx: ApplyContext, mount: str, name: str) -> dict | None:
        try:
            return ctx.vault.secrets.kv.v2.read_secret_metadata(
                path=name, mount_point=mount
            )["data"]
        except hvac.exceptions.InvalidPath:
            return None
