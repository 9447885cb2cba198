"""Builds both stacks of one environment into a cdktf App."""

from __future__ import annotations

from pathlib import Path

from cdktf import App

from consentvault.settings import PROJECT_ROOT, Settings
from stacks.config import EntraStackConfig, VaultStackConfig
from stacks.entra_stack import EntraStack
from stacks.vault_stack import VaultStack


def stack_names(settings: Settings) -> tuple[str, str]:
    return f"{settings.name}-entra", f"{settings.name}-vault"


def build_app(
    app: App, settings: Settings, *, root: Path = PROJECT_ROOT
) -> tuple[EntraStack, VaultStack]:
    """Add the Entra and Vault stacks of `settings` to `app` and return them."""
    entra_config = EntraStackConfig.from_settings(settings, root=root)
    vault_config = VaultStackConfig.from_settings(settings, root=root)
    entra = EntraStack(app, entra_config.placement.stack_name, config=entra_config)
    vault = VaultStack(
        app, vault_config.placement.stack_name, config=vault_config, entra=entra
    )
    return entra, vault
