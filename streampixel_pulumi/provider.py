"""BuildReleaseProvider: the dynamic provider behind BuildRelease (thin glue).

Its dotted path ``streampixel_pulumi.provider.BuildReleaseProvider`` is public: the program
pickles the provider by reference into every resource's ``__provider`` input and ``pulumi
destroy`` unpickles it from state, so moving it breaks existing stacks. The pickled object has
an empty ``__dict__`` (small, byte-identical across runs and checkouts); credentials come from
``configure()`` (stack config) or the environment via Settings, and release.py builds a
client per call.

One provider process serves all resources with 4 threads on one object, so nothing here keeps
per-call state on ``self``; pacing.py spaces the calls of one user. With confirmation on
(``confirm`` input or ``streampixel:confirm``), confirm.py waits after the trigger for the
webhook receiver to report the build distributing, live or rejected, and ``read`` (refresh)
asks it again.
See shared/pulumi-dynamic-providers.md for what the engine sends to each method.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from streampixel_pulumi.checks import check_inputs
from streampixel_pulumi.diff import decide
from streampixel_pulumi.errors import ConfigError, InputError
from streampixel_pulumi.waits import Progress

if TYPE_CHECKING:
    import httpx

    from streampixel_pulumi.config import ConfigSource

__all__ = ["HISTORY_LIMIT", "INPUT_KEYS", "BuildReleaseProvider"]

HISTORY_LIMIT = 10
"""How many releases `history` keeps (newest last)."""

INPUT_KEYS = (
    "project_id",
    "upload_id",
    "triggers",
    "deadline_seconds",
    "confirm",
    "confirm_deadline_seconds",
)
"""The resource's inputs; every create and update echoes them among its outputs."""

_ECHOED = INPUT_KEYS[2:]
"""Optional inputs, echoed among the outputs when given."""


class BuildReleaseProvider(ResourceProvider):
    """Distributes one Streampixel upload per create/update; preview never touches the network.

    Args:
        transport: an httpx transport for the client (tests only; never pickled by a program).
        environ: the environment to read settings from instead of ``os.environ`` (tests only).
        status_transport: an httpx transport for the webhook receiver's status client
            (tests only).
    """

    # The blob holds no secret (empty __dict__), so it need not be a secret in state.
    serialize_as_secret_always = False

    _transport: httpx.BaseTransport | None = None
    _status_transport: httpx.BaseTransport | None = None
    _environ: Mapping[str, str] | None = None
    _config: ConfigSource | None = None

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        environ: Mapping[str, str] | None = None,
        status_transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__()
        # Only set when given, so the instance a program pickles keeps an empty __dict__.
        if transport is not None:
            self._transport = transport
        if status_transport is not None:
            self._status_transport = status_transport
        if environ is not None:
            self._environ = environ

    def configure(self, req: ConfigureRequest) -> None:
        """Keep the stack config (runs in the provider process, after unpickling).

        It is parsed by create/update only, so preview, refresh and destroy neither pay for
        parsing it nor fail on a broken setting.
        """
        self._config = req.config

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs without network or credentials; problems become CheckFailures."""
        failures = [CheckFailure(name, reason) for name, reason in check_inputs(news)]
        return CheckResult(dict(news), failures)

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        """Explicit diff of the meaningful inputs against the previous outputs (see diff.py)."""
        decision = decide(_id, _olds, _news)
        return DiffResult(
            changes=decision.changes, replaces=decision.replaces, delete_before_replace=False
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Distribute the upload to a project this stack has not released to before."""
        outs = self._release(props, previous_upload_id=None, history=[], action="release")
        return CreateResult(str(props["project_id"]), outs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        """Distribute the desired upload again; `_olds` are the previous outputs."""
        previous = _olds.get("upload_id")
        history = _history(_olds.get("history"))
        upload_id = _news["upload_id"]
        # The same upload again means only the triggers changed (diff asked for an update).
        if upload_id == previous:
            action = "redistribute"
        elif any(entry["upload_id"] == upload_id for entry in history):
            action = "rollback"
        else:
            action = "release"
        outs = self._release(
            _news,
            previous_upload_id=previous if isinstance(previous, str) else None,
            history=history,
            action=action,
        )
        return UpdateResult(outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh: never distributes; returns the stored outputs and the inputs they imply.

        Streampixel has no endpoint saying which build is live, so the stored outputs are the
        best knowledge, except `status` when confirmation is on: the webhook receiver may
        have heard more since (see `_refreshed`). Returning matching inputs keeps a refresh
        from showing a phantom diff.
        """
        if not props.get("upload_id"):
            raise InputError(
                "upload_id",
                "BuildRelease cannot be imported or read without its state: "
                "declare it in the program and run `pulumi up`",
            )
        outs = self._refreshed({key: value for key, value in props.items() if key != "__provider"})
        inputs = {key: props[key] for key in INPUT_KEYS if props.get(key) is not None}
        return ReadResult(id_, outs, inputs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forget the release: Streampixel has no undeploy, so nothing is sent."""
        project_id = str(_props.get("project_id") or _id)
        upload = _props.get("upload_id")
        released = f"upload {upload}" if upload else "the build it released"
        Progress(project_id, every=15.0).say(
            f"removed from the stack; nothing is sent to Streampixel and {released} stays live"
        )

    def _release(
        self,
        news: Mapping[str, Any],
        *,
        previous_upload_id: str | None,
        history: list[dict[str, str]],
        action: str,
    ) -> dict[str, Any]:
        """Make one accepted distribute-file call (see release.py) and return every output.

        With confirmation on, every setting it needs is checked before any request, and the
        wait after the trigger (confirm.py) sets `status`: live, unconfirmed, or a failure
        when the build was rejected.
        """
        # Imported on first use, so a preview (Configure, Check, Diff) never loads the HTTP
        # client, pydantic or file locks: see benchmarks/preview.py.
        from streampixel_pulumi.config import Settings
        from streampixel_pulumi.release import trigger

        settings = Settings.load(self._config, self._environ)
        project_id = str(news["project_id"])
        upload_id = str(news["upload_id"])
        deadline_seconds = float(news.get("deadline_seconds") or settings.deadline_seconds)
        wanted = news.get("confirm")
        confirmation = None
        if wanted is True or (wanted is None and settings.confirm):
            from streampixel_pulumi.confirm import Confirmation

            settings.require_credentials()
            confirmation = Confirmation(
                settings,
                project_id,
                upload_id,
                deadline_seconds=float(
                    news.get("confirm_deadline_seconds") or settings.confirm_deadline_seconds
                ),
                transport=self._status_transport,
            )
            confirmation.prepare()
        triggered = trigger(
            settings,
            project_id,
            upload_id,
            action=action,
            deadline_seconds=deadline_seconds,
            transport=self._transport,
        )
        entry = {"upload_id": upload_id, "action": action, "triggered_at": triggered.triggered_at}
        outs: dict[str, Any] = {
            "project_id": project_id,
            "upload_id": upload_id,
            "previous_upload_id": previous_upload_id,
            "region": triggered.region,
            "status": "triggered",
            "triggered_at": triggered.triggered_at,
            "action": action,
            "history": [*history, entry][-HISTORY_LIMIT:],
            "message": triggered.message,
        }
        if confirmation is not None:
            outcome = confirmation.wait(triggered)
            outs["status"] = outcome.status
            outs["confirm_since"] = outcome.since.isoformat()
        for key in _ECHOED:
            if news.get(key) is not None:
                outs[key] = news[key]
        return outs

    def _refreshed(self, outs: dict[str, Any]) -> dict[str, Any]:
        """`outs` with `status` re-read from the webhook receiver when confirmation is on.

        Never raises and never distributes: a refresh keeps the stored status, with a warning,
        when the settings are broken or the receiver cannot be asked.
        """
        from streampixel_pulumi.config import Settings, confirm_requested

        wanted = outs.get("confirm")
        try:
            if not isinstance(wanted, bool):
                wanted = confirm_requested(self._config, self._environ)
            if not wanted:
                return outs
            settings = Settings.load(self._config, self._environ)
        except ConfigError as error:
            Progress(str(outs.get("project_id")), every=15.0).say(
                f"warning: refresh kept status {outs.get('status')!r}: {error}"
            )
            return outs
        from streampixel_pulumi.confirm import refresh

        return refresh(settings, outs, transport=self._status_transport)


def _history(value: Any) -> list[dict[str, str]]:
    """The stored history, keeping only well-formed entries."""
    if not isinstance(value, list):
        return []
    entries = []
    for item in value:
        if isinstance(item, Mapping) and isinstance(item.get("upload_id"), str):
            entries.append({key: str(item[key]) for key in item if item[key] is not None})
    return entries[-HISTORY_LIMIT:]
