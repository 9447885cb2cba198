"""What a tenant id looks like, shared by the records and the light mint path.

Only the canonical 8-4-4-4-12 form is accepted (no braces, no `urn:uuid:`),
because the id becomes a Vault path segment and an entity alias name. This
module imports nothing heavy, so `mint vault-token` can check ids cheaply.
"""

from __future__ import annotations

import re

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def canonical_or_none(value: object) -> str | None:
    """The lower-case GUID `value` spells, or None if it is not one."""
    text = value.strip().lower() if isinstance(value, str) else ""
    return text if GUID.fullmatch(text) else None
