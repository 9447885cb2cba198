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

# The option that keeps one stack's state apart from the other's, and its
# default. A value from the environment file must contain `{stack}`.
_STATE_KEY = {
    "local": ("path", ".terraform-state/{stack}.tfstate"),
    "azurerm": ("key", "{stack}.tfstate"),
    "s3": ("key", "consentvault/{stack}.tfstate"),
    "consul": ("path", "consentvault/{stack}"),
    "pg": ("schema_name", "{stack_underscored}"),
    "remote": ("workspace", "consentvault-{stack}"),
}
_BACKENDS = {
    "local": LocalBackend,
    "azurerm": AzurermBackend,
    "s3": S3Backend,
    "consul": ConsulBackend,
    "pg": PgBackend,
}


def configure_backend(stack: TerraformStack, placement: StackPlacement) -> None:
    backend = placement.backend
    options = dict(backend.options)
    key, default = _STATE_KEY[backend.type]
    template = str(options.pop(key, default))
    if "{stack}" not in template and "{stack_underscored}" not in template:
        raise SettingsError(
            f"backend.options.{key}: must contain {{stack}}, or both stacks "
            "would share one state"
        )
    state_key = template.format(
        stack=placement.stack_name,
        stack_underscored=placement.stack_name.replace("-", "_"),
    )
    if backend.type == "local":
        # Terraform runs in the stack's folder; the setting names the project's.
        state_key = placement.path_from_workdir(state_key)
    if backend.type == "remote":
        options["workspaces"] = NamedRemoteWorkspace(name=state_key)
    else:
        options[key] = state_key

    try:
        if backend.type == "remote":
            RemoteBackend(stack, **options)
        else:
            _BACKENDS[backend.type](stack, **options)
    except TypeError as exc:
        raise SettingsError(
            f"backend.options: not accepted by the {backend.type} backend: {exc}"
        ) from None
