"""Fuzzing the emulator and the webhook receiver over HTTP: no generated request gets a 5xx.

Requests are generated with hypothesis: for the emulator from its own OpenAPI schema
(``/_emulator/openapi.json``: every route, method and path parameter) with hostile JSON
bodies, query strings and headers; for the receiver (whose docs are off) from its route list,
with right and wrong tokens. A 5xx would mean an unhandled exception: both servers must answer
bad input with a 4xx and a ``{"message": ...}`` body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streampixel_pulumi.emulator.demo import (
    DEMO_API_KEY,
    DEMO_PROJECT_ID,
    DEMO_UPLOAD_IDS,
    DEMO_USER_ID,
)
from streampixel_pulumi.emulator.server import EmulatorServer
from streampixel_pulumi.emulator.settings import EmulatorSettings
from streampixel_pulumi.webhooks.server import ReceiverServer

_FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
_METHODS = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"])
_IDS = st.sampled_from([DEMO_PROJECT_ID, *DEMO_UPLOAD_IDS, DEMO_USER_ID, "", "..", "%00"]) | (
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FF), max_size=30)
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [DEMO_API_KEY, DEMO_USER_ID, DEMO_PROJECT_ID, *DEMO_UPLOAD_IDS, "Approved", "x" * 300]
    )
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=15,
)


def _objects(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects using the given field names (any value), plus a random extra field."""
    return st.fixed_dictionaries(
        {}, optional=dict.fromkeys(names, _JSON | _SCALARS)
    ) | st.dictionaries(st.sampled_from([*names, "extra"]), _JSON, max_size=4)


_API_FIELDS = ["apiKey", "userId", "projectId", "uploadId", "fileUrl", "autoRelease"]
_SEED_FIELDS = ["user_id", "api_key", "project_id", "upload_id", "status", "name", "region"]
_MORE_SEED_FIELDS = ["live_upload_id", "webhook_events", "reject_at", "objection", "auto_release"]
_SEED_ITEM = _objects([*_SEED_FIELDS, "enabled", "file_url", *_MORE_SEED_FIELDS])
_CONTROL_BODY = st.one_of(
    _objects(["users", "projects", "uploads", "seed"]),
    st.fixed_dictionaries(
        {},
        optional={
            "users": st.lists(_SEED_ITEM, max_size=2),
            "projects": st.lists(_SEED_ITEM, max_size=2),
            "uploads": st.lists(_SEED_ITEM, max_size=2),
        },
    ),
    _objects([*EmulatorSettings.model_fields]),
    _objects(["path", "method", "count", "status", "body", "raw_body", "headers", "delay"]),
    _objects(["enabled", "region", "live_upload_id", "webhook_events", "api_key", "reject_at"]),
)
_RAW = st.binary(max_size=200) | st.sampled_from(
    [b"", b"{", b"[]", b"null", b'"text"', b"[" * 3000 + b"]" * 3000, b'{"a":' * 2000 + b"1"]
)
_QUERY = st.dictionaries(
    st.sampled_from(["userId", "apikey", "path", "limit", "since", "project_id", "x"]),
    _IDS,
    max_size=3,
)
_CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "", "text/html"]
)


def _fill(template: str, data: st.DataObject) -> str:
    """The schema path with each ``{param}`` replaced by a generated, URL-quoted segment."""
    return re.sub(r"\{[^}]+\}", lambda _m: quote(data.draw(_IDS), safe=""), template)


def _send(
    http: httpx.Client,
    method: str,
    path: str,
    data: st.DataObject,
    bodies: st.SearchStrategy[Any],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    query = data.draw(_QUERY)
    body = data.draw(st.none() | bodies | _RAW)
    content = body if isinstance(body, bytes) else None if body is None else json.dumps(body)
    sent = {"content-type": data.draw(_CONTENT_TYPES), **(headers or {})}
    return http.request(method, path, params=query, content=content, headers=sent)


@pytest.fixture
def emulator_http(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """One HTTP client for all the examples of a test, aimed at the emulator's root."""
    with httpx.Client(base_url=emulator.url, timeout=10) as http:
        yield http


@pytest.fixture
def receiver_http(webhook_receiver: ReceiverServer) -> Iterator[httpx.Client]:
    """One HTTP client for all the examples of a test, aimed at the receiver's root."""
    with httpx.Client(base_url=webhook_receiver.url, timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def openapi_paths(_emulator_server: EmulatorServer) -> dict[str, list[str]]:
    """The emulator's routes and their methods, from its OpenAPI schema."""
    schema = httpx.get(f"{_emulator_server.url}/_emulator/openapi.json", timeout=10).json()
    return {path: [m.upper() for m in methods] for path, methods in schema["paths"].items()}


def _routes(paths: dict[str, list[str]], prefix: str) -> list[tuple[str, str]]:
    return [
        (m, path) for path, methods in paths.items() if path.startswith(prefix) for m in methods
    ]


def test_openapi_schema_lists_every_api_route(openapi_paths: dict[str, list[str]]) -> None:
    """The schema the fuzzing draws from has the five documented Streampixel routes."""
    assert len(_routes(openapi_paths, "/pixelStripeApi/")) == 5
    assert len(_routes(openapi_paths, "/_emulator/")) >= 15


@settings(max_examples=200, deadline=None, suppress_health_check=_FIXTURES)
@given(data=st.data())
def test_emulator_api_never_answers_5xx(
    emulator_http: httpx.Client, openapi_paths: dict[str, list[str]], data: st.DataObject
) -> None:
    """Any method, path, query, header and body sent to the API gets a 2xx or 4xx answer."""
    routes = _routes(openapi_paths, "/pixelStripeApi/")
    method, template = data.draw(st.sampled_from(routes))
    method = data.draw(st.just(method) | _METHODS)
    path = _fill(template, data) + data.draw(st.sampled_from(["", "", "/", "/extra", "?"]))
    answer = _send(emulator_http, method, path, data, _objects(_API_FIELDS))
    assert answer.status_code < 500, (method, path, answer.text)
    if answer.status_code >= 400:
        assert isinstance(answer.json().get("message"), str), answer.text


@settings(max_examples=200, deadline=None, suppress_health_check=_FIXTURES)
@given(data=st.data())
def test_emulator_control_routes_never_answer_5xx(
    emulator: EmulatorServer,
    emulator_http: httpx.Client,
    openapi_paths: dict[str, list[str]],
    data: st.DataObject,
) -> None:
    """Any request to a control route (seeds, settings, faults, patches) gets a 2xx or 4xx."""
    routes = [r for r in _routes(openapi_paths, "/_emulator/") if r[1] != "/_emulator/reset"]
    method, template = data.draw(st.sampled_from(routes))
    method = data.draw(st.just(method) | _METHODS)
    path = _fill(template, data)
    answer = _send(emulator_http, method, path, data, _CONTROL_BODY)
    emulator.control.clear_faults()
    assert answer.status_code < 500, (method, path, answer.text)


@settings(max_examples=50, deadline=None, suppress_health_check=_FIXTURES)
@given(body=st.none() | _CONTROL_BODY | _RAW)
def test_emulator_reset_never_answers_5xx(emulator_http: httpx.Client, body: Any) -> None:
    """A reset with any seed, valid or not, answers 2xx or 4xx (a bad seed changes nothing)."""
    content = body if isinstance(body, bytes) else None if body is None else json.dumps(body)
    answer = emulator_http.post(
        "/_emulator/reset", content=content, headers={"content-type": "application/json"}
    )
    assert answer.status_code < 500, answer.text


# Receiver: `since` covers the whole calendar, its first and last days with extreme offsets
# included (their UTC form falls outside it).
_ZONES: st.SearchStrategy[tzinfo] = st.timezones() | st.sampled_from(
    [timezone(timedelta(hours=14)), timezone(timedelta(hours=-14))]
)
_SINCE = st.one_of(
    st.datetimes().map(datetime.isoformat),
    st.datetimes(timezones=_ZONES).map(datetime.isoformat),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]),
    _IDS,
    st.sampled_from(["2025-03-01", "2025-03-01T12:00:00Z", "yesterday", "1e9", "-1"]),
)
_RECEIVER_QUERY = st.fixed_dictionaries(
    {},
    optional={
        "project_id": _IDS,
        "since": _SINCE,
        "limit": st.integers().map(str) | _IDS,
    },
)


@settings(max_examples=200, deadline=None, suppress_health_check=_FIXTURES)
@given(data=st.data())
def test_receiver_never_answers_5xx(
    webhook_receiver: ReceiverServer, receiver_http: httpx.Client, data: st.DataObject
) -> None:
    """Any method, path, token, query and body sent to the receiver gets a 2xx or 4xx answer."""
    hook = webhook_receiver.hook_token.get_secret_value()
    read = webhook_receiver.read_token.get_secret_value()
    token = data.draw(st.sampled_from([hook, read, "", "wrong"]) | _IDS)
    template = data.draw(
        st.sampled_from(
            ["/hooks/{t}", "/uploads/{id}", "/projects/{id}/events", "/healthz", "/{id}", "/"]
        )
    )
    path = template.replace("{t}", quote(token, safe="")).replace(
        "{id}", quote(data.draw(_IDS), safe="")
    )
    method = data.draw(st.sampled_from(["POST" if "hooks" in template else "GET"]) | _METHODS)
    bearer = data.draw(
        st.sampled_from([f"Bearer {read}", f"Bearer {hook}", "Bearer", "", "Basic x"])
    )
    body = data.draw(st.none() | _JSON | _RAW)
    content = body if isinstance(body, bytes) else None if body is None else json.dumps(body)
    answer = receiver_http.request(
        method,
        path,
        params=data.draw(_RECEIVER_QUERY),
        content=content,
        headers={"authorization": bearer, "content-type": data.draw(_CONTENT_TYPES)},
    )
    assert answer.status_code < 500, (method, path, answer.text)


def test_emulator_refuses_json_nested_past_the_parsers_recursion(
    emulator_http: httpx.Client,
) -> None:
    """A body nested deeper than json can parse gets 400 Invalid JSON body, and is logged."""
    answer = emulator_http.post(
        "/pixelStripeApi/projects/distribute-file",
        content=b"[" * 50_000,  # below the emulator's 64 KiB body limit
        headers={"content-type": "application/json"},
    )
    assert (answer.status_code, answer.json()) == (400, {"message": "Invalid JSON body"})
    (logged,) = emulator_http.get("/_emulator/requests").json()
    assert logged["body"] == {"unparsed": "50000 bytes, not JSON"}
