"""Background processes of the sandbox, started and stopped by process id.

Each process gets its own session (so a terminal's Ctrl-C does not reach it),
a log file and a pid file. Stopping checks that the pid still belongs to the
process we started (its command line names our sandbox folder), so a recycled
pid is never signalled.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

logger = logging.getLogger(__name__)

# Children started by this Python process, kept so they can be waited for
# (reaped) and so their Popen objects never warn about a running child.
_children: dict[int, subprocess.Popen[bytes]] = {}


def start_background(
    argv: list[str], *, pid_file: Path, log_file: Path, cwd: Path, env: dict | None
) -> int:
    """Start `argv` detached, record its pid, return the pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[process.pid] = process
    pid_file.write_text(f"{process.pid}\n")
    logger.info(
        "started %s (pid %d), log %s", Path(argv[0]).name, process.pid, log_file
    )
    return process.pid


def port_is_free(port: int) -> bool:
    """True if nothing listens on 127.0.0.1:`port` (so our server can bind it)."""
    with socket.socket() as probe:
        # As servers do: connections of a stopped server in TIME_WAIT do not
        # keep its port from being listened on again.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def running_pid(pid_file: Path, marker: str) -> int | None:
    """The recorded pid if that process is alive and its command line has `marker`."""
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    child = _children.get(pid)
    if child is not None:
        # Our own child: between fork and exec its command line is still ours,
        # not the server's, so ask the process object instead.
        return pid if child.poll() is None else None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return None
    if marker.encode() not in cmdline or _is_zombie(pid):
        return None
    return pid


def stop_pid(pid: int, *, timeout: float = 10.0) -> None:
    """SIGTERM, wait up to `timeout` seconds, then SIGKILL."""
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    logger.warning("pid %d ignored SIGTERM for %.0f s; killing it", pid, timeout)
    _signal(pid, signal.SIGKILL)
    while _alive(pid):
        time.sleep(0.05)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _is_zombie(pid)


def _reap(pid: int) -> None:
    # A child of this very process must be waited for, or it stays a zombie.
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        del _children[pid]


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"
