"""The sticky proxy (serve/proxy.py) in front of fake workers: HTTP and the websocket pass
both ways as sent, a cookie pins a browser to one worker, and a browser whose worker is gone
is routed to another one."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from serve.proxy import (
    COOKIE,
    STATUS_PATH,
    Proxy,
    Routes,
    Upstream,
    pinned_worker,
    proxy_config,
)
from tests.serve.loop import run_scenario


def fake_worker(name: str):
    """An ASGI app that says which worker it is and what reached it."""

    async def app(scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        seen = {
            "worker": name,
            "path": scope["path"],
            "query": scope["query_string"].decode(),
            "host": headers.get("host"),
            "identity": headers.get("x-forwarded-email"),
            "cookie": headers.get("cookie"),
            "origin": headers.get("origin"),
        }
        if scope["type"] == "http":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            seen |= {"method": scope["method"], "body_sha256": hashlib.sha256(body).hexdigest()}
            answer = json.dumps(seen).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 201 if scope["method"] == "PUT" else 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"set-cookie", b"first=1; Path=/"),
                        (b"set-cookie", b"second=2; Path=/"),
                    ],
                }
            )
            # In pieces, as a streamed download comes.
            for start in range(0, len(answer), 7):
                chunk = answer[start : start + 7]
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        await receive()  # websocket.connect
        offered = scope.get("subprotocols") or []
        await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None})
        await send({"type": "websocket.send", "text": json.dumps(seen | {"offered": offered})})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") == "bye":
                await send({"type": "websocket.close", "code": 1000})
                return
            if message.get("bytes") is not None:
                await send({"type": "websocket.send", "bytes": message["bytes"][::-1]})
            else:
                await send({"type": "websocket.send", "text": f"{name}:{message['text']}"})

    return app


class Served:
    """An ASGI app on a loopback port in this event loop."""

    def __init__(self, app, config=None) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = config or uvicorn.Config(app, log_level="warning", ws="websockets-sansio")
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task | None = None

    async def start(self) -> Served:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started:
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task


@contextlib.asynccontextmanager
async def cluster(workers: int = 2) -> AsyncIterator[tuple[str, list[Upstream], list[Served]]]:
    """`workers` fake workers, ready, behind the proxy: (the proxy's base URL, the routes'
    upstreams, the workers' servers)."""
    servers = [await Served(fake_worker(str(n))).start() for n in range(workers)]
    upstreams = [Upstream(str(n), port=s.port, ready=True) for n, s in enumerate(servers)]
    app = Proxy(Routes(upstreams), connect_timeout_s=2)
    proxy = await Served(app, proxy_config(app, "127.0.0.1", 0)).start()
    try:
        yield f"127.0.0.1:{proxy.port}", upstreams, servers
    finally:
        await proxy.stop()
        for server in servers:
            if not server.server.should_exit:
                await server.stop()


def run(scenario) -> None:
    run_scenario(scenario, 30)


def pin_of(response: httpx.Response) -> str | None:
    return httpx.Cookies(response.cookies).get(COOKIE)


def test_http_passes_method_path_body_and_headers_both_ways():
    body = bytes(range(256)) * 4096  # 1 MiB, sent in pieces as an upload comes

    async def pieces():
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    async def scenario():
        async with cluster(1) as (address, _, _), httpx.AsyncClient(trust_env=False) as client:
            response = await client.put(
                f"http://{address}/_stcore/upload_file/s1/f1?x=1&y=%C3%A9",
                content=pieces(),
                headers={"Host": "atlas.example.com", "X-Forwarded-Email": "anna@example.com"},
            )
            assert response.status_code == 201
            seen = response.json()
            assert seen["method"] == "PUT"
            assert seen["path"] == "/_stcore/upload_file/s1/f1"
            assert seen["query"] == "x=1&y=%C3%A9"
            assert seen["host"] == "atlas.example.com"  # the browser's, not the worker's
            assert seen["identity"] == "anna@example.com"
            assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()
            # Both of the worker's cookies, and the proxy's pin beside them.
            cookies = response.headers.get_list("set-cookie")
            assert cookies[:2] == ["first=1; Path=/", "second=2; Path=/"]
            assert cookies[2] == f"{COOKIE}=0; Path=/; HttpOnly; SameSite=Lax"
            # The worker's Date and Server headers, once each.
            assert len(response.headers.get_list("date")) == 1
            assert response.headers.get_list("server") == ["uvicorn"]

    run(scenario)


def test_websocket_passes_subprotocols_origin_and_messages_both_ways():
    async def scenario():
        async with (
            cluster(1) as (address, _, _),
            connect(
                f"ws://{address}/_stcore/stream",
                # What Streamlit's page offers: the protocol, its XSRF token, the session to resume.
                subprotocols=["streamlit", "xsrf-token", "session-42"],
                origin=f"http://{address}",
                additional_headers={"Cookie": "_streamlit_xsrf=abc"},
                max_size=None,
            ) as socket_,
        ):
            assert socket_.subprotocol == "streamlit"
            assert socket_.response.headers["Set-Cookie"].startswith(f"{COOKIE}=0;")
            seen = json.loads(await socket_.recv())
            assert seen["offered"] == ["streamlit", "xsrf-token", "session-42"]
            assert seen["origin"] == f"http://{address}"
            assert seen["host"] == address
            assert seen["cookie"] == "_streamlit_xsrf=abc"
            await socket_.send(b"\x00\x01binary")
            assert await socket_.recv() == b"yranib\x01\x00"
            await socket_.send("text")
            assert await socket_.recv() == "0:text"
            big = bytes(3 * 2**20)  # over websockets' 1 MiB default: a page's deltas can be
            await socket_.send(big)
            assert await socket_.recv() == big
            await socket_.send("bye")  # the worker closes: so does the proxy, with its code
            with pytest.raises(ConnectionClosed) as closed:
                await socket_.recv()
            assert closed.value.rcvd.code == 1000

    run(scenario)


def test_a_cookie_pins_a_browser_to_one_worker_and_new_browsers_are_spread():
    async def scenario():
        async with cluster(2) as (address, _, _):
            firsts = []
            for _ in range(4):  # four browsers
                async with httpx.AsyncClient(trust_env=False) as browser:
                    first = await browser.get(f"http://{address}/")
                    worker = first.json()["worker"]
                    assert pin_of(first) == worker
                    firsts.append(worker)
                    for path in ("/_stcore/health", "/media/abc.png", "/static/world.json"):
                        again = await browser.get(f"http://{address}{path}")
                        assert again.json()["worker"] == worker
                        assert pin_of(again) is None  # pinned already: no new cookie
                    async with connect(
                        f"ws://{address}/_stcore/stream",
                        additional_headers={"Cookie": f"{COOKIE}={worker}"},
                    ) as socket_:
                        assert json.loads(await socket_.recv())["worker"] == worker
                        assert "Set-Cookie" not in socket_.response.headers
            assert sorted(firsts) == ["0", "0", "1", "1"]

    run(scenario)


def test_new_websockets_go_to_the_worker_with_fewest_open():
    async def scenario():
        async with cluster(2) as (address, upstreams, _):
            pinned = await connect(
                f"ws://{address}/_stcore/stream", additional_headers={"Cookie": f"{COOKIE}=0"}
            )
            await pinned.recv()
            assert [u.sockets for u in upstreams] == [1, 0]
            for _ in range(3):  # no cookie: each goes to the less loaded worker
                async with connect(f"ws://{address}/_stcore/stream") as socket_:
                    assert json.loads(await socket_.recv())["worker"] == "1"
            await pinned.close()

    run(scenario)


def test_a_browser_whose_worker_is_gone_is_routed_to_another():
    async def scenario():
        async with cluster(2) as (address, upstreams, servers):
            await servers[0].stop()  # worker 0 dies before its supervisor notices
            assert upstreams[0].ready
            async with httpx.AsyncClient(trust_env=False) as browser:
                browser.cookies.set(COOKIE, "0")
                response = await browser.get(f"http://{address}/")
                assert response.status_code == 200
                assert response.json()["worker"] == "1"
                assert pin_of(response) == "1"  # re-pinned
            assert not upstreams[0].ready  # and nobody new is sent there
            async with connect(
                f"ws://{address}/_stcore/stream", additional_headers={"Cookie": f"{COOKIE}=0"}
            ) as socket_:
                assert json.loads(await socket_.recv())["worker"] == "1"
                assert socket_.response.headers["Set-Cookie"].startswith(f"{COOKIE}=1;")

    run(scenario)


def test_an_open_websocket_is_closed_when_its_worker_goes_so_the_page_reconnects():
    async def scenario():
        async with cluster(2) as (address, _, servers):
            socket_ = await connect(
                f"ws://{address}/_stcore/stream", additional_headers={"Cookie": f"{COOKIE}=1"}
            )
            await socket_.recv()
            await servers[1].stop()
            with pytest.raises(ConnectionClosed):
                await socket_.recv()
            # Streamlit's page reconnects (the proxy said 1012, service restart): to worker 0.
            assert socket_.close_code in (1001, 1012)

    run(scenario)


def test_no_worker_ready_is_a_clear_503_and_a_refused_websocket():
    async def scenario():
        async with cluster(2) as (address, upstreams, _), httpx.AsyncClient() as client:
            assert (await client.get(f"http://{address}{STATUS_PATH}")).text == (
                "2 of 2 workers ready"
            )
            for upstream in upstreams:
                upstream.ready = False  # both starting
            status = await client.get(f"http://{address}{STATUS_PATH}")
            assert (status.status_code, status.text) == (503, "0 of 2 workers ready")
            response = await client.get(f"http://{address}/")
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            assert "No Sales Atlas server is ready yet" in response.text
            with pytest.raises(InvalidStatus):
                await connect(f"ws://{address}/_stcore/stream")

    run(scenario)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"a=1; sales_atlas_worker=1; b=2", "1"),
        (b'sales_atlas_worker="0"', "0"),
        (b"sales_atlas_worker_old=1", None),
        (b"garbage;;=", None),
    ],
)
def test_pinned_worker_reads_its_own_cookie_only(header, expected):
    assert pinned_worker([(b"cookie", header)]) == expected


def test_a_pin_to_a_worker_not_ready_goes_to_a_ready_one():
    upstreams = [Upstream("0", port=1, ready=False), Upstream("1", port=2, ready=True)]
    routes = Routes(upstreams)
    assert routes.choose("0").name == "1"
    assert routes.choose("7").name == "1"  # a stale or made-up value is a new browser
    upstreams[0].ready = True
    assert routes.choose("0").name == "0"
