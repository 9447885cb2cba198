"""Synthesized stacks for the stack tests, built once per module and environment.

Each environment's stacks are synthesized with the same `build_app` that
`main.py` uses, into a pytest temporary folder, then read back per stack with
`Testing.synth` (cross-stack references resolved, no metadata).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pytest

# jsii prints an end-of-life banner for Node 20 unless told not to.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from cdktf import Testing  # noqa: E402

from consentvault.settings import Settings, load_settings  # noqa: E402
from stacks import build_app  # noqa: E402


@dataclass(frozen=True)
class Synthesized:
    settings: Settings
    entra: str
    vault: str

    def resources(self, stack: str, resource_type: str) -> list[dict[str, Any]]:
        document = json.loads(getattr(self, stack))
        return list(document.get("resource", {}).get(resource_type, {}).values())


def synthesize(settings: Settings, outdir: str) -> Synthesized:
    app = Testing.app(outdir=outdir)
    entra, vault = build_app(app, settings)
    # app.synth() wires the cross-stack references (remote state, outputs).
    app.synth()
    return Synthesized(
        settings=settings, entra=Testing.synth(entra), vault=Testing.synth(vault)
    )


@pytest.fixture(scope="module", params=["local", "example"])
def synthesized(request, tmp_path_factory) -> Synthesized:
    outdir = tmp_path_factory.mktemp(f"cdktf-{request.param}")
    return synthesize(load_settings(request.param), str(outdir))


@pytest.fixture(scope="module")
def local_synthesized(tmp_path_factory) -> Synthesized:
    return synthesize(load_settings("local"), str(tmp_path_factory.mktemp("cdktf")))
