"""One sandbox: its OpenBao, its Entra stand-in and the offline apply.

The commands and the test fixtures both drive the sandbox through `Sandbox`,
so `consentvault sandbox up` and a test session behave the same way.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import hvac

from consentvault.errors import ConfigError, VaultUnavailable
from consentvault.sandbox.apply.engine import ApplyReport, apply_stacks
from consentvault.sandbox.apply.graph_client import GraphAdmin
from consentvault.sandbox.apply.stacks import Stack, read_stacks, stacks_digest
from consentvault.sandbox.apply.state import ApplyState
from consentvault.sandbox.environments import synth_command
from consentvault.sandbox.openbao import OpenBaoServer
from consentvault.sandbox.paths import SandboxPaths
from consentvault.sandbox.standin import StandinProcess
from consentvault.settings import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)

# Where `python main.py` (cdktf) writes; cdktf itself honours the variable.
OUTDIR_VARIABLE = "CDKTF_OUTDIR"
# What a synth is made from: newer than the synthesized JSON means stale.
SYNTH_SOURCES = ("main.py", "stacks", "policies")

DEPLOY_NOTE = (
    "Applied offline to the sandbox. Real environments are deployed with "
    "`cdktf deploy`, never with this command."
)


def default_outdir() -> Path:
    return Path(os.environ.get(OUTDIR_VARIABLE) or PROJECT_ROOT / "cdktf.out")


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    address: str
    pid: int | None


class Sandbox:
    def __init__(self, settings: Settings, paths: SandboxPaths | None = None) -> None:
        self.settings = settings
        self.paths = paths or SandboxPaths.from_environment(environment=settings.name)
        self.openbao = OpenBaoServer(settings, self.paths)
        self.standin = StandinProcess(settings, self.paths)

    # Processes

    def start(self) -> list[str]:
        """Start whatever is not running; the names of what was started.

        Both processes start at once and are then waited for; if either fails,
        what this call started is stopped again.
        """
        self.paths.root.mkdir(parents=True, exist_ok=True)
        launched = []
        try:
            for name, process in self._parts():
                if process.launch():
                    launched.append((name, process))
            for _, process in launched:
                process.wait_ready()
        except BaseException:
            for _, process in launched:
                process.stop()
            raise
        return [name for name, _ in launched]

    def unseal(self) -> bool:
        """Make a running OpenBao serve again if it was sealed. True if it was.

        The static seal unseals only when the server starts, so a sealed one
        (`bao operator seal`, or a test) is restarted.
        """
        health = self.openbao.health() if self.openbao.pid() else None
        if health is None:
            raise VaultUnavailable(
                f"OpenBao at {self.openbao.address} does not answer; see "
                f"{self.openbao.log_file}, or `consentvault sandbox down` and `up`"
            )
        if not health.sealed:
            return False
        logger.info("OpenBao at %s is sealed; restarting it", self.openbao.address)
        self.openbao.stop()
        self.openbao.start()
        return True

    def _parts(self):
        return [("entra stand-in", self.standin), ("openbao", self.openbao)]

    def stop(self) -> list[str]:
        stopped = []
        if self.openbao.stop():
            stopped.append("openbao")
        if self.standin.stop():
            stopped.append("entra stand-in")
        return stopped

    def processes(self) -> list[ProcessStatus]:
        return [
            ProcessStatus("openbao", self.openbao.address, self.openbao.pid()),
            ProcessStatus("entra stand-in", self.standin.authority, self.standin.pid()),
        ]

    # Clients

    def vault_client(self) -> hvac.Client:
        verify = str(self.openbao.ca_file) if self.openbao.ca_file else True
        return hvac.Client(
            url=self.openbao.address, token=self.openbao.root_token(), verify=verify
        )

    def graph_admin(self) -> GraphAdmin:
        return GraphAdmin(
            authority_host=self.settings.entra.authority_host,
            graph_url=self.settings.entra.graph_url,
            credential_file=self.standin.provisioner_file,
            ca_file=self.paths.ca_file,
        )

    # The offline apply

    def stacks(self, outdir: Path | None = None, *, fresh: bool = True) -> list[Stack]:
        """The synthesized stacks; with `fresh`, refuse them if sources are newer."""
        outdir = outdir or default_outdir()
        stacks = read_stacks(
            outdir, self.settings.name, synth_command=self.synth_command
        )
        if fresh:
            _refuse_stale(stacks, self.settings, self.synth_command)
        return stacks

    @property
    def synth_command(self) -> str:
        """What synthesizes this sandbox's environment (`make synth ENV=NAME`)."""
        return synth_command(self.settings)

    def apply(
        self,
        outdir: Path | None = None,
        *,
        stacks: list[Stack] | None = None,
        echo: Callable[[str], None] = print,
        fresh: bool = True,
    ) -> ApplyReport:
        """Apply `stacks`, or the synth in `outdir` (refused if stale, unless not
        `fresh`)."""
        stacks = stacks or self.stacks(outdir, fresh=fresh)
        admin: list[GraphAdmin] = []

        def entra() -> GraphAdmin:
            if not admin:
                admin.append(self.graph_admin())
            return admin[0]

        return apply_stacks(
            stacks, self.paths.state_file, self.vault_client(), entra, echo=echo
        )

    def applied_digest(self) -> str | None:
        return ApplyState.load(self.paths.state_file).applied_digest

    def recorded_resources(self) -> int:
        """How many resources the apply state records (also of an unfinished one)."""
        return len(ApplyState.load(self.paths.state_file).resources)

    def synth_digest(self, outdir: Path | None = None) -> str | None:
        try:
            stacks = read_stacks(outdir or default_outdir(), self.settings.name)
        except ConfigError:
            return None
        return stacks_digest(stacks)


def _refuse_stale(stacks: list[Stack], settings: Settings, command: str) -> None:
    synthesized = min(stack.file.stat().st_mtime for stack in stacks)
    sources = [PROJECT_ROOT / name for name in SYNTH_SOURCES]
    if settings.source is not None:
        sources.append(Path(settings.source))
    newest = max((_newest_mtime(path) for path in sources), default=0.0)
    if newest > synthesized:
        raise ConfigError(
            f"the synthesized stacks in {stacks[0].file.parents[2]} are older than "
            f"the stacks, policies or environment file; run `{command}`"
        )


def _newest_mtime(path: Path) -> float:
    if path.is_file():
        return path.stat().st_mtime
    if path.is_dir():
        files = [
            p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
        ]
        return max((p.stat().st_mtime for p in files), default=0.0)
    return 0.0
