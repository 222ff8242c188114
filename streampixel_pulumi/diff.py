"""Pure diff decision for BuildRelease: what a change of inputs means on Streampixel.

`olds` are the previous OUTPUTS, not inputs (shared/pulumi-dynamic-providers.md); every
create and update therefore returns the inputs among its outputs. Only the meaningful inputs
count: credentials, endpoint, deadlines and confirmation (``confirm``,
``confirm_deadline_seconds``) live elsewhere or change nothing on Streampixel,
and the pickled ``__provider`` blob must never cause a distribution, which is why the result
is always explicit (``changes=None`` would let the engine compare ``__provider`` itself).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from streampixel_pulumi.checks import is_unknown

__all__ = ["Decision", "decide", "normalize_triggers", "triggers_equal"]


@dataclass(frozen=True)
class Decision:
    """The diff's answer: `changes`, and the properties forcing a replacement."""

    changes: bool
    replaces: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def _contains_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_unknown(item) for item in value)
    if isinstance(value, Mapping):
        return any(_contains_unknown(item) for item in value.values())
    return False


def _canonical(value: Any) -> Any:
    """Make JSON-like values comparable: numbers come back from state as floats."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    return repr(value)


def normalize_triggers(value: Any) -> list[Any]:
    """Triggers as a canonical list; absent and empty mean the same."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    return [_canonical(value)]


def triggers_equal(old: Any, new: Any) -> bool:
    """Whether two triggers values are the same once canonical."""
    return json.dumps(normalize_triggers(old), sort_keys=True) == json.dumps(
        normalize_triggers(new), sort_keys=True
    )


def decide(resource_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Decision:
    """Compare the meaningful new inputs with the previous outputs.

    - project_id changed (or unknown) -> replacement: a release belongs to one project;
    - upload_id or triggers changed (or unknown) -> update: one distribution;
    - anything else (credentials, endpoint, deadlines, confirmation settings, the
      ``__provider`` blob, outputs such as ``status``) -> no change.
    """
    changed: list[str] = []
    replaces: list[str] = []

    old_project = olds.get("project_id") or resource_id
    new_project = news.get("project_id")
    if is_unknown(new_project) or new_project != old_project:
        changed.append("project_id")
        replaces.append("project_id")

    new_upload = news.get("upload_id")
    if is_unknown(new_upload) or new_upload != olds.get("upload_id"):
        changed.append("upload_id")

    new_triggers = news.get("triggers")
    if _contains_unknown(new_triggers) or not triggers_equal(olds.get("triggers"), new_triggers):
        changed.append("triggers")

    return Decision(changes=bool(changed), replaces=replaces, changed=changed)
