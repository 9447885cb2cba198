"""ACL policies, one per identity, rendered from `policies/<identity>.hcl.j2`."""

from __future__ import annotations

from pathlib import Path

import jinja2
from cdktf_cdktf_provider_vault.policy import Policy
from constructs import Construct

from consentvault.settings import PROJECT_ROOT, VaultSettings

POLICY_DIR = PROJECT_ROOT / "policies"
# Identity name (as in the settings' policy names) -> template file stem.
IDENTITIES = (
    "consent_broker",
    "ci_minter",
    "tenant_reader",
    "tenant_refresher",
    "operator",
)


def template_path(identity: str) -> Path:
    return POLICY_DIR / f"{identity.replace('_', '-')}.hcl.j2"


def render_policy(
    identity: str,
    *,
    vault: VaultSettings,
    policy_names: dict[str, str],
    token_accessor: str,
) -> str:
    """The policy text of one identity; a variable the template lacks fails."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(POLICY_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    template = environment.get_template(template_path(identity).name)
    return template.render(
        vault=vault, policy_names=policy_names, token_accessor=token_accessor
    )


class PolicySet(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vault: VaultSettings,
        policy_names: dict[str, str],
        token_accessor: str,
    ) -> None:
        super().__init__(scope, id_)

        self.policies = {
            identity: Policy(
                self,
                identity,
                name=policy_names[identity],
                policy=render_policy(
                    identity,
                    vault=vault,
                    policy_names=policy_names,
                    token_accessor=token_accessor,
                ),
            )
            for identity in IDENTITIES
        }
