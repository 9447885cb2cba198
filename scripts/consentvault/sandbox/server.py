"""What every sandbox server shares: launch, wait until ready, stop by pid.

A server lives in its own folder with a pid file and a log file, listens on
one loopback port and runs with the project root as its working directory.
Subclasses say only what differs: the command line, what to prepare before
it starts, when it is ready, and the error raised when it never gets there.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

from tenacity import retry, retry_if_result, stop_after_delay, wait_fixed

from consentvault.errors import ConfigError, ConsentVaultError
from consentvault.sandbox.process import (
    port_is_free,
    running_pid,
    start_background,
    stop_pid,
)
from consentvault.settings import PROJECT_ROOT

Probe = TypeVar("Probe")


class BackgroundServer(ABC):
    """One background server process; subclasses set the attributes below."""

    # The setting that holds the port, named when the port is taken.
    port_setting: str
    startup_timeout_seconds: float

    dir: Path
    port: int
    environment_file: Path

    @property
    def pid_file(self) -> Path:
        return self.dir / "pid"

    @property
    def log_file(self) -> Path:
        return self.dir / "server.log"

    def pid(self) -> int | None:
        return running_pid(self.pid_file, self._pid_marker())

    def start(self) -> bool:
        """Start unless running and wait until it serves. True if it started."""
        started = self.launch()
        if started:
            self.wait_ready()
        return started

    def launch(self) -> bool:
        """Start the process unless it runs; do not wait. True if it started."""
        if self.pid() is not None:
            return False
        self._refuse_taken_ports()
        self._prepare()
        start_background(
            self._argv(),
            pid_file=self.pid_file,
            log_file=self.log_file,
            cwd=PROJECT_ROOT,
            env=None,
        )
        return True

    def listening_ports(self) -> dict[int, str]:
        """Every port the server listens on -> the setting that moves it."""
        return {self.port: self.port_setting}

    def _refuse_taken_ports(self) -> None:
        for port, setting in self.listening_ports().items():
            if not port_is_free(port):
                raise ConfigError(
                    f"127.0.0.1:{port} is taken by another process; pick another "
                    f"port in {setting} of {self.environment_file}"
                )

    @abstractmethod
    def wait_ready(self) -> None:
        """Wait until the server serves; raise if it never does."""

    def stop(self) -> bool:
        """Stop the server by its recorded pid. True if one was running."""
        pid = self.pid()
        if pid is None:
            return False
        stop_pid(pid)
        self.pid_file.unlink(missing_ok=True)
        return True

    def _wait_for(
        self, probe: Callable[[], Probe], ready: Callable[[Probe], bool]
    ) -> Probe:
        """Call `probe` until `ready` accepts its answer; return that answer."""
        poll = retry(
            retry=retry_if_result(lambda answer: not ready(answer)),
            # A server that exited (bad config or arguments) fails at once.
            stop=stop_after_delay(self.startup_timeout_seconds) | self._exited,
            wait=wait_fixed(0.05),
            retry_error_callback=lambda state: self._startup_failed(),
        )
        return poll(probe)()

    def _exited(self, retry_state) -> bool:
        return self.pid() is None

    def _startup_failed(self) -> NoReturn:
        pid = self.pid()
        if pid is not None:
            stop_pid(pid)
        # Another process may have bound a port between our check and the
        # server's own bind: that is a setting to change, not a failing server.
        self._refuse_taken_ports()
        raise self._not_ready_error()

    @abstractmethod
    def _pid_marker(self) -> str:
        """Text in the command line that proves a recorded pid is still ours."""

    @abstractmethod
    def _prepare(self) -> None:
        """Write what the process needs before it starts."""

    @abstractmethod
    def _argv(self) -> list[str]: ...

    @abstractmethod
    def _not_ready_error(self) -> ConsentVaultError: ...
