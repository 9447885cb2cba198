"""The `consent` and `tenant` commands' surface: help, tables, JSON, flags."""

from __future__ import annotations

import json
import uuid

import click
import pytest

from consentvault.cli import SUBCOMMANDS, cli
from consentvault.sandbox.entra import approve


def _commands(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, ctx, (*prefix, name))


def _importable_commands():
    ctx = click.Context(cli)
    found = []
    for name in SUBCOMMANDS:
        try:
            command = cli.get_command(ctx, name)
        except ImportError:
            continue  # another engineer's module that has not landed yet
        found.append(((name,), command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, ctx, (name,)))
    return found


def test_every_command_has_help_text():
    commands = _importable_commands()
    names = {path for path, _ in commands}
    assert {("consent", "url"), ("consent", "redeem"), ("consent", "serve")} <= names
    assert {("tenant", "list"), ("tenant", "show")} <= names
    missing = [
        " ".join(path)
        for path, command in commands
        if not (command.help or "").strip() or not command.get_short_help_str().strip()
    ]
    assert missing == []
    for path, command in commands:
        if path[0] not in ("consent", "tenant"):
            continue
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{' '.join(path)} {param.opts[0]} has no help"


@pytest.mark.parametrize(
    "args",
    [
        ["consent", "--help"],
        ["consent", "redeem", "--help"],
        ["tenant", "show", "--help"],
    ],
)
def test_help_runs(cli, consent_env, args):
    result = cli(args, consent_env.env())
    assert result.exit_code == 0
    assert f"consentvault {' '.join(args[:-1])}" in result.stdout
    assert "Example:" in result.stdout or "Commands:" in result.stdout


def _consent(cli, consent_env, tenant: str, mode: str = "admin") -> None:
    url = cli(["consent", "url", "--mode", mode], consent_env.env()).stdout.strip()
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=tenant)
    result = cli(
        ["consent", "redeem", "--callback-url", "-"], consent_env.env(), redirect
    )
    assert result.exit_code == 0, result.stderr


def test_tenant_list_and_show(cli, consent_env, customers):
    _consent(cli, consent_env, customers[0], "delegated")
    operator = consent_env.env(consent_env.operator_token)

    table = cli(["tenant", "list"], operator)
    listed = cli(["tenant", "list", "--format", "json"], operator)
    shown = cli(["tenant", "show", customers[0].upper(), "--format", "json"], operator)
    plain = cli(["tenant", "show", customers[0]], operator)

    assert (
        table.exit_code == listed.exit_code == shown.exit_code == plain.exit_code == 0
    )
    header = table.stdout.splitlines()[0].split()
    assert header == [
        "TENANT_ID",
        "MODE",
        "STATUS",
        "GRANTED",
        "CONSENTED_AT",
        "VERSION",
    ]
    assert any(line.startswith(customers[0]) for line in table.stdout.splitlines())
    rows = json.loads(listed.stdout)
    assert customers[0] in {row["tenant_id"] for row in rows}
    assert all(
        "secret" not in row and row["has_secret"] in (True, False) for row in rows
    )
    record = json.loads(shown.stdout)
    assert record["tenant_id"] == customers[0]
    assert record["mode"] == "delegated" and record["has_secret"] is True
    assert "vault:v" not in table.stdout + listed.stdout + shown.stdout + plain.stdout
    assert f"tenant_id          {customers[0]}" in plain.stdout


def test_tenant_show_unknown_and_invalid(cli, consent_env):
    operator = consent_env.env(consent_env.operator_token)
    stranger = str(uuid.uuid4())

    unknown = cli(["tenant", "show", stranger], operator)
    invalid = cli(["tenant", "show", "../app/entra"], operator)

    assert unknown.exit_code == 6
    assert unknown.stderr == f"Error: unknown tenant {stranger}: no record\n"
    assert invalid.exit_code == 2
    assert "is not a GUID" in invalid.stderr


def test_broker_cannot_list_tenants(cli, consent_env):
    result = cli(["tenant", "list"], consent_env.env())
    assert result.exit_code == 5
    assert "permission denied" in result.stderr


def test_url_for_one_tenant_refuses_another(cli, consent_env, customers):
    url = cli(
        ["consent", "url", "--mode", "admin", "--tenant", customers[0]],
        consent_env.env(),
    ).stdout.strip()
    assert f"/{customers[0]}/v2.0/adminconsent?" in url
    before = consent_env.snapshot()
    state = url.split("state=", 1)[1].split("&", 1)[0]

    result = cli(
        ["consent", "redeem", "--state", "-", "--admin-consent", "True"]
        + ["--tenant", customers[1]],
        consent_env.env(),
        stdin=state,
    )

    assert result.exit_code == 7
    assert f"but was requested for {customers[0]}" in result.stderr
    assert consent_env.snapshot() == before


def test_delegated_url_for_one_tenant(cli, consent_env, customers):
    url = cli(
        ["consent", "url", "--mode", "delegated", "--tenant", customers[1]],
        consent_env.env(),
    ).stdout.strip()
    assert f"/{customers[1]}/oauth2/v2.0/authorize?" in url
    assert "code_challenge_method=S256" in url
    redirect = approve(url, ca_file=consent_env.ca_file, tenant=customers[1])

    result = cli(
        ["consent", "redeem", "--callback-url", "-"], consent_env.env(), redirect
    )

    assert result.exit_code == 0, result.stderr
    assert consent_env.records().read(customers[1]).mode == "delegated"


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["consent", "url", "--tenant", "contoso"], 2, "is not a GUID"),
        (
            ["consent", "url", "--redirect-uri", "https://evil.example/cb"],
            2,
            "redirect URI",
        ),
        (["consent", "url", "--mode", "implicit"], 2, "Invalid value for '--mode'"),
        (["consent", "redeem"], 2, "has no state"),
        (
            ["consent", "redeem", "--callback-url", "-", "--admin-consent", "True"],
            2,
            "not both",
        ),
        (["consent", "redeem", "--code", "-"], 2, "nothing on stdin"),
        (["consent", "redeem", "--state", "-", "--code", "-"], 2, "only one of"),
    ],
    ids=["tenant", "redirect-uri", "mode", "empty", "both", "empty-stdin", "stdin"],
)
def test_bad_flags(cli, consent_env, args, code, words):
    before = consent_env.snapshot()
    stdin = "https://x/?state=a" if "--callback-url" in args else ""
    result = cli(args, consent_env.env(), stdin=stdin)
    assert result.exit_code == code, result.output
    assert words in result.stderr
    assert consent_env.snapshot() == before


@pytest.mark.parametrize(
    ("option", "variable"),
    [
        ("--callback-url", "CONSENTVAULT_CALLBACK_URL"),
        ("--state", "CONSENTVAULT_CONSENT_STATE"),
        ("--code", "CONSENTVAULT_CONSENT_CODE"),
    ],
)
def test_secret_literal_on_command_line_refused(cli, consent_env, option, variable):
    before = consent_env.snapshot()
    secret = "literal-secret-value-0123456789"

    result = cli(["consent", "redeem", option, secret], consent_env.env(), stdin="")

    assert result.exit_code == 2, result.output
    assert "takes no value on the command line" in result.stderr
    assert f"'{option} -'" in result.stderr and variable in result.stderr
    assert secret not in result.output
    assert consent_env.snapshot() == before


def test_declined_confirmation_is_aborted_not_interrupted(cli, consent_env):
    tenant_id = "3f2c6f0e-0000-4000-8000-000000000001"

    result = cli(
        ["tenant", "remove", tenant_id, "--reason", "test"],
        consent_env.env(),
        stdin="n\n",
    )

    assert result.exit_code == 1
    assert result.stderr.strip().endswith("Aborted.")


def test_missing_vault_ca_file_is_a_config_error(cli, consent_env, tmp_path):
    missing = tmp_path / "nonexistent.pem"

    result = cli(
        ["tenant", "list"], {**consent_env.env(), "VAULT_CACERT": str(missing)}
    )

    assert result.exit_code == 3, result.output
    assert str(missing) in result.stderr
    assert "Traceback" not in result.stderr


def test_sandbox_approve_completes_a_consent_by_hand(cli, consent_env, customers):
    tenants = consent_env.control.customer_tenants()
    chosen = next(t for t in tenants if t["id"] == customers[1])
    url = cli(["consent", "url", "--mode", "delegated"], consent_env.env()).stdout

    approved = cli(
        ["sandbox", "approve", "-", "--tenant", chosen["displayName"]],
        consent_env.env(),
        stdin=url,
    )
    redeemed = cli(
        ["consent", "redeem", "--callback-url", "-"], consent_env.env(), approved.stdout
    )

    assert approved.exit_code == 0, approved.stderr
    assert "code=" in approved.stdout and approved.stderr == ""
    assert redeemed.exit_code == 0, redeemed.stderr
    assert consent_env.records().read(customers[1]).mode == "delegated"


def test_sandbox_approve_decline_and_unknown_tenant(cli, consent_env):
    before = consent_env.snapshot()
    url = cli(["consent", "url", "--mode", "admin"], consent_env.env()).stdout

    unknown = cli(
        ["sandbox", "approve", url.strip(), "--tenant", "nobody"], consent_env.env()
    )
    declined = cli(
        ["sandbox", "approve", "-", "--decline"], consent_env.env(), stdin=url
    )
    redeemed = cli(
        ["consent", "redeem", "--callback-url", "-"], consent_env.env(), declined.stdout
    )

    assert unknown.exit_code == 6
    assert "no customer tenant 'nobody' in the stand-in" in unknown.stderr
    assert declined.exit_code == 0, declined.stderr
    assert "error=access_denied" in declined.stdout
    assert redeemed.exit_code == 7
    assert consent_env.snapshot() == before
