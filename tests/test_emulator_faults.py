"""Queued faults over real HTTP: replaced answers, raw bodies, delays, drops, `process`."""

from __future__ import annotations

import httpx
import pytest

from streampixel_pulumi.emulator.control import EmulatorControlError
from streampixel_pulumi.emulator.demo import DEMO_PROJECT_ID, DEMO_UPLOAD_IDS
from streampixel_pulumi.emulator.server import EmulatorServer
from tests.fixtures_emulator import demo_body, demo_query

DISTRIBUTE = "/projects/distribute-file"


def history(emulator: EmulatorServer) -> list[str]:
    """Upload ids of the demo project's distribution history."""
    return [h["upload_id"] for h in emulator.control.project(DEMO_PROJECT_ID)["history"]]


def test_status_fault_replaces_answer_without_processing(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """A status fault answers 500 with the default message and the distribution is not made."""
    emulator.control.add_fault(DISTRIBUTE, status=500)
    response = emulator_api.post(DISTRIBUTE, json=demo_body())
    assert (response.status_code, response.json()) == (500, {"message": "Internal server error"})
    assert history(emulator) == []
    entry = emulator.control.requests(DISTRIBUTE)[0]
    assert (entry["status"], entry["fault"]["status"]) == (500, 500)


def test_fault_with_json_body_and_headers(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """A fault can answer any status with a JSON body and extra headers."""
    emulator.control.add_fault(
        DISTRIBUTE,
        status=429,
        body={"message": "Rate limit exceeded. Try again in 87 seconds.", "retryAfter": 87},
        headers={"Retry-After": "87"},
    )
    response = emulator_api.post(DISTRIBUTE, json=demo_body())
    assert response.status_code == 429
    assert response.headers["retry-after"] == "87"
    assert response.json()["retryAfter"] == 87


@pytest.mark.parametrize(
    ("raw_body", "content_type"),
    [
        ('{"success": true, "uploadId": ', "application/json"),
        ("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    ],
    ids=["malformed-json", "html-page"],
)
def test_raw_body_fault_sends_bytes_verbatim(
    emulator: EmulatorServer, emulator_api: httpx.Client, raw_body: str, content_type: str
) -> None:
    """raw_body is sent verbatim with the given content type."""
    emulator.control.add_fault(DISTRIBUTE, status=200, raw_body=raw_body, content_type=content_type)
    response = emulator_api.post(DISTRIBUTE, json=demo_body())
    assert response.text == raw_body
    assert response.headers["content-type"] == content_type


def test_process_fault_records_distribution_then_breaks_answer(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """process=True runs the real handler (distribution recorded), then answers the fault."""
    emulator.control.add_fault(DISTRIBUTE, status=502, process=True)
    response = emulator_api.post(DISTRIBUTE, json=demo_body())
    assert response.status_code == 502
    assert history(emulator) == [DEMO_UPLOAD_IDS[0]]
    emulator.control.wait_for_live(DEMO_PROJECT_ID, DEMO_UPLOAD_IDS[0])


def test_process_fault_with_only_headers_keeps_real_answer(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """A processed fault without status or body keeps the real answer and adds its headers."""
    emulator.control.add_fault(DISTRIBUTE, headers={"X-Fault": "yes"}, process=True)
    response = emulator_api.post(DISTRIBUTE, json=demo_body())
    assert (response.status_code, response.json()["success"]) == (200, True)
    assert response.headers["x-fault"] == "yes"


def test_drop_fault_closes_connection_mid_answer(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """drop=True: the client sees headers then a closed connection (RemoteProtocolError)."""
    emulator.control.add_fault(DISTRIBUTE, drop=True, process=True)
    with pytest.raises(httpx.RemoteProtocolError):
        emulator_api.post(DISTRIBUTE, json=demo_body())
    assert history(emulator) == [DEMO_UPLOAD_IDS[0]]
    entry = emulator.control.requests(DISTRIBUTE)[0]
    assert (entry["status"], entry["dropped"]) == (200, True)


def test_drop_fault_without_process_has_no_effect(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """drop without process: the connection closes and nothing was distributed."""
    emulator.control.add_fault(DISTRIBUTE, drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        emulator_api.post(DISTRIBUTE, json=demo_body())
    assert history(emulator) == []
    assert emulator.control.distribute_calls() == 1


def test_delay_fault_causes_client_read_timeout(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """A delay longer than the client's timeout is a read timeout; the request is logged."""
    emulator.control.add_fault(DISTRIBUTE, delay=2.0, process=True)
    with pytest.raises(httpx.ReadTimeout):
        emulator_api.post(DISTRIBUTE, json=demo_body(), timeout=0.3)
    assert emulator.control.distribute_calls(DEMO_PROJECT_ID) == 1
    assert history(emulator) == [DEMO_UPLOAD_IDS[0]]


def test_short_delay_fault_still_answers(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """A delay shorter than the client timeout delays a (faulted) answer that still arrives."""
    emulator.control.add_fault(DISTRIBUTE, delay=0.2, status=503)
    response = emulator_api.post(DISTRIBUTE, json=demo_body(), timeout=5)
    assert (response.status_code, response.json()) == (503, {"message": "Service Unavailable"})


def test_fault_count_applies_to_that_many_requests(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """count=2 faults two requests; the third gets the real answer."""
    control = emulator.control
    control.add_fault(DISTRIBUTE, status=500, count=2)
    assert control.faults()[0]["count"] == 2
    statuses = [emulator_api.post(DISTRIBUTE, json=demo_body()).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert control.faults() == []
    assert control.distribute_calls() == 3


def test_fault_matches_method_and_prefix(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """A GET fault with a trailing * matches any path under the prefix, not POSTs."""
    emulator.control.add_fault("/pixelStripeApi/projects/userStats/*", method="GET", status=500)
    response = emulator_api.post(DISTRIBUTE, json=demo_body())
    assert response.status_code == 200
    response = emulator_api.get(f"/projects/userStats/{DEMO_PROJECT_ID}", params=demo_query())
    assert response.status_code == 500


def test_clear_faults_removes_queued_faults(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """clear_faults() drops every queued fault."""
    emulator.control.add_fault(DISTRIBUTE, status=500, count=5)
    emulator.control.clear_faults()
    assert emulator_api.post(DISTRIBUTE, json=demo_body()).status_code == 200


def test_invalid_fault_is_refused(emulator: EmulatorServer) -> None:
    """A fault with an impossible status is refused by the control API with 400."""
    with pytest.raises(EmulatorControlError) as caught:
        emulator.control.add_fault(DISTRIBUTE, status=42)
    assert caught.value.status_code == 400
    assert "status" in caught.value.message
