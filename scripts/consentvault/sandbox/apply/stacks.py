"""The synthesized stacks: reading `cdk.tf.json` into blocks the apply walks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consentvault.errors import ConfigError
from consentvault.sandbox.apply.expressions import references
from consentvault.settings import PROJECT_ROOT

REMOTE_STATE = "terraform_remote_state"
CROSS_STACK_INPUT = "cross-stack-reference-input-"


@dataclass(frozen=True)
class Block:
    """One resource, data source or local value of a stack."""

    kind: str  # "resource", "data" or "local"
    type: str
    name: str
    body: Any

    @property
    def address(self) -> str:
        if self.kind == "data":
            return f"data.{self.type}.{self.name}"
        if self.kind == "local":
            return f"local.{self.name}"
        return f"{self.type}.{self.name}"

    def dependencies(self) -> set[str]:
        found = references(self.body)
        if isinstance(self.body, dict):
            for item in self.body.get("depends_on", []):
                found.add(item.removeprefix("${").removesuffix("}"))
        return found


@dataclass(frozen=True)
class Stack:
    name: str
    file: Path
    document: dict

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.file.read_bytes()).hexdigest()

    @property
    def workdir(self) -> Path:
        # `cdktf deploy` runs Terraform in cdktf.out/stacks/<name>; relative
        # paths in the stack (file(), path.module) are relative to that.
        return PROJECT_ROOT / "cdktf.out" / "stacks" / self.name

    def blocks(self) -> list[Block]:
        found = [
            Block(kind, type_, name, body)
            for kind, section in (("resource", "resource"), ("data", "data"))
            for type_, named in self.document.get(section, {}).items()
            for name, body in named.items()
        ]
        found += [Block("local", "local", n, v) for n, v in self.locals().items()]
        return found

    def locals(self) -> dict[str, Any]:
        return self.document.get("locals", {})

    def outputs(self) -> dict[str, Any]:
        return self.document.get("output", {})

    def producers(self) -> set[str]:
        """Names of the stacks whose outputs this one reads."""
        inputs = self.document.get("data", {}).get(REMOTE_STATE, {})
        return {
            name.removeprefix(CROSS_STACK_INPUT)
            for name in inputs
            if name.startswith(CROSS_STACK_INPUT)
        }


def read_stacks(
    outdir: Path, environment: str, *, synth_command: str = "make synth"
) -> list[Stack]:
    """The environment's stacks under `outdir/stacks`, producers first."""
    files = sorted((outdir / "stacks").glob(f"{environment}-*/cdk.tf.json"))
    if not files:
        raise ConfigError(
            f"no synthesized stacks of environment {environment!r} under "
            f"{outdir}/stacks{_others(outdir)}; run `{synth_command}`"
        )
    stacks = {}
    for file in files:
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{file}: not readable JSON ({exc})") from None
        stacks[file.parent.name] = Stack(file.parent.name, file, document)
    ordered: list[Stack] = []
    while stacks:
        ready = [s for s in stacks.values() if not (s.producers() & set(stacks))]
        if not ready:
            raise ConfigError(
                f"stacks read each other's outputs in a cycle: {sorted(stacks)}"
            )
        for stack in sorted(ready, key=lambda s: s.name):
            ordered.append(stacks.pop(stack.name))
    return ordered


def _others(outdir: Path) -> str:
    """Which stacks `outdir` holds instead, if any: it keeps one synth at a time."""
    found = sorted(path.parent.name for path in outdir.glob("stacks/*/cdk.tf.json"))
    return f" (it holds {', '.join(found)})" if found else ""


def stacks_digest(stacks: list[Stack]) -> str:
    """One digest over every stack applied, to tell whether a synth changed."""
    combined = hashlib.sha256()
    for stack in stacks:
        combined.update(f"{stack.name}:{stack.digest}\n".encode())
    return combined.hexdigest()
