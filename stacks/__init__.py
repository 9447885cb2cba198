"""The CDKTF stacks of consentvault: one for Entra ID, one for Vault.

`main.py` builds both for one environment with `build_app`; tests do the same
with `Testing.app()`. Each stack composes small constructs, one per concern,
from a frozen config made once from the settings.
"""

from stacks.app import build_app, stack_names
from stacks.config import EntraStackConfig, VaultStackConfig

__all__ = ["EntraStackConfig", "VaultStackConfig", "build_app", "stack_names"]
