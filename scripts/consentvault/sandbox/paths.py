"""Where the sandbox keeps its files: one folder, git-ignored."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from consentvault import files
from consentvault.settings import DEFAULT_ENVIRONMENT, PROJECT_ROOT

SANDBOX_DIR_VARIABLE = "CONSENTVAULT_SANDBOX_DIR"


def folder_name(environment: str | None) -> str:
    """The default sandbox folder of an environment, relative to the project."""
    if not environment or environment == DEFAULT_ENVIRONMENT:
        return ".sandbox"
    return f".sandbox-{environment}"


@dataclass(frozen=True)
class SandboxPaths:
    root: Path

    @classmethod
    def from_environment(
        cls, root: Path | str | None = None, *, environment: str | None = None
    ) -> SandboxPaths:
        """`root`, else `$CONSENTVAULT_SANDBOX_DIR`, else the environment's folder.

        That folder is `.sandbox/` in the project for `local` (or no name) and
        `.sandbox-<name>/` for any other environment, the paths that
        `sandbox init-env` writes into the environment file.
        """
        chosen = (
            root
            or os.environ.get(SANDBOX_DIR_VARIABLE)
            or PROJECT_ROOT / folder_name(environment)
        )
        return cls(Path(chosen).resolve())

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def ca_file(self) -> Path:
        return self.pki / "ca.pem"

    @property
    def openbao(self) -> Path:
        return self.root / "openbao"

    @property
    def root_token_file(self) -> Path:
        return self.openbao / "root-token"

    @property
    def entra(self) -> Path:
        return self.root / "entra"

    @property
    def entra_control_token_file(self) -> Path:
        return self.entra / "control-token"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"


def write_private(path: Path, data: bytes | str) -> None:
    """Write a file only its owner can read, creating its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_private(path, data)
