"""Files that hold secrets: only their owner may read them, none half-written."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, data: bytes | str) -> None:
    """Create or replace `path` with mode 0600, never visible half-written.

    The data goes to a fresh file beside `path` (`mkstemp`: created
    exclusively with mode 0600, so neither a symlink nor a leftover file with a
    looser mode is reused), which then replaces `path` in one rename. An
    OSError is left for the caller to put in its own words.
    """
    import tempfile  # `mint --out` needs it, plain minting should not pay for it

    raw = data.encode() if isinstance(data, str) else data
    directory = path.parent if str(path.parent) else Path(".")
    fd, partial = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
