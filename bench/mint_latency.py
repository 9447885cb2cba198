"""Whole-process latency: `consentvault mint vault-token` against `bao token
create` with the same role, entity alias, caller token and server.

Runs are paired and interleaved (each pair in random order), so both sides
see the same machine load; the ratio is taken per pair. Target: median ratio
at most 1.5.

    .venv/bin/python bench/mint_latency.py --pairs 40
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from devserver import bao_binary, bench_server

from consentvault.settings import PROJECT_ROOT

TARGET = 1.5


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{command[0]} failed ({done.returncode}): {done.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    # As `make setup` does: the commands' bytecode exists before they run.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(PROJECT_ROOT / "scripts")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with bench_server() as server:
        tenant = server.tenant_id
        baseline = [
            str(bao_binary()),
            "token",
            "create",
            f"-role={server.settings.vault.token_role}",
            f"-entity-alias={tenant}",
            "-format=json",
        ]
        ours = [
            str(Path(sys.executable).parent / "consentvault"),
            "mint",
            "vault-token",
            "--tenant",
            tenant,
            "--format",
            "json",
        ]
        sides = {"bao token create": baseline, "consentvault mint": ours}
        for _ in range(args.warmup):
            for command in sides.values():
                timed(command, server.env)
        times: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(args.pairs):
            order = list(sides)
            random.shuffle(order)
            for name in order:
                times[name].append(timed(sides[name], server.env))

    base, mine = times["bao token create"], times["consentvault mint"]
    ratios = sorted(m / b for m, b in zip(mine, base, strict=True))
    median_ratio = statistics.median(ratios)
    print(f"pairs: {args.pairs} (after {args.warmup} warm-up pairs), TLS, same server")
    for name, values in times.items():
        print(
            f"{name:18} median {statistics.median(values) * 1000:6.1f} ms  "
            f"min {min(values) * 1000:6.1f} ms  max {max(values) * 1000:6.1f} ms"
        )
    print(
        f"ratio per pair: median {median_ratio:.2f}, "
        f"p90 {ratios[int(len(ratios) * 0.9) - 1]:.2f} (target <= {TARGET})"
    )
    print("PASS" if median_ratio <= TARGET else "FAIL")


if __name__ == "__main__":
    main()
