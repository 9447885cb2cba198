"""Frozen per-stack configs, made once from the settings of one environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from consentvault.settings import (
    PROJECT_ROOT,
    BackendSettings,
    EntraSettings,
    Settings,
    VaultSettings,
)

# `cdktf synth` writes each stack to cdktf.out/stacks/<name>/ and Terraform
# runs there, so project files are referred to relative to that folder. A
# fixed folder (not the synth output dir) keeps the synthesized JSON stable.
STACK_WORKDIR = Path("cdktf.out") / "stacks"


@dataclass(frozen=True)
class StackPlacement:
    """Where a stack lives: its name, Terraform backend and project folder."""

    stack_name: str
    backend: BackendSettings
    project_root: Path

    def path_from_workdir(self, project_path: str) -> str:
        """`project_path` as Terraform, running in the stack's folder, sees it."""
        if os.path.isabs(project_path):
            return project_path
        workdir = self.project_root / STACK_WORKDIR / self.stack_name
        relative = os.path.relpath(self.project_root / project_path, workdir)
        return Path(relative).as_posix()


@dataclass(frozen=True)
class EntraStackConfig:
    placement: StackPlacement
    entra: EntraSettings

    @classmethod
    def from_settings(
        cls, settings: Settings, *, root: Path = PROJECT_ROOT
    ) -> EntraStackConfig:
        placement = StackPlacement(
            stack_name=f"{settings.name}-entra",
            backend=settings.backend,
            project_root=root,
        )
        return cls(placement=placement, entra=settings.entra)


@dataclass(frozen=True)
class VaultStackConfig:
    placement: StackPlacement
    vault: VaultSettings
    policy_names: dict[str, str]

    @classmethod
    def from_settings(
        cls, settings: Settings, *, root: Path = PROJECT_ROOT
    ) -> VaultStackConfig:
        placement = StackPlacement(
            stack_name=f"{settings.name}-vault",
            backend=settings.backend,
            project_root=root,
        )
        return cls(
            placement=placement,
            vault=settings.vault,
            policy_names=settings.policy_names(),
        )
