"""Where a minted credential goes: checked before minting, revoked if unwritten."""

from __future__ import annotations

import re
import stat

from .helpers import new_tenant, run_cli


def accessors(vault) -> set[str]:
    return set(vault.root.list("auth/token/accessors")["data"]["keys"])


def mint(vault, minter: str, *args: str, **env: str):
    tenant = new_tenant(vault)
    return run_cli(
        ["mint", "vault-token", "--tenant", tenant, *args], vault.env(minter, **env)
    )


def test_an_out_file_in_a_missing_folder_mints_nothing(vault, tmp_path):
    """The token was minted, then the write failed and it stayed alive."""
    minter = vault.token_with("ci_minter")
    before = accessors(vault)
    target = tmp_path / "missing" / "x.env"
    result = mint(vault, minter, "--format", "env", "--out", str(target))
    assert result.exit_code == 2
    assert f"--out {target}: the folder {target.parent} does not exist" in (
        result.stderr
    )
    assert accessors(vault) == before


def test_github_format_without_github_output_mints_nothing(vault):
    """The token was minted before $GITHUB_OUTPUT was found missing."""
    minter = vault.token_with("ci_minter")
    before = accessors(vault)
    result = mint(vault, minter, "--format", "github")
    assert result.exit_code == 2
    assert "--format github needs $GITHUB_OUTPUT" in result.stderr
    assert result.stdout == ""
    assert accessors(vault) == before


def test_a_write_failing_after_the_mint_revokes_the_token(vault):
    """A write that failed after minting left a live, unreported token."""
    minter = vault.token_with("ci_minter")
    before = accessors(vault)
    result = mint(vault, minter, "--format", "github", GITHUB_OUTPUT="/dev/full")
    assert result.exit_code == 2
    found = re.search(r"the minted token \(accessor (\S+)\) was revoked", result.stderr)
    assert found, result.stderr
    assert found.group(1) not in accessors(vault)
    assert accessors(vault) == before


def test_github_output_is_created_private_and_kept_as_found(vault, tmp_path):
    """A missing $GITHUB_OUTPUT was created with mode 0644."""
    minter = vault.token_with("ci_minter")
    created = tmp_path / "created"
    result = mint(vault, minter, "--format", "github", GITHUB_OUTPUT=str(created))
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(created.stat().st_mode) == 0o600

    existing = tmp_path / "existing"
    existing.write_text("")
    existing.chmod(0o640)
    result = mint(vault, minter, "--format", "github", GITHUB_OUTPUT=str(existing))
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640
    assert "token=" in existing.read_text()
