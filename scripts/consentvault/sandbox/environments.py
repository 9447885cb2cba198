"""Another sandbox beside the default one: its own ports and its own folder.

`environments/local.toml` runs the sandbox on ports 18200 (OpenBao), 18443
(the Entra stand-in) and 18765 (the consent callback) with its files in
`.sandbox/`. A second sandbox on the same machine needs other ports in seven
places and other paths for its CA bundle and audit log; `write_environment`
derives all of them from one port base, so `CONSENTVAULT_ENV=NAME` is enough.
"""

from __future__ import annotations

import re
import shlex
import tempfile
from pathlib import Path

from consentvault.errors import ConfigError, UsageError
from consentvault.sandbox.paths import folder_name
from consentvault.settings import (
    DEFAULT_ENVIRONMENT,
    ENVIRONMENTS_DIR,
    Settings,
    load_settings,
)

# The default sandbox's ports, in the order the port base replaces them.
_LOCAL_PORTS = (18200, 18443, 18765)
_LOCAL_FOLDER = ".sandbox/"
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
# The tracked environment files, which init-env must never overwrite.
RESERVED_NAMES = (DEFAULT_ENVIRONMENT, "example")
# OpenBao's cluster listener takes the port after these (see openbao.py).
PORTS_PER_SANDBOX = len(_LOCAL_PORTS) + 1
HIGHEST_PORT_BASE = 65535 - PORTS_PER_SANDBOX + 1


def write_environment(
    name: str,
    port_base: int,
    *,
    replace: bool = False,
    directory: Path = ENVIRONMENTS_DIR,
) -> Path:
    """Write `environments/<name>.toml`: local.toml on ports `port_base`..+3.

    OpenBao gets `port_base`, the stand-in `port_base + 1`, the consent
    callback `port_base + 2`, OpenBao's cluster listener `port_base + 3`;
    every path under `.sandbox/` moves to the environment's own folder. The
    file is validated before it is written.
    """
    if not _NAME.match(name) or name in RESERVED_NAMES:
        raise UsageError(
            f"--name {name!r}: lower-case letters, digits and '-', starting with a "
            f"letter, and not {' or '.join(map(repr, RESERVED_NAMES))}"
        )
    if not 1024 <= port_base <= HIGHEST_PORT_BASE:
        raise UsageError(
            f"--port-base {port_base}: between 1024 and {HIGHEST_PORT_BASE}"
        )
    target = directory / f"{name}.toml"
    if target.exists() and not replace:
        raise UsageError(f"{target} exists; pass --replace to overwrite it")

    local = load_settings(DEFAULT_ENVIRONMENT).source
    text = _derive(local.read_text(encoding="utf-8"), name, port_base)
    with tempfile.TemporaryDirectory() as scratch:
        draft = Path(scratch) / target.name
        draft.write_text(text, encoding="utf-8")
        load_settings(path=draft)
    target.write_text(text, encoding="utf-8")
    return target


def _derive(text: str, name: str, port_base: int) -> str:
    for offset, port in enumerate(_LOCAL_PORTS):
        if f"127.0.0.1:{port}" not in text:
            raise ConfigError(f"environments/local.toml no longer uses port {port}")
        text = text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{port_base + offset}")
    text = text.replace(f'"{_LOCAL_FOLDER}', f'"{folder_name(name)}/')
    text, count = re.subn(r'(?m)^name = "local"$', f'name = "{name}"', text)
    if count != 1:
        raise ConfigError('environments/local.toml has no `name = "local"` line')
    header = (
        f"# Written by `consentvault sandbox init-env --name {name} --port-base "
        f"{port_base}`\n# from environments/local.toml: ports {port_base}-"
        f"{port_base + PORTS_PER_SANDBOX - 1}, files in "
        f"{folder_name(name)}/.\n"
    )
    return header + text


def named_environment(settings: Settings) -> str | None:
    """NAME when the settings come from environments/NAME.toml, else None."""
    source = settings.source
    if source is None:
        return DEFAULT_ENVIRONMENT
    source = Path(source).resolve()
    if source.parent != ENVIRONMENTS_DIR.resolve() or source.suffix != ".toml":
        return None
    return source.stem if _NAME.match(source.stem) else None


def synth_command(settings: Settings) -> str:
    """The command that synthesizes these settings' environment into cdktf.out/."""
    name = named_environment(settings)
    if name is not None:
        return f"make synth ENV={name}"
    return f"CONSENTVAULT_ENV_FILE={shlex.quote(str(settings.source))} make synth"
