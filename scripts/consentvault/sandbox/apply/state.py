"""`<sandbox>/state.json`: what the offline apply created, like a tfstate.

Per resource: its type, the digest of its evaluated inputs and the attributes
it ended up with; per stack: the digest of the `cdk.tf.json` applied and its
outputs. Attributes include secrets (the app's client secret), exactly as a
Terraform state does, so the file is 0600.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consentvault.errors import ConfigError
from consentvault.sandbox.paths import write_private

STATE_VERSION = 1


@dataclass
class ApplyState:
    path: Path
    stacks: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Digest over every stack of the last complete apply.
    applied_digest: str | None = None

    @classmethod
    def load(cls, path: Path) -> ApplyState:
        if not path.exists():
            return cls(path)
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: unreadable apply state ({exc})") from None
        return cls(
            path,
            raw.get("stacks", {}),
            raw.get("resources", {}),
            raw.get("applied_digest"),
        )

    def save(self) -> None:
        body = {
            "version": STATE_VERSION,
            "applied_digest": self.applied_digest,
            "stacks": self.stacks,
            "resources": self.resources,
        }
        write_private(self.path, json.dumps(body, indent=1, sort_keys=True))

    def stack_resources(self, stack: str) -> dict[str, dict[str, Any]]:
        """Recorded resources of one stack by address, in the order applied."""
        prefix = f"{stack}:"
        entries = [(k, v) for k, v in self.resources.items() if k.startswith(prefix)]
        entries.sort(key=lambda item: item[1].get("order", 0))
        return {key.removeprefix(prefix): value for key, value in entries}

    def outputs(self, stack: str) -> dict[str, Any] | None:
        recorded = self.stacks.get(stack)
        return None if recorded is None else recorded.get("outputs", {})
