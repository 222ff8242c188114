"""TcpFaultProxy breaks connections below HTTP, as a failing network would."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from streampixel_pulumi.emulator.tcpfaults import TcpFault, TcpFaultProxy
from streampixel_pulumi.serving import ServerThread


@pytest.fixture
def counted() -> Iterator[tuple[TcpFaultProxy, list[bytes]]]:
    """A tiny upstream that records each POST body, behind a fault proxy."""
    received: list[bytes] = []
    app = FastAPI()

    @app.post("/echo")
    async def echo(body: dict[str, int]) -> dict[str, int]:
        received.append(repr(body).encode())
        return body

    with ServerThread(app) as upstream, TcpFaultProxy(upstream.port) as proxy:
        yield proxy, received


def test_proxy_passes_requests_through_by_default(counted) -> None:
    """Without an injected fault the answer is relayed unchanged."""
    proxy, received = counted
    response = httpx.post(f"{proxy.url}/echo", json={"n": 1})
    assert response.json() == {"n": 1}
    assert len(received) == 1


def test_reset_on_accept_never_reaches_upstream(counted) -> None:
    """A reset on accept fails the request and nothing reaches the server."""
    proxy, received = counted
    proxy.inject(TcpFault.RESET_ON_ACCEPT)
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{proxy.url}/echo", json={"n": 1})
    assert received == []


def test_reset_after_request_reaches_upstream_but_loses_answer(counted) -> None:
    """A reset after forwarding: the server acted, the client saw no answer."""
    proxy, received = counted
    proxy.inject(TcpFault.RESET_AFTER_REQUEST)
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{proxy.url}/echo", json={"n": 2})
    assert len(received) == 1


def test_blackhole_times_out_the_client(counted) -> None:
    """A black hole reads the request and never answers."""
    proxy, received = counted
    proxy.inject(TcpFault.BLACKHOLE)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{proxy.url}/echo", json={"n": 3}, timeout=0.3)
    assert received == []


def test_faults_apply_to_the_next_connections_only(counted) -> None:
    """After `count` broken connections traffic flows again."""
    proxy, _ = counted
    proxy.inject(TcpFault.RESET_ON_ACCEPT, count=2)
    for _ in range(2):
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{proxy.url}/echo", json={"n": 4})
    assert httpx.post(f"{proxy.url}/echo", json={"n": 5}).json() == {"n": 5}
