"""The CDKTF app: synthesizes the Entra and Vault stacks of one environment.

The environment comes from CONSENTVAULT_ENV (a name under environments/,
default local) or CONSENTVAULT_ENV_FILE (a path to a TOML file). The stacks
are written to cdktf.out/stacks/<env>-entra and <env>-vault.
"""

from __future__ import annotations

import sys

from consentvault.errors import ConfigError


def main() -> int:
    try:
        from consentvault.settings import load_settings

        settings = load_settings()
        # cdktf and the providers take over a second to import; a bad
        # environment file should fail before that.
        from cdktf import App

        from stacks import build_app

        app = App()
        build_app(app, settings)
        app.synth()
    except ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
