"""Auth methods and their roles: token roles, JWT/OIDC, AppRole."""

from __future__ import annotations

from consentvault.sandbox.apply.registry import (
    ApplyContext,
    Attributes,
    data_source,
    resource,
    without_meta,
    write,
)


def _auth_mounts(ctx: ApplyContext) -> dict:
    return ctx.vault.sys.list_auth_methods()["data"]


def _accessor(ctx: ApplyContext, path: str) -> str:
    return _auth_mounts(ctx)[path.strip("/") + "/"]["accessor"]


@data_source("vault_auth_backend")
def read_auth_backend(ctx: ApplyContext, config: Attributes) -> Attributes:
    path = config["path"].strip("/")
    mount = _auth_mounts(ctx).get(path + "/")
    if mount is None:
        from consentvault.errors import NotFound

        raise NotFound(f"data.vault_auth_backend: no auth method at {path}/")
    return {
        **config,
        "id": path,
        "accessor": mount["accessor"],
        "type": mount["type"],
        "description": mount.get("description", ""),
    }


class _AuthMount:
    """Enable an auth method at a path; Terraform replaces it on path or type change."""

    default_type = ""

    def _enable(self, ctx: ApplyContext, config: Attributes) -> str:
        path = (config.get("path") or config.get("type") or self.default_type).strip(
            "/"
        )
        method = config.get("type") or self.default_type
        if path + "/" not in _auth_mounts(ctx):
            ctx.vault.sys.enable_auth_method(
                method_type=method,
                path=path,
                description=config.get("description"),
                local=config.get("local", False),
            )
        tune = config.get("tune")
        for block in tune if isinstance(tune, list) else [tune] if tune else []:
            ctx.vault.sys.tune_auth_method(path=path, **without_meta(block))
        return path

    def delete(self, ctx: ApplyContext, previous: Attributes) -> None:
        ctx.vault.sys.disable_auth_method(path=previous["id"])

    def _moved(self, previous: Attributes, config: Attributes) -> bool:
        keys = ("path", "type")
        return any(previous.get(k) != config.get(k) for k in keys)


@resource("vault_auth_backend")
class AuthBackend(_AuthMount):
    def create(self, ctx: ApplyContext, config: Attributes) -> Attributes:
        path = self._enable(ctx, config)
        return {**config, "id": path, "path": path, "accessor": _accessor(ctx, path)}

    def update(self, ctx, previous: Attributes, config: Attributes) -> Attributes:
        if self._moved(previous, config):
            self.delete(ctx, previous)
        else:
            ctx.vault.sys.tune_auth_method(
                path=previous["id"], description=config.get("description")
            )
        return self.create(ctx, config)


_JWT_MOUNT_ONLY = ("path", "type", "description", "tune", "local", "namespace")


@resource("vault_jwt_auth_backend")
class JwtAuthBackend(_AuthMount):
    default_type = "jwt"

    def create(self, ctx: ApplyContext, config: Attributes) -> Attributes:
        path = self._enable(ctx, config)
        settings = without_meta(config, *_JWT_MOUNT_ONLY)
        write(ctx, f"auth/{path}/config", settings)
        return {**config, "id": path, "path": path, "accessor": _accessor(ctx, path)}

    def update(self, ctx, previous: Attributes, config: Attributes) -> Attributes:
        if self._moved(previous, config):
            self.delete(ctx, previous)
        return self.create(ctx, config)


class _Role:
    """A role written to `<prefix>/<role_name>` with the rest of the config."""

    def _path(self, config: Attributes) -> str:
        raise NotImplementedError

    def create(self, ctx: ApplyContext, config: Attributes) -> Attributes:
        fields = without_meta(config, "backend", "role_name", "namespace")
        write(ctx, self._path(config), fields)
        return {**config, "id": self._path(config)}

    def update(self, ctx, previous: Attributes, config: Attributes) -> Attributes:
        # Written in place: deleting the role first would cut off the
        # credentials it already issued.
        if self._path(previous) != self._path(config):
            self.delete(ctx, previous)
        return self.create(ctx, config)

    def delete(self, ctx: ApplyContext, previous: Attributes) -> None:
        ctx.vault.delete(self._path(previous))


@resource("vault_token_auth_backend_role")
class TokenRole(_Role):
    def _path(self, config: Attributes) -> str:
        return f"auth/token/roles/{config['role_name']}"


@resource("vault_jwt_auth_backend_role")
class JwtRole(_Role):
    def _path(self, config: Attributes) -> str:
        return f"auth/{config.get('backend') or 'jwt'}/role/{config['role_name']}"


@resource("vault_approle_auth_backend_role")
class AppRoleRole(_Role):
    def _path(self, config: Attributes) -> str:
        return f"auth/{config.get('backend') or 'approle'}/role/{config['role_name']}"

    def create(self, ctx: ApplyContext, config: Attributes) -> Attributes:
        attributes = super().create(ctx, config)
        role_id = ctx.vault.read(f"{self._path(config)}/role-id")["data"]["role_id"]
        return {**attributes, "role_id": role_id}
