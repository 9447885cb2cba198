"""The Terraform backend of a stack, from `[backend]` of the environment file."""

from __future__ import annotations

from cdktf import (
    AzurermBackend,
    ConsulBackend,
    LocalBackend,
    NamedRemoteWorkspace,
    PgBackend,
    RemoteBackend,
    S3Backend,
    TerraformStack,
)
from consentvault.settings import SettingsError

from stacks.config import StackPlacement

# Where each backend keeps one stack's state apart from the other's, and the
# default for it when the environment file does not say.
_STATE_KEY = {
    "azurerm": ("key", "{stack}.tfstate"),
    "s3": ("key", "consentvault/{stack}.tfstate"),
    "consul": ("path", "consentvault/{stack}"),
    "pg": ("schema_name", "{stack_underscored}"),
}
_BACKENDS = {
    "azurerm": AzurermBackend,
    "s3": S3Backend,
    "consul": ConsulBackend,
    "pg": PgBackend,
}


def configure_backend(stack: TerraformStack, placement: StackPlacement) -> None:
    backend = placement.backend
    options = dict(backend.options)
    try:
        if backend.type == "local":
            default = f".terraform-state/{placement.stack_name}.tfstate"
            path = placement.path_from_workdir(str(options.pop("path", default)))
            LocalBackend(stack, path=path, **options)
        elif backend.type == "remote":
            prefix = str(options.pop("workspace_prefix", "consentvault-"))
            workspace = NamedRemoteWorkspace(name=f"{prefix}{placement.stack_name}")
            RemoteBackend(stack, workspaces=workspace, **options)
        else:
            key, template = _STATE_KEY[backend.type]
            options.setdefault(
                key,
                template.format(
                    stack=placement.stack_name,
                    stack_underscored=placement.stack_name.replace("-", "_"),
                ),
            )
            _BACKENDS[backend.type](stack, **options)
    except TypeError as exc:
        raise SettingsError(
            f"backend.options: not accepted by the {backend.type} backend: {exc}"
        ) from None
