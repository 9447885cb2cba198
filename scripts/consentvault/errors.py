"""The errors the commands raise on purpose, each with its exit code.

    ConsentVaultError            1  (base; anything unexpected stays a traceback)
    ├── UsageError               2  bad flag or argument value
    ├── ConfigError              3  environment file or settings
    ├── VaultUnavailable         4  unreachable, sealed, not initialised
    ├── PermissionDenied         5  Vault said 403, or a login failed
    ├── NotFound                 6  unknown tenant, state or credential
    ├── ConsentError             7  declined, missing, expired or replayed
    ├── Conflict                 8  check-and-set lost, state already used
    ├── IdentityPlatformUnavailable 9  throttled or 5xx after retries
    └── Unsupported              10 the server lacks what was asked for

Messages name what failed and where (tenant id, Vault path, accessor,
correlation id), never a secret value. `cli.main` is the only place that
catches these and turns them into an exit code.
"""

from __future__ import annotations


class ConsentVaultError(Exception):
    exit_code = 1


class UsageError(ConsentVaultError):
    exit_code = 2


class ConfigError(ConsentVaultError):
    exit_code = 3


class VaultUnavailable(ConsentVaultError):
    exit_code = 4


class PermissionDenied(ConsentVaultError):
    exit_code = 5


class NotFound(ConsentVaultError):
    exit_code = 6


class ConsentError(ConsentVaultError):
    exit_code = 7


class Conflict(ConsentVaultError):
    exit_code = 8


class IdentityPlatformUnavailable(ConsentVaultError):
    exit_code = 9


class Unsupported(ConsentVaultError):
    exit_code = 10
