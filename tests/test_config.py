"""Tests of Settings: stack config over environment, parsing, errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi.dynamic import Config

from streampixel_pulumi.config import DEFAULT_API_URL, STACK_KEYS, Settings, confirm_requested
from streampixel_pulumi.errors import ConfigError

KEY = "sk-test-0123456789"


def test_defaults_apply_when_nothing_is_configured(tmp_path: Path) -> None:
    """Without stack config or variables every setting has its documented default."""
    settings = Settings.load({}, {"HOME": str(tmp_path)})
    assert settings.api_key is None
    assert settings.user_id is None
    assert settings.api_url == DEFAULT_API_URL
    assert settings.deadline_seconds == 900
    assert settings.rate_limit_seconds == 120
    assert settings.http_timeout_seconds == 30
    assert settings.progress_seconds == 15
    assert settings.confirm is False
    assert (settings.status_url, settings.status_token) == (None, None)
    assert settings.confirm_deadline_seconds == 900
    assert settings.poll_seconds == 10


def test_stack_config_wins_over_environment() -> None:
    """A `streampixel:*` stack key beats the matching STREAMPIXEL_* variable."""
    stack = {"streampixel:userId": "stack-user", "streampixel:deadlineSeconds": "60"}
    env = {
        "STREAMPIXEL_USER_ID": "env-user",
        "STREAMPIXEL_DEADLINE_SECONDS": "30",
        "STREAMPIXEL_API_KEY": KEY,
    }
    settings = Settings.load(stack, env)
    assert settings.user_id == "stack-user"
    assert settings.deadline_seconds == 60
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == KEY


def test_reads_pulumi_dynamic_config_object() -> None:
    """The ConfigureRequest's Config (namespace:key lookups) is a valid source."""
    config = Config(
        {"streampixel:apiKey": KEY, "streampixel:apiUrl": "http://127.0.0.1:9/pixelStripeApi/"},
        project_name="app",
    )
    settings = Settings.load(config, {})
    assert settings.api_url == "http://127.0.0.1:9/pixelStripeApi"


def test_api_key_is_masked_in_repr_and_str() -> None:
    """The key is a SecretStr: neither repr nor str of Settings shows it."""
    settings = Settings.load({"streampixel:apiKey": KEY}, {})
    assert KEY not in repr(settings)
    assert KEY not in str(settings)


@pytest.mark.parametrize(
    ("source", "key", "value"),
    [
        ("stack", "streampixel:deadlineSeconds", "soon"),
        ("stack", "streampixel:rateLimitSeconds", "-1"),
        ("stack", "streampixel:httpTimeoutSeconds", "0"),
        ("stack", "streampixel:progressSeconds", "inf"),
        ("stack", "streampixel:apiUrl", "ftp://example.invalid"),
        ("stack", "streampixel:userId", "has space"),
        ("env", "STREAMPIXEL_DEADLINE_SECONDS", "nan"),
        ("env", "STREAMPIXEL_API_URL", "not a url"),
        ("stack", "streampixel:confirm", "maybe"),
        ("env", "STREAMPIXEL_CONFIRM", "enabled"),
        ("stack", "streampixel:statusUrl", "receiver.internal:8787"),
        ("stack", "streampixel:statusUrl", "https://u:p@hooks.example.com"),
        ("stack", "streampixel:statusToken", "two words"),
        ("stack", "streampixel:confirmDeadlineSeconds", "0"),
        ("env", "STREAMPIXEL_POLL_SECONDS", "-0.5"),
    ],
    ids=[
        "deadline-text",
        "rate-negative",
        "timeout-zero",
        "progress-inf",
        "url-scheme",
        "user-space",
        "env-deadline-nan",
        "env-url",
        "confirm-word",
        "env-confirm-word",
        "status-url-no-scheme",
        "status-url-credentials",
        "status-token-space",
        "confirm-deadline-zero",
        "env-poll-negative",
    ],
)
def test_invalid_value_raises_config_error_naming_the_key(
    source: str, key: str, value: str
) -> None:
    """An invalid value fails with ConfigError naming where it came from, not the value."""
    stack = {key: value} if source == "stack" else {}
    env = {key: value} if source == "env" else {}
    with pytest.raises(ConfigError) as caught:
        Settings.load(stack, env)
    assert caught.value.key == key
    if len(value) > 3:  # short values such as "0" may occur in the wording itself
        assert value not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("yes", True),
        ("1", True),
        ("on", True),
        ("false", False),
        ("No", False),
        ("0", False),
        ("off", False),
        (True, True),
    ],
    ids=["true", "upper", "yes", "one", "on", "false", "no", "zero", "off", "bool"],
)
def test_confirm_reads_the_usual_boolean_words(value: str | bool, expected: bool) -> None:
    """streampixel:confirm accepts true/false, yes/no, on/off, 1/0 in any case."""
    assert Settings.load({"streampixel:confirm": value}, {}).confirm is expected
    assert confirm_requested({"streampixel:confirm": value}, {}) is expected


def test_confirmation_settings_come_from_stack_or_environment() -> None:
    """The receiver URL, token, deadline and poll interval are read like every other key."""
    settings = Settings.load(
        {"streampixel:statusUrl": "https://hooks.example.com/", "streampixel:pollSeconds": "0.1"},
        {
            "STREAMPIXEL_CONFIRM": "true",
            "STREAMPIXEL_STATUS_TOKEN": KEY,
            "STREAMPIXEL_CONFIRM_DEADLINE_SECONDS": "30",
        },
    )
    url, token = settings.require_status()
    assert (url, token.get_secret_value()) == ("https://hooks.example.com", KEY)
    assert (settings.confirm, settings.confirm_deadline_seconds, settings.poll_seconds) == (
        True,
        30,
        0.1,
    )
    assert KEY not in repr(settings)


def test_status_url_must_not_be_the_webhook_url() -> None:
    """The /hooks/<token> URL given to Streampixel is refused as statusUrl, without echoing it."""
    hook = "https://hooks.example.com/hooks/hook-token-0123456789abcdef"
    with pytest.raises(ConfigError) as caught:
        Settings.load({"streampixel:statusUrl": hook}, {})
    assert caught.value.key == "streampixel:statusUrl"
    assert "root URL" in str(caught.value)
    assert "hook-token-0123456789abcdef" not in str(caught.value)


def test_missing_receiver_settings_name_the_keys_and_variables() -> None:
    """require_status names what is missing, how to set it, and how to turn confirmation off."""
    with pytest.raises(ConfigError) as caught:
        Settings.load({"streampixel:statusUrl": "http://127.0.0.1:9"}, {}).require_status()
    assert caught.value.key == "streampixel:statusToken"
    text = str(caught.value)
    assert "pulumi config set --secret streampixel:statusToken" in text
    assert "STREAMPIXEL_STATUS_TOKEN" in text
    assert "streampixel:confirm false" in text


def test_confirm_requested_ignores_other_broken_settings() -> None:
    """Whether to confirm is read alone, so a refresh is not stopped by an unrelated typo."""
    stack = {"streampixel:deadlineSeconds": "soon", "streampixel:confirm": "true"}
    assert confirm_requested(stack, {}) is True
    assert confirm_requested({}, {}) is False


def test_rate_limit_may_be_zero() -> None:
    """streampixel:rateLimitSeconds 0 turns pacing off (used against a permissive server)."""
    assert Settings.load({"streampixel:rateLimitSeconds": "0"}, {}).rate_limit_seconds == 0


def test_missing_credentials_name_the_keys_and_variables() -> None:
    """require_credentials names both config keys and both environment variables."""
    with pytest.raises(ConfigError) as caught:
        Settings.load({}, {}).require_credentials()
    text = str(caught.value)
    for name in (
        "streampixel:apiKey",
        "streampixel:userId",
        "STREAMPIXEL_API_KEY",
        "STREAMPIXEL_USER_ID",
    ):
        assert name in text


def test_missing_user_id_alone_is_reported() -> None:
    """With only the key set, the error names the user id and not the key."""
    with pytest.raises(ConfigError) as caught:
        Settings.load({"streampixel:apiKey": KEY}, {}).require_credentials()
    assert caught.value.key == "streampixel:userId"
    assert KEY not in str(caught.value)


def test_credentials_come_from_environment() -> None:
    """STREAMPIXEL_API_KEY and STREAMPIXEL_USER_ID are enough without stack config."""
    settings = Settings.load(None, {"STREAMPIXEL_API_KEY": KEY, "STREAMPIXEL_USER_ID": "u1"})
    api_key, user_id = settings.require_credentials()
    assert (api_key.get_secret_value(), user_id) == (KEY, "u1")


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an explicit environ the process environment is read."""
    monkeypatch.setenv("STREAMPIXEL_USER_ID", "from-os")
    assert Settings.load().user_id == "from-os"


def test_cache_dir_prefers_explicit_variable_then_xdg(tmp_path: Path) -> None:
    """STREAMPIXEL_CACHE_DIR wins; else $XDG_CACHE_HOME/streampixel-pulumi."""
    explicit = Settings.load({}, {"STREAMPIXEL_CACHE_DIR": str(tmp_path / "c")})
    assert explicit.cache_dir == tmp_path / "c"
    xdg = Settings.load({}, {"XDG_CACHE_HOME": str(tmp_path / "x")})
    assert xdg.cache_dir == tmp_path / "x" / "streampixel-pulumi"


def test_stack_keys_are_all_in_streampixel_namespace() -> None:
    """Every key read from stack config lives in the `streampixel:` namespace."""
    assert all(key.startswith("streampixel:") for key in STACK_KEYS)
    assert "streampixel:apiKey" in STACK_KEYS
