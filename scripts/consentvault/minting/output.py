"""Where a minted secret goes: `--format json|env|github|plain`.

The secret is written only where the caller asked (stdout, `--out`, or
`$GITHUB_OUTPUT`); identifiers (accessor, lease id, expiry, tenant) are safe
to log and are part of `json` output. `check_destination` runs before a
credential is minted, so a destination that cannot be written costs nothing.

    json    one object: the secret(s) plus every fact about the credential
    env     NAME=value lines on stdout, or in `--out FILE` (mode 0600)
    github  `::add-mask::` for each secret on stdout, name=value lines
            appended to $GITHUB_OUTPUT (created with mode 0600 if missing)
    plain   the main secret alone, for `$(consentvault mint ... )`
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from consentvault import errors

FORMATS = ("json", "env", "github", "plain")


@dataclass(frozen=True)
class Secret:
    """One secret value: its json/github key and its environment variable name."""

    key: str
    env_name: str
    value: str = field(repr=False)


@dataclass(frozen=True)
class Credential:
    facts: dict[str, Any]
    # The first one is what `plain` prints.
    secrets: tuple[Secret, ...]


def check_destination(output_format: str, out_file: Path | None) -> None:
    """Refuse a destination that cannot be written, before anything is minted."""
    if out_file is not None and output_format != "env":
        raise errors.UsageError("--out is only for --format env")
    if out_file is not None:
        _check_writable(out_file, "--out")
    if output_format == "github":
        target = os.environ.get("GITHUB_OUTPUT", "").strip()
        if not target:
            raise errors.UsageError(
                "--format github needs $GITHUB_OUTPUT (a GitHub job)"
            )
        _check_writable(Path(target), "$GITHUB_OUTPUT")


def _check_writable(path: Path, name: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise errors.UsageError(f"{name} {path}: is a folder, not a file")
    if not folder.is_dir():
        raise errors.UsageError(f"{name} {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise errors.UsageError(f"{name} {path}: the folder {folder} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise errors.UsageError(f"{name} {path}: the file is not writable")


def emit(
    credential: Credential,
    output_format: str,
    *,
    stdout: TextIO,
    out_file: Path | None = None,
) -> None:
    """Write the credential in `output_format`."""
    if out_file is not None and output_format != "env":
        raise errors.UsageError("--out is only for --format env")
    if output_format == "json":
        values = {secret.key: secret.value for secret in credential.secrets}
        stdout.write(json.dumps({**credential.facts, **values}, indent=2) + "\n")
    elif output_format == "env":
        lines = "".join(f"{s.env_name}={s.value}\n" for s in credential.secrets)
        if out_file is None:
            stdout.write(lines)
        else:
            write_private_file(out_file, lines)
    elif output_format == "github":
        write_github(credential, stdout)
    elif output_format == "plain":
        stdout.write(credential.secrets[0].value + "\n")
    else:
        raise errors.UsageError(f"--format must be one of {', '.join(FORMATS)}")
    stdout.flush()


def write_github(credential: Credential, stdout: TextIO) -> None:
    """Mask each secret in the job log, then hand values to later steps."""
    target = os.environ.get("GITHUB_OUTPUT", "").strip()
    if not target:
        raise errors.UsageError("--format github needs $GITHUB_OUTPUT (a GitHub job)")
    for secret in credential.secrets:
        stdout.write(f"::add-mask::{secret.value}\n")
    stdout.flush()
    lines = [f"{secret.key}={secret.value}" for secret in credential.secrets]
    for key in ("tenant_id", "accessor", "expires_at", "lease_id"):
        if credential.facts.get(key):
            lines.append(f"{key}={credential.facts[key]}")
    # GitHub provides the file; one made here holds secrets, so only the
    # owner may read it. An existing file keeps its mode.
    try:
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines))
    except OSError as exc:
        message = f"$GITHUB_OUTPUT {target}: cannot write there ({exc.strerror})"
        raise errors.UsageError(message) from None


def write_private_file(path: Path, text: str) -> None:
    """Create or replace `path` with mode 0600, never visible half-written."""
    from consentvault.files import write_private

    try:
        write_private(path, text)
    except OSError as exc:
        message = f"--out {path}: cannot write there ({exc.strerror})"
        raise errors.UsageError(message) from None
