"""Secret files (root token, recovery keys, seal key, `mint --out`) are private."""

from __future__ import annotations

import os
import stat

from consentvault.sandbox.paths import write_private


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_is_owner_only_and_folder_is_created(tmp_path):
    target = tmp_path / "openbao" / "root-token"

    write_private(target, "s.example")

    assert target.read_text() == "s.example"
    assert _mode(target) == 0o600
    assert os.listdir(target.parent) == ["root-token"]


def test_a_planted_partial_symlink_is_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("untouched")
    target = tmp_path / "root-token"
    (tmp_path / "root-token.partial").symlink_to(elsewhere)

    write_private(target, "secret")

    assert elsewhere.read_text() == "untouched"
    assert target.read_text() == "secret" and not target.is_symlink()


def test_a_leftover_loose_file_does_not_loosen_the_new_one(tmp_path):
    target = tmp_path / "recovery-keys.json"
    for leftover in (target, tmp_path / "recovery-keys.json.partial"):
        leftover.write_text("old")
        leftover.chmod(0o644)

    write_private(target, b"{}")

    assert target.read_bytes() == b"{}"
    assert _mode(target) == 0o600
