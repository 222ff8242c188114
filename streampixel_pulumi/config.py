"""Settings: the provider's configuration, read from stack config or the environment.

This is the only module that reads ``os.environ`` or stack configuration. Stack config keys
(``streampixel:apiKey`` ...) win over environment variables (``STREAMPIXEL_API_KEY`` ...).
The provider process receives the whole stack config as plaintext strings in ``configure()``
(see shared/pulumi-dynamic-providers.md), so every value is parsed from a string here. An
invalid value raises ConfigError naming the key it came from, never the value.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, SecretStr

from streampixel_pulumi.errors import ConfigError

__all__ = [
    "API_KEY",
    "API_URL",
    "CONFIRM",
    "CONFIRM_DEADLINE_SECONDS",
    "DEADLINE_SECONDS",
    "DEFAULT_API_URL",
    "HTTP_TIMEOUT_SECONDS",
    "POLL_SECONDS",
    "PROGRESS_SECONDS",
    "RATE_LIMIT_SECONDS",
    "STACK_KEYS",
    "STATUS_TOKEN",
    "STATUS_URL",
    "USER_ID",
    "ConfigSource",
    "Key",
    "Settings",
    "confirm_requested",
]

DEFAULT_API_URL = "https://api.streampixel.io/pixelStripeApi"


class Key:
    """One setting: its stack config key and its environment variable."""

    def __init__(self, stack: str, env: str) -> None:
        self.stack = stack
        self.env = env

    def __repr__(self) -> str:
        return f"Key({self.stack!r}, {self.env!r})"


API_KEY = Key("streampixel:apiKey", "STREAMPIXEL_API_KEY")
USER_ID = Key("streampixel:userId", "STREAMPIXEL_USER_ID")
API_URL = Key("streampixel:apiUrl", "STREAMPIXEL_API_URL")
DEADLINE_SECONDS = Key("streampixel:deadlineSeconds", "STREAMPIXEL_DEADLINE_SECONDS")
RATE_LIMIT_SECONDS = Key("streampixel:rateLimitSeconds", "STREAMPIXEL_RATE_LIMIT_SECONDS")
HTTP_TIMEOUT_SECONDS = Key("streampixel:httpTimeoutSeconds", "STREAMPIXEL_HTTP_TIMEOUT_SECONDS")
PROGRESS_SECONDS = Key("streampixel:progressSeconds", "STREAMPIXEL_PROGRESS_SECONDS")
CONFIRM = Key("streampixel:confirm", "STREAMPIXEL_CONFIRM")
STATUS_URL = Key("streampixel:statusUrl", "STREAMPIXEL_STATUS_URL")
STATUS_TOKEN = Key("streampixel:statusToken", "STREAMPIXEL_STATUS_TOKEN")
CONFIRM_DEADLINE_SECONDS = Key(
    "streampixel:confirmDeadlineSeconds", "STREAMPIXEL_CONFIRM_DEADLINE_SECONDS"
)
POLL_SECONDS = Key("streampixel:pollSeconds", "STREAMPIXEL_POLL_SECONDS")
_CACHE_DIR_ENV = "STREAMPIXEL_CACHE_DIR"

STACK_KEYS: tuple[str, ...] = tuple(
    key.stack
    for key in (
        API_KEY,
        USER_ID,
        API_URL,
        DEADLINE_SECONDS,
        RATE_LIMIT_SECONDS,
        HTTP_TIMEOUT_SECONDS,
        PROGRESS_SECONDS,
        CONFIRM,
        STATUS_URL,
        STATUS_TOKEN,
        CONFIRM_DEADLINE_SECONDS,
        POLL_SECONDS,
    )
)
"""Every stack config key this module reads (the provider copies only these from configure())."""

_WHITESPACE = re.compile(r"\s")
_API_URL_EXAMPLE = "https://api.streampixel.io/pixelStripeApi"
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


class ConfigSource(Protocol):
    """Anything with ``get(key)``: a plain mapping or pulumi.dynamic.Config."""

    def get(self, key: str) -> Any: ...


class Settings(BaseModel):
    """Everything the provider needs to talk to Streampixel, already validated.

    `api_key` and `user_id` are None when not configured: preview and delete need neither,
    and `require_credentials()` fails before any request with the keys to set. The same goes
    for `status_url` and `status_token`, needed only when releases are confirmed
    (`require_status()`).
    """

    model_config = ConfigDict(frozen=True)

    api_key: SecretStr | None = None
    user_id: str | None = None
    api_url: str = DEFAULT_API_URL
    deadline_seconds: float = 900.0
    rate_limit_seconds: float = 120.0
    http_timeout_seconds: float = 30.0
    progress_seconds: float = 15.0
    confirm: bool = False
    status_url: str | None = None
    status_token: SecretStr | None = None
    confirm_deadline_seconds: float = 900.0
    poll_seconds: float = 10.0
    cache_dir: Path

    @classmethod
    def load(
        cls,
        stack: ConfigSource | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Read every setting from `stack` config, falling back to `environ`.

        Args:
            stack: the stack config (``namespace:key`` -> string), e.g. the ``config`` of
                pulumi.dynamic.ConfigureRequest; None reads the environment only.
            environ: the environment; defaults to ``os.environ``.

        Raises:
            ConfigError: a value is present but invalid; names the key it came from.
        """
        env = os.environ if environ is None else environ
        reader = _Reader(stack, env)
        api_key = reader.text(API_KEY)
        status_token = reader.text(STATUS_TOKEN)
        return cls(
            api_key=SecretStr(api_key) if api_key is not None else None,
            user_id=reader.text(USER_ID),
            api_url=reader.url(API_URL, _API_URL_EXAMPLE) or DEFAULT_API_URL,
            deadline_seconds=reader.seconds(DEADLINE_SECONDS, 900.0),
            rate_limit_seconds=reader.seconds(RATE_LIMIT_SECONDS, 120.0, allow_zero=True),
            http_timeout_seconds=reader.seconds(HTTP_TIMEOUT_SECONDS, 30.0),
            progress_seconds=reader.seconds(PROGRESS_SECONDS, 15.0),
            confirm=reader.flag(CONFIRM, default=False),
            status_url=reader.status_url(),
            status_token=SecretStr(status_token) if status_token is not None else None,
            confirm_deadline_seconds=reader.seconds(CONFIRM_DEADLINE_SECONDS, 900.0),
            poll_seconds=reader.seconds(POLL_SECONDS, 10.0),
            cache_dir=_cache_dir(env),
        )

    def require_credentials(self) -> tuple[SecretStr, str]:
        """Return (api_key, user_id) or fail, before any request, naming what to set.

        Raises:
            ConfigError: the key or the user id is missing.
        """
        api_key, user_id = self.api_key, self.user_id
        missing = [key for key, value in ((API_KEY, api_key), (USER_ID, user_id)) if not value]
        if missing or api_key is None or user_id is None:
            names = " and ".join(key.stack for key in missing)
            how = " and ".join(
                f"`pulumi config set{' --secret' if key is API_KEY else ''} {key.stack} ...`"
                for key in missing
            )
            variables = " and ".join(key.env for key in missing)
            msg = f"missing Streampixel credentials: set {how}, or the environment variable(s) {variables}"
            raise ConfigError(names, msg)
        return api_key, user_id

    def require_status(self) -> tuple[str, SecretStr]:
        """Return (status_url, status_token) for confirmed releases, or fail naming what to set.

        Raises:
            ConfigError: the webhook receiver's URL or read token is missing.
        """
        url, token = self.status_url, self.status_token
        missing = [key for key, value in ((STATUS_URL, url), (STATUS_TOKEN, token)) if not value]
        if missing or url is None or token is None:
            names = " and ".join(key.stack for key in missing)
            how = " and ".join(
                f"`pulumi config set{' --secret' if key is STATUS_TOKEN else ''} {key.stack} ...`"
                for key in missing
            )
            variables = " and ".join(key.env for key in missing)
            msg = (
                "confirmed releases need the webhook receiver (streampixel-webhooks): "
                f"set {how}, or the environment variable(s) {variables}; or turn confirmation "
                "off (streampixel:confirm false, or confirm=False on the resource)"
            )
            raise ConfigError(names, msg)
        return url, token


def confirm_requested(
    stack: ConfigSource | None = None, environ: Mapping[str, str] | None = None
) -> bool:
    """Whether streampixel:confirm (or STREAMPIXEL_CONFIRM) turns confirmation on.

    Reads that one setting only, so a refresh can tell whether to ask the webhook receiver
    without failing on an unrelated broken setting.

    Raises:
        ConfigError: the value is not a boolean.
    """
    reader = _Reader(stack, os.environ if environ is None else environ)
    return reader.flag(CONFIRM, default=False)


class _Reader:
    """Looks a key up in stack config then the environment and parses it."""

    def __init__(self, stack: ConfigSource | None, environ: Mapping[str, str]) -> None:
        self._stack = stack
        self._environ = environ

    def _raw(self, key: Key) -> tuple[str, str] | None:
        """Return (name of the source key, raw string) or None when unset or empty."""
        if self._stack is not None:
            value = self._stack.get(key.stack)
            if value is not None and value != "":
                if isinstance(value, bool):
                    value = "true" if value else "false"
                elif isinstance(value, (int, float)):
                    value = str(value)
                if not isinstance(value, str):
                    raise ConfigError(key.stack, "must be a string")
                return key.stack, value
        value = self._environ.get(key.env)
        if value is not None and value.strip() != "":
            return key.env, value
        return None

    def text(self, key: Key) -> str | None:
        found = self._raw(key)
        if found is None:
            return None
        name, value = found
        value = value.strip()
        if _WHITESPACE.search(value):
            raise ConfigError(name, "must not contain whitespace")
        return value

    def url(self, key: Key, example: str) -> str | None:
        found = self._raw(key)
        if found is None:
            return None
        name, value = found
        value = value.strip().rstrip("/")
        if _WHITESPACE.search(value) or not re.match(r"^https?://[^/?#]+", value):
            raise ConfigError(name, f"must be an http(s) URL such as {example}")
        if "?" in value or "#" in value or "@" in value.split("/")[2]:
            raise ConfigError(name, "must be a plain base URL without credentials or query")
        return value

    def status_url(self) -> str | None:
        """The receiver's root URL; never its webhook URL, whose path holds the hook token."""
        value = self.url(STATUS_URL, "https://hooks.example.com")
        if value is not None and "/hooks/" in f"{value}/":
            found = self._raw(STATUS_URL)
            name = found[0] if found else STATUS_URL.stack
            raise ConfigError(
                name,
                "must be the webhook receiver's root URL (https://host), not the /hooks/... "
                "URL given to Streampixel: that one contains the webhook token",
            )
        return value

    def flag(self, key: Key, *, default: bool) -> bool:
        found = self._raw(key)
        if found is None:
            return default
        name, value = found
        word = value.strip().casefold()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ConfigError(name, "must be true or false")

    def seconds(self, key: Key, default: float, *, allow_zero: bool = False) -> float:
        found = self._raw(key)
        if found is None:
            return default
        name, value = found
        try:
            number = float(value.strip())
        except ValueError:
            raise ConfigError(name, "must be a number of seconds") from None
        if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
            need = "zero or more" if allow_zero else "more than zero"
            raise ConfigError(name, f"must be a finite number of seconds, {need}")
        return number


def _cache_dir(environ: Mapping[str, str]) -> Path:
    """Where pacing lock files live: STREAMPIXEL_CACHE_DIR, else the user's cache dir."""
    explicit = environ.get(_CACHE_DIR_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "streampixel-pulumi"
