"""KV v2 secrets written by a stack (the Entra app's credential).

Each write sends what the vault provider sends: the data, `options` as given,
and a top-level `cas` only if the stack sets one. Vault reads check-and-set
from `options.cas` alone and ignores (with a warning, echoed here) the
top-level field, so a mount with `cas_required` refuses the write here just as
it refuses `cdktf deploy`.
"""

from __future__ import annotations

import json

from consentvault.sandbox.apply.registry import (
    ApplyContext,
    Attributes,
    Replaced,
    resource,
    write,
)


@resource("vault_kv_secret_v2")
class KvSecret:
    def create(self, ctx: ApplyContext, config: Attributes) -> Attributes:
        mount, name = config["mount"], config["name"]
        body = {
            "data": json.loads(config["data_json"]),
            "options": config.get("options") or {},
        }
        if config.get("cas") is not None:
            body["cas"] = config["cas"]
        written = write(ctx, f"{mount}/data/{name}", body)
        path = f"{mount}/data/{name}"
        return {
            **config,
            "id": path,
            "path": path,
            "version": written["data"]["version"],
        }

    def update(self, ctx, previous: Attributes, config: Attributes) -> Attributes:
        # The provider writes a new version in place; a new mount or name
        # replaces the resource.
        if (previous["mount"], previous["name"]) != (config["mount"], config["name"]):
            return Replaced.update(self, ctx, previous, config)
        return self.create(ctx, config)

    def delete(self, ctx: ApplyContext, previous: Attributes) -> None:
        # As the provider: all versions and the metadata, or else only the
        # newest version (a soft delete that older versions survive).
        kv = ctx.vault.secrets.kv.v2
        if previous.get("delete_all_versions"):
            kv.delete_metadata_and_all_versions(
                path=previous["name"], mount_point=previous["mount"]
            )
        else:
            kv.delete_latest_version_of_secret(
                path=previous["name"], mount_point=previous["mount"]
            )
