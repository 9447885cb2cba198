"""Run the stand-in as a background process.

    python -m consentvault.sandbox.entra --dir D --port P --control-token-file F

Writes its pid to `--pid-file` (default `D/standin.pid`) and its base URL to
`D/url`; prints where it listens and nothing secret. SIGTERM stops it.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

import click

from consentvault.errors import ConfigError
from consentvault.sandbox.entra.directory import TenantSpec
from consentvault.sandbox.entra.server import HOST, build_server


def _stop(signum, frame) -> None:
    raise SystemExit(0)


@click.command()
@click.option(
    "--dir",
    "state_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the stand-in's state (created if missing).",
)
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--control-token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding the control token; without it /_control is off.",
)
@click.option(
    "--pki-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the local CA and server certificate (default: DIR/pki).",
)
@click.option("--pid-file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--customer",
    "customers",
    multiple=True,
    help="Display name of a customer tenant to create on first start "
    "(repeatable; default: Contoso, Fabrikam, Northwind Traders).",
)
def main(
    state_dir: Path,
    port: int,
    control_token_file: Path | None,
    pki_dir: Path | None,
    pid_file: Path | None,
    customers: tuple[str, ...],
) -> None:
    """Serve the Entra stand-in over HTTPS on 127.0.0.1."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    control_token = None
    if control_token_file:
        control_token = control_token_file.read_text(encoding="utf-8").strip()
        if not control_token:
            raise click.UsageError(f"{control_token_file} is empty")
    try:
        server, ca_file = build_server(
            state_dir,
            port=port,
            control_token=control_token,
            pki_dir=pki_dir,
            customers=tuple(TenantSpec(name) for name in customers) or None,
        )
    except (OSError, ValueError) as exc:
        # A port in use, an unreadable folder or a damaged state file.
        click.echo(f"Error: cannot start the stand-in in {state_dir}: {exc}", err=True)
        sys.exit(ConfigError.exit_code)
    base_url = f"https://{HOST}:{server.server_port}"
    pid_file = pid_file or state_dir / "standin.pid"
    pid_file.write_text(f"{os.getpid()}\n")
    (state_dir / "url").write_text(base_url + "\n")
    signal.signal(signal.SIGTERM, _stop)
    click.echo(f"Entra stand-in listening on {base_url} (CA {ca_file})")
    sys.stdout.flush()
    try:
        server.serve_forever()
    finally:
        server.server_close()
        pid_file.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
