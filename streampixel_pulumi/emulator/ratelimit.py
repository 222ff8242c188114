"""Per-user, per-endpoint rate limits: one accepted call per window (shared/streampixel-api.md).

The docs give 1 request per 2 minutes per userId for distribute-file, and the same limit,
probably counted separately, for upload-file. Whether the window slides or is fixed, and
whether a rejected request spends the slot, are unknown: both are settings.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

from .records import ApiFailure, iso_timestamp
from .settings import EmulatorSettings

__all__ = ["DOCUMENTED_MESSAGE", "RateLimiter", "rate_limited"]

DOCUMENTED_MESSAGE = "Rate limit exceeded. Try again in 2 minutes."
_DOCUMENTED_WINDOW = 120.0


class RateLimiter:
    """When each (user, endpoint) slot was last spent. Not locked: EmulatorState locks."""

    def __init__(self) -> None:
        self._spent: dict[tuple[str, str], float] = {}

    @contextlib.contextmanager
    def slot(
        self, user_id: str, endpoint: str, now: float, settings: EmulatorSettings
    ) -> Iterator[None]:
        """Refuse with 429 while the slot is taken; spend it when the block succeeds.

        A block failing with an ApiFailure spends the slot only if the setting
        rejected_requests_use_slot says so. A 429 never spends it.
        """
        window = settings.rate_limit_window
        key = (user_id, endpoint)
        last = self._spent.get(key)
        if window > 0 and last is not None:
            if settings.rate_limit_mode == "fixed":
                end = (math.floor(last / window) + 1) * window
            else:
                end = last + window
            if now < end:
                raise rate_limited(end - now, settings)
        try:
            yield
        except ApiFailure:
            if settings.rejected_requests_use_slot:
                self._spent[key] = now
            raise
        self._spent[key] = now

    def clear(self) -> None:
        """Free every slot."""
        self._spent.clear()

    def view(self) -> list[dict[str, Any]]:
        """The spent slots, for the control API."""
        return [
            {"user_id": user, "endpoint": endpoint, "at": iso_timestamp(at)}
            for (user, endpoint), at in self._spent.items()
        ]


def rate_limited(remaining: float, settings: EmulatorSettings) -> ApiFailure:
    """The 429: the documented message for the documented window, else the real wait.

    A client reads the wait from the message ("in 87 seconds"), so with another window the
    message states the remaining whole seconds, rounded up.
    """
    seconds = max(1, math.ceil(remaining))
    if settings.rate_limit_window == _DOCUMENTED_WINDOW:
        message = DOCUMENTED_MESSAGE
    else:
        message = f"Rate limit exceeded. Try again in {seconds} seconds."
    headers = {"Retry-After": str(seconds)} if settings.send_retry_after else None
    extra = {"retryAfter": seconds} if settings.retry_after_in_body else None
    return ApiFailure(429, message, headers=headers, extra=extra)
