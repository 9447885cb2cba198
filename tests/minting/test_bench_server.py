"""The benchmarks' throwaway server keeps its root token off command lines."""

from __future__ import annotations

import sys
from pathlib import Path

from consentvault.settings import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "bench"))

from devserver import bench_server  # noqa: E402


def command_lines_holding(value: str) -> list[str]:
    """Process ids whose command line contains `value` (only ids are kept)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if value.encode() in cmdline.read_bytes():
                found.append(cmdline.parent.name)
        except OSError:
            continue  # the process ended meanwhile, or is not ours to read
    return found


def test_root_token_is_not_on_any_command_line():
    with bench_server() as server:
        assert server.root().auth.token.lookup_self()["data"]["policies"] == ["root"]
        assert command_lines_holding(server.root_token) == []
