"""The synthesized `local` stacks match the reviewed copies in golden/.

A change to a stack shows up here as a diff to review. After an intended
change, refresh the copies and commit them with the change:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/stacks/test_golden_stacks.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).parent / "golden"


def canonical(document: str) -> str:
    return json.dumps(json.loads(document), indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("stack", ["entra", "vault"])
def test_local_stack_matches_golden(local_synthesized, stack):
    golden = GOLDEN_DIR / f"local-{stack}.json"
    synthesized = canonical(getattr(local_synthesized, stack))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(synthesized, encoding="utf-8")
    assert synthesized == golden.read_text(encoding="utf-8"), (
        f"{golden.name} differs; review, then refresh with UPDATE_GOLDEN=1"
    )


@pytest.mark.parametrize("stack", ["entra", "vault"])
def test_golden_holds_no_machine_paths(stack):
    text = (GOLDEN_DIR / f"local-{stack}.json").read_text(encoding="utf-8")
    for fragment in (str(Path.cwd()), "/tmp/", "/home/", "/root/"):
        assert fragment not in text
