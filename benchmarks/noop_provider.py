"""A dynamic provider that does nothing: the baseline of the preview and provider-blob figures.

It lives in an importable module, like BuildReleaseProvider, so dill pickles it by reference and
the provider process unpickles it through the same path. Check echoes the inputs, Diff answers
"no change", Create/Update echo their inputs as outputs; nothing is imported beyond the SDK.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult

__all__ = ["NoopProvider"]


class NoopProvider(ResourceProvider):
    """A real dynamic provider with an empty ``__dict__`` and no work in any method."""

    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Accept every input as is."""
        return CheckResult(dict(news), [])

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        """Never a change (explicit, so the engine does not compare ``__provider`` itself)."""
        return DiffResult(changes=False, replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Record the inputs as outputs; the id is the project id when there is one."""
        return CreateResult(str(props.get("project_id") or "noop"), dict(props))

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        """Record the new inputs as outputs."""
        return UpdateResult(dict(_news))
