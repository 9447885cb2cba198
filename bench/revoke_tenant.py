"""Revoke by tenant with many outstanding credentials: every one must be
refused within 1 s of the command's start.

Probing 1,000 tokens takes this 2-core machine longer than a second while the
command is revoking them, so a sweep alone cannot time each refusal. The
claim is shown in two phases instead:

A. the mechanism: disabling the tenant's entity (the one call the command
   makes first) is applied on its own; then every token is refused although
   none is revoked (their accessors still resolve), and all work again once
   the entity is enabled. So every token stops at the instant of that call.
B. the command: `consentvault revoke --tenant T` is started as a process and
   one token is polled until refused; that instant (from the command's start)
   is when the call took effect for all. A full sweep follows, and another
   after the command has revoked each token one by one.

A few tokens of another tenant must keep working throughout.

    .venv/bin/python bench/revoke_tenant.py --tokens 1000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from devserver import bench_server

from consentvault import errors
from consentvault.minting.light_settings import load_mint_settings
from consentvault.minting.revocation import (
    set_entity_disabled,
    tenant_entity,
    token_mount_accessor,
)
from consentvault.minting.vault_token import mint_vault_token
from consentvault.minting.vaulthttp import VaultHTTP
from consentvault.records import TenantRecord, TenantRecords

TARGET_SECONDS = 1.0
THREADS = 8


def refused(client: VaultHTTP, path: str, token: str | None = None) -> bool:
    """Whether the server refuses `token` (else the client's own) on `path`."""
    try:
        client.request("GET", path, action="probe", token=token)
    except errors.PermissionDenied:
        return True
    return False


class Prober:
    """Probes many tokens over a few kept-alive connections, one per thread."""

    def __init__(self, server, path: str) -> None:
        self.path = path
        self.clients = [
            VaultHTTP(server.address, token="unused", ca_file=str(server.ca_file))
            for _ in range(THREADS)
        ]

    def sweep(self, tokens: list[str]) -> list[bool]:
        slices = [tokens[i::THREADS] for i in range(THREADS)]

        def run(index: int) -> list[bool]:
            client = self.clients[index]
            return [refused(client, self.path, token) for token in slices[index]]

        with ThreadPoolExecutor(THREADS) as pool:
            return [flag for part in pool.map(run, range(THREADS)) for flag in part]

    def close(self) -> None:
        for client in self.clients:
            client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1000)
    args = parser.parse_args()

    with bench_server() as server:
        settings = load_mint_settings(path=server.settings.source)
        tenant = server.tenant_id
        bystander = str(uuid.uuid4())
        TenantRecords(server.root(), server.settings).create(
            TenantRecord(tenant_id=bystander, mode="admin")
        )

        def mint_for(tenant_id: str, count: int) -> list[str]:
            def one(_: int) -> str:
                with VaultHTTP(
                    server.address,
                    token=server.minter_token,
                    ca_file=str(server.ca_file),
                ) as client:
                    return mint_vault_token(
                        client, settings, tenant_id, metadata={}
                    ).token

            with ThreadPoolExecutor(THREADS) as pool:
                return list(pool.map(one, range(count)))

        started = time.perf_counter()
        tokens = mint_for(tenant, args.tokens)
        others = mint_for(bystander, 5)
        print(
            f"minted {len(tokens)} tokens for {tenant} "
            f"in {time.perf_counter() - started:.1f} s"
        )

        path = settings.tenant_path(tenant)
        prober = Prober(server, path)
        sentinel = prober.clients[0]
        assert not any(prober.sweep(tokens)), "fresh tokens must work"
        operator = VaultHTTP(
            server.address, token=server.operator_token, ca_file=str(server.ca_file)
        )
        # Only to tell revoked tokens from refused ones; the command never has it.
        root = operator.with_token(server.root_token)
        sample = tokens[:: max(1, len(tokens) // 50)]

        # Phase A: the entity switch alone stops every token.
        entity = tenant_entity(operator, token_mount_accessor(operator), tenant)
        set_entity_disabled(operator, entity["id"], True)
        disabled_sweep = prober.sweep(tokens)
        still_exist = sum(_exists(root, t) for t in sample)
        set_entity_disabled(operator, entity["id"], False)
        enabled_sweep = prober.sweep(tokens)

        # Phase B: the command, timed from its start.
        env = {**server.env, "VAULT_TOKEN": server.operator_token}
        command = [
            str(Path(sys.executable).parent / "consentvault"),
            "revoke",
            "--tenant",
            tenant,
        ]
        start = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        while not refused(sentinel, path, tokens[-1]):
            time.sleep(0.002)
        first_refusal = time.perf_counter() - start
        command_sweep = prober.sweep(tokens)
        swept = time.perf_counter() - start
        stdout, stderr = process.communicate(timeout=600)
        finished = time.perf_counter() - start
        if process.returncode != 0:
            sys.exit(f"revoke failed ({process.returncode}): {stderr}")
        final_sweep = prober.sweep(tokens)
        revoked = sum(not _exists(root, t) for t in tokens)
        bystander_path = settings.tenant_path(bystander)
        bystanders_ok = not any(refused(sentinel, bystander_path, t) for t in others)
        prober.close()
        operator.close()
        root.close()

    n = len(tokens)
    print(
        f"A. entity disabled alone: {sum(disabled_sweep)}/{n} refused, "
        f"{still_exist} of {len(sample)} sampled still unrevoked; "
        f"enabled again: {n - sum(enabled_sweep)}/{n} work"
    )
    print(f"B. {' '.join(command[1:])}")
    print(f"   -> {stdout.strip()}")
    print(f"   first refusal {first_refusal * 1000:.0f} ms after the command started")
    print(
        f"   sweep right after: {sum(command_sweep)}/{n} refused "
        f"(sweep ended at {swept:.2f} s)"
    )
    print(
        f"   command done after {finished:.2f} s: {sum(final_sweep)}/{n} refused, "
        f"{revoked}/{n} revoked"
    )
    print(f"other tenant's tokens still work: {bystanders_ok}")
    ok = (
        sum(disabled_sweep) == n
        and still_exist == len(sample)
        and sum(enabled_sweep) == 0
        and first_refusal <= TARGET_SECONDS
        and sum(command_sweep) == n
        and sum(final_sweep) == n
        and revoked == n
        and bystanders_ok
    )
    print(
        f"every token refused {first_refusal:.2f} s after the command started "
        f"(target <= {TARGET_SECONDS} s)"
    )
    print("PASS" if ok else "FAIL")


def _exists(root: VaultHTTP, token: str) -> bool:
    """Whether the token is still alive (not revoked), by a lookup of it."""
    try:
        root.write("auth/token/lookup", {"token": token}, "look up a token")
    except (errors.NotFound, errors.UsageError, errors.PermissionDenied):
        return False
    return True


if __name__ == "__main__":
    main()
