"""Every minting, revoking and audit command explains itself in --help."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from consentvault.cli import cli

COMMANDS = [
    ["mint", "vault-token"],
    ["mint", "graph-token"],
    ["mint", "azure-sp"],
    ["revoke"],
    ["audit", "verify"],
    ["tenant", "remove"],
    ["demo"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    summary = result.output.split("\n\n")[1].strip()
    assert summary and summary[0].isupper() and summary.endswith(".")
    assert "Example" in result.output
