"""Advice to synthesize names the environment whose stacks are missing."""

from __future__ import annotations

import json

import pytest

from consentvault.errors import ConfigError
from consentvault.sandbox.environments import named_environment, synth_command
from consentvault.sandbox.paths import SandboxPaths
from consentvault.sandbox.runtime import Sandbox
from consentvault.settings import ENVIRONMENTS_DIR, load_settings


def _synth_of(outdir, *stack_names):
    for name in stack_names:
        folder = outdir / "stacks" / name
        folder.mkdir(parents=True)
        (folder / "cdk.tf.json").write_text(json.dumps({"resource": {}}))


def _as_if_from(settings, path):
    return settings.model_copy(update={"name": path.stem, "source": path})


def test_named_environments_and_files_elsewhere(tmp_path):
    local = load_settings("local")
    elsewhere = _as_if_from(local, tmp_path / "mine.toml")

    assert named_environment(local) == "local"
    assert synth_command(local) == "make synth ENV=local"
    assert named_environment(elsewhere) is None
    assert synth_command(elsewhere) == (
        f"CONSENTVAULT_ENV_FILE={tmp_path / 'mine.toml'} make synth"
    )


def test_another_environments_synth_is_named_with_the_right_command(tmp_path):
    """Before, up and status said 'no synthesized stacks ...; run `make synth`'."""
    outdir = tmp_path / "cdktf.out"
    _synth_of(outdir, "local-entra", "local-vault")
    second = _as_if_from(load_settings("local"), ENVIRONMENTS_DIR / "second.toml")
    box = Sandbox(second, SandboxPaths(tmp_path / "sandbox"))

    with pytest.raises(ConfigError) as caught:
        box.stacks(outdir)

    assert caught.value.exit_code == 3
    assert str(caught.value) == (
        f"no synthesized stacks of environment 'second' under {outdir}/stacks "
        "(it holds local-entra, local-vault); run `make synth ENV=second`"
    )
