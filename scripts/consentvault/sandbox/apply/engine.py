"""The offline apply: the synthesized stacks, applied to the sandbox in order.

For each stack (producers first), its resources, data sources and locals are
sorted by the references between them; each is evaluated against what was
applied before it and created, updated, replaced or left alone by comparing
the digest of its evaluated inputs with the one recorded in the state. What
the stack no longer declares is deleted. Real environments use `cdktf deploy`;
this exists because the sandbox has no Terraform providers.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

import hvac

from consentvault.errors import ConfigError, Unsupported
from consentvault.sandbox.apply import expressions, functions, registry
from consentvault.sandbox.apply.registry import ApplyContext, EntraAdmin
from consentvault.sandbox.apply.stacks import (
    CROSS_STACK_INPUT,
    REMOTE_STATE,
    Block,
    Stack,
    stacks_digest,
)
from consentvault.sandbox.apply.state import ApplyState

logger = logging.getLogger(__name__)


@dataclass
class Change:
    action: str  # "create", "update", "replace", "delete"
    stack: str
    address: str

    def __str__(self) -> str:
        return f"{self.action:8} {self.stack}: {self.address}"


@dataclass
class ApplyReport:
    changes: list[Change] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    digest: str = ""


def check_supported(stacks: list[Stack]) -> None:
    """Refuse, before any write, a stack the sandbox cannot apply faithfully."""
    registry.load_handlers()
    for stack in stacks:
        for block in stack.blocks():
            known = {
                "resource": registry.RESOURCES,
                "data": {**registry.DATA_SOURCES, REMOTE_STATE: None},
                "local": {"local": None},
            }[block.kind]
            if block.type not in known:
                raise Unsupported(
                    f"{stack.name}: {block.address}: the sandbox's offline apply "
                    f"does not support the {block.kind} type {block.type}"
                )
            count = block.body.get("count") if block.kind == "resource" else None
            if isinstance(count, int) and count not in (0, 1):
                raise Unsupported(
                    f"{stack.name}: {block.address}: count = {count}; the sandbox "
                    "applies count 0 or 1 only"
                )
            for name in _called_functions(block.body):
                if name not in functions.FUNCTIONS:
                    raise Unsupported(
                        f"{stack.name}: {block.address}: the sandbox's offline "
                        f"apply does not support the function {name}()"
                    )
        _ordered(stack)


def _called_functions(value: Any) -> set[str]:
    found: set[str] = set()

    def walk(node: expressions.Node) -> None:
        if node.kind == "call":
            found.add(node.value)
        for child in node.children:
            walk(child)
        if node.kind == "template":
            for part in node.value:
                if isinstance(part, expressions.Node):
                    walk(part)

    for node in expressions.expressions_in(value):
        walk(node)
    return found


def _ordered(stack: Stack) -> list[Block]:
    blocks = {block.address: block for block in stack.blocks()}
    graph = TopologicalSorter()
    for address, block in blocks.items():
        wanted = block.dependencies()
        missing = wanted - set(blocks)
        if missing:
            raise ConfigError(
                f"{stack.name}: {address} refers to {', '.join(sorted(missing))}, "
                "which the stack does not declare"
            )
        graph.add(address, *sorted(wanted))
    try:
        return [blocks[address] for address in graph.static_order()]
    except CycleError as exc:
        raise ConfigError(
            f"{stack.name}: references form a cycle: {exc.args[1]}"
        ) from None


def apply_stacks(
    stacks: list[Stack],
    state_file: Path,
    vault: hvac.Client,
    entra: Callable[[], EntraAdmin],
    *,
    echo: Callable[[str], None] = lambda line: None,
) -> ApplyReport:
    """Apply `stacks` (producers first) and return what changed."""
    check_supported(stacks)
    state = ApplyState.load(state_file)
    ctx = ApplyContext(vault=vault, entra=entra, now=datetime.now(UTC), echo=echo)
    report = ApplyReport(digest=stacks_digest(stacks))
    # Each resource is saved as it is applied; until every stack is done the
    # state claims no complete apply, so a failure half-way reads as such.
    state.applied_digest = None
    state.save()
    for stack in stacks:
        _StackRun(stack, state, ctx, report, echo).run()
    state.applied_digest = report.digest
    state.save()
    return report


class _StackRun:
    """One stack's apply: deletions first, then every block in reference order."""

    def __init__(
        self,
        stack: Stack,
        state: ApplyState,
        ctx: ApplyContext,
        report: ApplyReport,
        echo: Callable[[str], None],
    ) -> None:
        self.stack = stack
        self.state = state
        self.ctx = ctx
        self.report = report
        self.echo = echo
        self.values: dict[str, Any] = {"data": {}, "local": {}}
        self.recorded = state.stack_resources(stack.name)

    def run(self) -> None:
        blocks = _ordered(self.stack)
        # Resources gone from the stack go first, so that one renamed in the
        # code but keeping its Vault name is not deleted after its successor.
        declared = {block.address for block in blocks if block.kind == "resource"}
        for address in reversed(list(self.recorded)):
            if address not in declared:
                self._delete(address)
        for order, block in enumerate(blocks):
            if block.kind == "local":
                self.values["local"][block.name] = self._evaluate(block.body)
            elif block.kind == "data":
                found = self.values["data"].setdefault(block.type, {})
                found[block.name] = self._read(block)
            elif self._counted_out(block):
                if block.address in self.recorded:
                    self._delete(block.address)
            else:
                self._apply(block, order)
        self.state.stacks[self.stack.name] = {
            "digest": self.stack.digest,
            "outputs": {
                name: self._evaluate(output["value"])
                for name, output in self.stack.outputs().items()
            },
        }
        self.state.save()

    def _scope(self, root: str) -> Any:
        if root == "path":
            return {"module": str(self.stack.workdir), "root": str(self.stack.workdir)}
        if root == "terraform":
            return {"workspace": "default"}
        if root in self.values:
            return self.values[root]
        if root in registry.RESOURCES:
            return self.values.setdefault(root, {})
        raise expressions.ExpressionError(f"{self.stack.name}: unknown name {root!r}")

    def _evaluate(self, value: Any) -> Any:
        token = functions.base_dir.set(str(self.stack.workdir))
        try:
            return expressions.evaluate(value, self._scope)
        finally:
            functions.base_dir.reset(token)

    def _read(self, block: Block) -> dict:
        config = self._evaluate(registry.without_meta(block.body))
        if block.type == REMOTE_STATE:
            producer = block.name.removeprefix(CROSS_STACK_INPUT)
            outputs = self.state.outputs(producer)
            if outputs is None:
                raise ConfigError(
                    f"{self.stack.name}: {block.address}: "
                    f"stack {producer} was not applied"
                )
            return {**config, "outputs": outputs}
        return registry.DATA_SOURCES[block.type](self.ctx, config)

    def _counted_out(self, block: Block) -> bool:
        if "count" not in block.body:
            return False
        count = self._evaluate(block.body["count"])
        if int(count) == 0:
            self.echo(f"skip     {self.stack.name}: {block.address} (count = 0)")
            self.report.skipped.append(block.address)
            return True
        if int(count) != 1:
            raise Unsupported(
                f"{self.stack.name}: {block.address}: count = {count}; the sandbox "
                "applies count 0 or 1 only"
            )
        return False

    def _apply(self, block: Block, order: int) -> None:
        handler = registry.RESOURCES[block.type]
        config = self._evaluate(registry.without_meta(block.body))
        digest = _digest(
            config, block.body.get("lifecycle", {}).get("ignore_changes", [])
        )
        previous = self.recorded.get(block.address)
        key = f"{self.stack.name}:{block.address}"

        if (
            previous
            and previous["digest"] == digest
            and not registry.needs_replacement(
                handler, self.ctx, previous["attributes"]
            )
        ):
            attributes = previous["attributes"]
        elif previous:
            action = "replace" if previous["digest"] == digest else "update"
            self._announce(action, block)
            attributes = handler.update(self.ctx, previous["attributes"], config)
        else:
            self._announce("create", block)
            attributes = handler.create(self.ctx, config)

        self.values.setdefault(block.type, {})[block.name] = attributes
        self.state.resources[key] = {
            "type": block.type,
            "digest": digest,
            "order": order,
            "attributes": attributes,
        }
        if previous is None or previous["attributes"] is not attributes:
            self.state.save()

    def _delete(self, address: str) -> None:
        entry = self.recorded[address]
        handler = registry.RESOURCES.get(entry["type"])
        if handler is None:
            raise Unsupported(
                f"{self.stack.name}: {address}: cannot delete a {entry['type']}"
            )
        change = Change("delete", self.stack.name, address)
        self.report.changes.append(change)
        self.echo(str(change))
        handler.delete(self.ctx, entry["attributes"])
        del self.state.resources[f"{self.stack.name}:{address}"]
        self.state.save()

    def _announce(self, action: str, block: Block) -> None:
        change = Change(action, self.stack.name, block.address)
        self.report.changes.append(change)
        self.echo(str(change))
        logger.info("%s", change)


def _digest(config: dict, ignored: list[str]) -> str:
    relevant = {k: v for k, v in config.items() if k not in ignored}
    text = json.dumps(relevant, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
