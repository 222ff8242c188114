"""The emulator's in-memory world: users, projects, uploads, the pipeline, rate limits, history.

Pure apart from the injected clock: every method reads the time from ``clock`` and first
advances the pipeline to it, so unit tests drive time by hand and need no sleeping. Webhook
events land in an outbox that the server drains and delivers (webhooks.py); nothing here does
I/O. Thread-safe: one re-entrant lock guards everything. API methods validate in the order
the docs suggest (shared/streampixel-api.md): user, key, rate limit, project, ownership, file.
The records themselves are in records.py, the rate-limit slots in ratelimit.py.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from .ratelimit import RateLimiter
from .records import (
    APPROVED,
    DEFAULT_OBJECTION,
    DISTRIBUTE,
    PENDING,
    PROCESSING_STAGES,
    REJECT,
    SAVING,
    STAGE_EVENTS,
    ApiFailure,
    Outgoing,
    Project,
    Upload,
    User,
    build_envelope,
    iso_timestamp,
)
from .seed import ProjectUpdate, Seed, UploadUpdate, describe_validation_error
from .settings import EmulatorSettings

__all__ = ["ApiFailure", "EmulatorState", "Outgoing", "iso_timestamp"]

_HISTORY_LIMIT = 1000
_EVENT_LOG_LIMIT = 5000


class EmulatorState:
    """All emulator data plus the rules of the API endpoints, driven by an injected clock."""

    def __init__(
        self,
        settings: EmulatorSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings if settings is not None else EmulatorSettings()
        self._clock = clock
        self._lock = threading.RLock()
        self._users: dict[str, User] = {}
        self._projects: dict[str, Project] = {}
        self._uploads: dict[str, Upload] = {}
        self._limits = RateLimiter()
        self._outbox: list[Outgoing] = []
        self._events: list[dict[str, Any]] = []

    # ----------------------------------------------------------------- seeding and control
    def clear(self) -> None:
        """Forget every user, project, upload, rate-limit slot and pending event."""
        with self._lock:
            self._users.clear()
            self._projects.clear()
            self._uploads.clear()
            self._limits.clear()
            self._outbox.clear()
            self._events.clear()

    def load(self, seed: dict[str, Any]) -> None:
        """Add (or replace) the users, projects and uploads of `seed`; ValueError if invalid."""
        try:
            parsed = Seed.model_validate(seed)
        except ValidationError as exc:
            raise ValueError(describe_validation_error(exc)) from None
        with self._lock:
            now = self._clock()
            self._advance(now)
            user_ids = set(self._users) | {user.user_id for user in parsed.users}
            project_ids = set(self._projects) | {p.project_id for p in parsed.projects}
            for project in parsed.projects:
                if project.user_id not in user_ids:
                    msg = f"project {project.project_id}: unknown user_id"
                    raise ValueError(msg)
            for seeded in parsed.uploads:
                if seeded.project_id not in project_ids:
                    msg = f"upload {seeded.upload_id}: unknown project_id"
                    raise ValueError(msg)
            owners = {u.upload_id: u.project_id for u in self._uploads.values()}
            owners.update({u.upload_id: u.project_id for u in parsed.uploads})
            for p in parsed.projects:
                if p.live_upload_id is not None and owners.get(p.live_upload_id) != p.project_id:
                    msg = f"project {p.project_id}: live_upload_id is not an upload of it"
                    raise ValueError(msg)
            for user in parsed.users:
                self._users[user.user_id] = User(user.user_id, user.api_key)
            for p in parsed.projects:
                self._projects[p.project_id] = Project(
                    project_id=p.project_id,
                    user_id=p.user_id,
                    name=p.name,
                    region=p.region,
                    enabled=p.enabled,
                    live_upload_id=p.live_upload_id,
                    webhook_url=p.webhook_url,
                    webhook_events=p.webhook_events,
                    subscription_status=p.subscription_status,
                    live_users=p.live_users,
                    queue_users=p.queue_users,
                )
            for u in parsed.uploads:
                upload = Upload(
                    upload_id=u.upload_id,
                    project_id=u.project_id,
                    status=u.status,
                    file_url=u.file_url,
                    auto_release=u.auto_release,
                    reject_at=u.reject_at,
                    objection=u.objection,
                    reject_on_distribute=u.reject_on_distribute,
                    has_url=u.status == APPROVED
                    or (u.status == SAVING and self.settings.url_when == "saving"),
                    created_at=now,
                )
                if u.status in PROCESSING_STAGES:
                    upload.due = now + self.settings.stage_seconds
                self._uploads[u.upload_id] = upload

    def update_settings(self, fields: dict[str, Any]) -> EmulatorSettings:
        """Apply a partial settings update; ValueError (naming the field) if invalid."""
        with self._lock:
            try:
                merged = {**self.settings.model_dump(), **fields}
                self.settings = EmulatorSettings.model_validate(merged)
            except ValidationError as exc:
                raise ValueError(describe_validation_error(exc)) from None
            return self.settings

    def set_api_key(self, user_id: str, api_key: str) -> None:
        """Rotate a user's key: the old one stops working at once, as in the real API."""
        with self._lock:
            self._user_for_control(user_id).api_key = api_key

    def update_project(self, project_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Change a project's fields (see ProjectUpdate); KeyError/ValueError on bad input."""
        update = _validated(ProjectUpdate, fields)
        with self._lock:
            self._advance(self._clock())
            project = self._project_for_control(project_id)
            changes = update.model_dump(include=update.model_fields_set)
            if changes.get("user_id") is not None:
                self._user_for_control(changes["user_id"])
            live = changes.get("live_upload_id")
            if live is not None and self._upload_project(live) != project_id:
                msg = "live_upload_id is not an upload of this project"
                raise ValueError(msg)
            for name, value in changes.items():
                if value is None and name not in (
                    "live_upload_id",
                    "webhook_url",
                    "webhook_events",
                ):
                    continue
                setattr(project, name, value)
            return project.view()

    def update_upload(self, upload_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Change an upload's behaviour fields (see UploadUpdate); KeyError/ValueError."""
        update = _validated(UploadUpdate, fields)
        with self._lock:
            self._advance(self._clock())
            upload = self._upload_for_control(upload_id)
            for name, value in update.model_dump(include=update.model_fields_set).items():
                if name == "auto_release" and value is None:
                    continue
                setattr(upload, name, value)
            return upload.view()

    def project(self, project_id: str) -> dict[str, Any]:
        """Inspect a project: live build, running distribution, history (KeyError if unknown)."""
        with self._lock:
            self._advance(self._clock())
            return self._project_for_control(project_id).view()

    def upload(self, upload_id: str) -> dict[str, Any]:
        """Inspect an upload: status, whether it has a URL, objection (KeyError if unknown)."""
        with self._lock:
            self._advance(self._clock())
            return self._upload_for_control(upload_id).view()

    def snapshot(self) -> dict[str, Any]:
        """Everything, for debugging (API keys left out)."""
        with self._lock:
            self._advance(self._clock())
            return {
                "users": [{"user_id": u.user_id} for u in self._users.values()],
                "projects": [p.view() for p in self._projects.values()],
                "uploads": [u.view() for u in self._uploads.values()],
                "rate_limits": self._limits.view(),
            }

    def events(self) -> list[dict[str, Any]]:
        """Every webhook envelope produced, whether or not a project subscribed to it."""
        with self._lock:
            self._advance(self._clock())
            return [dict(event) for event in self._events]

    # ----------------------------------------------------------------------- the pipeline
    def advance(self) -> None:
        """Move every upload along the pipeline up to the clock's current time."""
        with self._lock:
            self._advance(self._clock())

    def next_due(self) -> float | None:
        """When the next pipeline step is due (clock time), or None if nothing is moving."""
        with self._lock:
            dues = [u.due for u in self._uploads.values() if u.due is not None]
            return min(dues) if dues else None

    def take_outbox(self) -> list[Outgoing]:
        """Advance the pipeline, then remove and return the webhook POSTs waiting to be sent."""
        with self._lock:
            self._advance(self._clock())
            out, self._outbox = self._outbox, []
            return out

    # ------------------------------------------------------------------------ API methods
    def distribute_file(
        self, user_id: str, api_key: str, project_id: str, upload_id: str
    ) -> dict[str, Any]:
        """POST /projects/distribute-file: trigger a distribution; returns the success body."""
        with self._lock:
            now = self._clock()
            self._advance(now)
            self._authenticate(user_id, api_key)
            with self._limits.slot(user_id, "distribute-file", now, self.settings):
                project = self._accessible_project(user_id, project_id)
                upload = self._uploads.get(upload_id)
                if upload is None or upload.project_id != project_id:
                    raise ApiFailure(404, "File not found in project")
                if not upload.has_url:
                    raise ApiFailure(400, "File has no URL")
                self._start_distribution(project, upload, now, source="api")
            self._advance(now)
            if self.settings.success_shape == "short":
                return {"message": "Distribution triggered"}
            return {
                "success": True,
                "uploadId": upload_id,
                "region": project.region,
                "message": "File distribution triggered successfully",
            }

    def upload_file(
        self, user_id: str, api_key: str, project_id: str, file_url: str, auto_release: bool
    ) -> dict[str, Any]:
        """POST /projects/upload-file: queue a new build; returns the success body."""
        with self._lock:
            now = self._clock()
            self._advance(now)
            self._authenticate(user_id, api_key)
            with self._limits.slot(user_id, "upload-file", now, self.settings):
                project = self._accessible_project(user_id, project_id)
            upload_id = self._new_id()
            upload = Upload(
                upload_id=upload_id,
                project_id=project_id,
                status=PENDING,
                file_url=file_url,
                auto_release=auto_release,
                reject_at=None,
                objection=None,
                reject_on_distribute=None,
                has_url=False,
                created_at=now,
                due=now + self.settings.stage_seconds,
            )
            self._uploads[upload_id] = upload
            self._emit(project, upload, "build.uploaded", now)
            self._advance(now)
            return {"message": "Build queued for processing", "uploadId": upload_id}

    def webhook_test(self, user_id: str, api_key: str, project_id: str) -> Outgoing:
        """POST /projects/test-webhook: the webhook.test POST to send (404 if no URL saved)."""
        with self._lock:
            now = self._clock()
            self._advance(now)
            self._authenticate(user_id, api_key)
            project = self._accessible_project(user_id, project_id)
            if not project.webhook_url:
                raise ApiFailure(404, "No webhook URL configured")
            envelope = build_envelope(
                project, None, "webhook.test", self.settings.webhook_test_status, now
            )
            return Outgoing(project.webhook_url, envelope)

    def projects_status(self, user_id: str, api_key: str) -> dict[str, Any]:
        """GET /projects/projects-status: the user's projects."""
        with self._lock:
            self._authenticate(user_id, api_key)
            projects = [
                {
                    "_id": p.project_id,
                    "name": p.name,
                    "status": p.enabled,
                    "subscriptionStatus": p.subscription_status,
                }
                for p in self._projects.values()
                if p.user_id == user_id
            ]
            return {"totalProjects": len(projects), "projects": projects}

    def user_stats(self, user_id: str, api_key: str, project_id: str) -> dict[str, Any]:
        """GET /projects/userStats/{projectId}: live and queued users of a project."""
        with self._lock:
            self._authenticate(user_id, api_key)
            project = self._accessible_project(user_id, project_id)
            return {"liveUser": project.live_users, "queueUser": project.queue_users}

    # -------------------------------------------------------------------------- internals
    def _authenticate(self, user_id: str, api_key: str) -> None:
        user = self._users.get(user_id)
        if user is None:
            raise ApiFailure(401, "Invalid User")
        if not hmac.compare_digest(user.api_key.encode(), api_key.encode()):
            raise ApiFailure(401, "Unauthorized: Invalid API Key")

    def _accessible_project(self, user_id: str, project_id: str) -> Project:
        project = self._projects.get(project_id)
        if project is None:
            raise ApiFailure(404, "Project not found")
        if project.user_id != user_id or not project.enabled:
            raise ApiFailure(403, self.settings.access_denied_message)
        return project

    def _start_distribution(
        self, project: Project, upload: Upload, now: float, *, source: str
    ) -> None:
        running = project.distributing_upload_id
        if running is not None:
            previous = self._uploads.get(running)
            if previous is not None and previous.status == DISTRIBUTE:
                previous.status = APPROVED
                previous.due = None
                if previous.distribution is not None:
                    previous.distribution["outcome"] = "superseded"
                previous.distribution = None
        entry = {
            "upload_id": upload.upload_id,
            "at": iso_timestamp(now),
            "source": source,
            "outcome": "distributing",
        }
        project.history.append(entry)
        del project.history[:-_HISTORY_LIMIT]
        project.distributing_upload_id = upload.upload_id
        upload.status = DISTRIBUTE
        upload.objection = None
        upload.due = now + self.settings.distribute_seconds
        upload.distribution = entry
        if "build.distributing" in self.settings.distribute_events:
            self._emit(project, upload, "build.distributing", now)

    def _advance(self, now: float) -> None:
        while True:
            moving = [u for u in self._uploads.values() if u.due is not None and u.due <= now]
            if not moving:
                return
            upload = min(moving, key=lambda u: (u.due, u.created_at))
            assert upload.due is not None  # noqa: S101 - filtered above
            self._step(upload, upload.due)

    def _step(self, upload: Upload, at: float) -> None:
        project = self._projects.get(upload.project_id)
        if project is None:
            upload.due = None
            return
        if upload.status == DISTRIBUTE:
            self._finish_distribution(project, upload, at)
            return
        if upload.reject_at == upload.status:
            upload.due = None
            upload.status = REJECT
            upload.objection = upload.objection or DEFAULT_OBJECTION
            self._emit(project, upload, "build.rejected", at, objection=upload.objection)
            return
        if upload.status == SAVING:
            upload.has_url = True
            upload.due = None
            if upload.auto_release:
                self._start_distribution(project, upload, at, source="auto")
                return
            upload.status = APPROVED
            if self.settings.approved_event_on_store:
                self._emit(project, upload, "build.approved", at)
            return
        upload.status = PROCESSING_STAGES[PROCESSING_STAGES.index(upload.status) + 1]
        upload.due = at + self.settings.stage_seconds
        if upload.status == SAVING and self.settings.url_when == "saving":
            upload.has_url = True
        self._emit(project, upload, STAGE_EVENTS[upload.status], at)

    def _finish_distribution(self, project: Project, upload: Upload, at: float) -> None:
        upload.due = None
        if project.distributing_upload_id == upload.upload_id:
            project.distributing_upload_id = None
        entry, upload.distribution = upload.distribution, None
        if upload.reject_on_distribute is not None:
            upload.status = REJECT
            upload.objection = upload.reject_on_distribute
            if entry is not None:
                entry["outcome"] = "rejected"
            self._emit(project, upload, "build.rejected", at, objection=upload.objection)
            return
        upload.status = APPROVED
        project.live_upload_id = upload.upload_id
        if entry is not None:
            entry["outcome"] = "live"
        if "build.approved" in self.settings.distribute_events:
            self._emit(project, upload, "build.approved", at)

    def _emit(
        self,
        project: Project,
        upload: Upload,
        event: str,
        at: float,
        *,
        objection: str | None = None,
    ) -> None:
        envelope = build_envelope(project, upload, event, upload.status, at, objection)
        self._events.append(envelope)
        del self._events[:-_EVENT_LOG_LIMIT]
        subscribed = project.webhook_events is None or event in project.webhook_events
        if project.webhook_url and subscribed:
            self._outbox.append(Outgoing(project.webhook_url, envelope))

    def _new_id(self) -> str:
        while True:
            candidate = secrets.token_hex(12)
            if candidate not in self._uploads:
                return candidate

    def _upload_project(self, upload_id: str) -> str | None:
        upload = self._uploads.get(upload_id)
        return upload.project_id if upload else None

    def _user_for_control(self, user_id: str) -> User:
        if user_id not in self._users:
            msg = f"no user {user_id}"
            raise KeyError(msg)
        return self._users[user_id]

    def _project_for_control(self, project_id: str) -> Project:
        if project_id not in self._projects:
            msg = f"no project {project_id}"
            raise KeyError(msg)
        return self._projects[project_id]

    def _upload_for_control(self, upload_id: str) -> Upload:
        if upload_id not in self._uploads:
            msg = f"no upload {upload_id}"
            raise KeyError(msg)
        return self._uploads[upload_id]


def _validated(model: type[ProjectUpdate] | type[UploadUpdate], fields: dict[str, Any]) -> Any:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise ValueError(describe_validation_error(exc)) from None
