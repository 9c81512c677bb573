"""The reverse proxy: every request and websocket of a browser goes to the worker it is pinned to.

A Streamlit session lives in one process: its websocket (/_stcore/stream), its session state,
the files uploaded to it (/_stcore/upload_file/…) and the media and downloads it made
(/media/…). So the pin is per browser, by a cookie this proxy sets on the first response
(not by client address: a meeting room behind one NAT would land on one worker, and not per
request). A browser whose worker is gone is routed to another one and given its cookie; its
page reconnects there as after a server restart (a new session on the same link).

Plain ASGI over uvicorn, httpx and websockets, all three already there for Streamlit and its
sign-in: no new dependency, and raw header lists, so several Set-Cookie headers pass intact.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

import httpx
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

log = logging.getLogger("serve.proxy")

COOKIE = "sales_atlas_worker"
# The proxy's own answer: 200 once any worker takes users (a readiness probe for the public
# port), 503 before; the text says how many of how many are ready.
STATUS_PATH = "/_serve/health"
# Connection-level headers (RFC 9110 7.6.1) and the ones each hop negotiates for itself.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
WEBSOCKET_OWN = frozenset(
    {
        b"host",
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-extensions",
        b"sec-websocket-protocol",
    }
)
# Streamlit's own limit for a websocket message (server.maxMessageSize, 200 MB).
MAX_MESSAGE_BYTES = 200 * 2**20
# Close codes: 1013 "try again later" when no worker is ready; 1012 "service restart" when
# the worker went away (the page's reconnect then lands on another worker).
NO_WORKER_CLOSE, WORKER_GONE_CLOSE = 1013, 1012


@dataclass
class Upstream:
    """One worker as the proxy sees it; the supervisor (serve/workers.py) keeps it current."""

    name: str  # the cookie's value: the worker's slot, kept across its restarts
    port: int | None = None
    ready: bool = False  # primed and healthy: takes users
    sockets: int = 0  # websockets open through the proxy now


class Routes:
    """Which worker a request goes to: the one its cookie names while that one is ready,
    else the ready worker with the fewest open websockets (ties in turn, so twenty people
    arriving together before any websocket is open are spread evenly)."""

    def __init__(self, upstreams: Iterable[Upstream]) -> None:
        self.upstreams = list(upstreams)
        self._turn = 0

    def choose(self, pinned: str | None, avoid: Iterable[Upstream] = ()) -> Upstream | None:
        avoid = list(avoid)
        candidates = [u for u in self.upstreams if u.ready and u.port and u not in avoid]
        for upstream in candidates:
            if upstream.name == pinned:
                return upstream
        if not candidates:
            return None
        fewest = min(u.sockets for u in candidates)
        tied = [u for u in candidates if u.sockets == fewest]
        self._turn += 1
        return tied[self._turn % len(tied)]

    def status(self) -> tuple[int, str]:
        ready = sum(u.ready for u in self.upstreams)
        text = f"{ready} of {len(self.upstreams)} workers ready"
        return (200 if ready else 503), text


def pinned_worker(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The value of this proxy's cookie in the request's Cookie headers, if any."""
    for name, value in headers:
        if name.lower() != b"cookie":
            continue
        for pair in value.decode("latin-1").split(";"):
            key, _, cookie_value = pair.strip().partition("=")
            if key == COOKIE:
                return cookie_value.strip('"')
    return None


def pin_header(upstream: Upstream) -> tuple[bytes, bytes]:
    # A session cookie (gone when the browser closes, so a new day re-balances); HttpOnly
    # because no script needs it; not Secure, because it only names a worker: the proxy may
    # sit behind a TLS terminator and see plain HTTP.
    value = f"{COOKIE}={upstream.name}; Path=/; HttpOnly; SameSite=Lax"
    return b"set-cookie", value.encode("ascii")


def proxy_config(app: Proxy, host: str, port: int) -> uvicorn.Config:
    """uvicorn's settings for the public port: Streamlit's own for the browser's side (the
    same websocket implementation, no per-message compression, as its default
    server.enableWebsocketCompression = false, its message size limit), no access log, and
    no Date or Server header of its own (the worker's pass through)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=MAX_MESSAGE_BYTES,
        access_log=False,
        server_header=False,
        date_header=False,
        log_level="warning",
    )


class Proxy:
    """The ASGI application on the public port."""

    def __init__(self, routes: Routes, connect_timeout_s: float = 10.0) -> None:
        self.routes = routes
        self.connect_timeout_s = connect_timeout_s
        # No environment proxy for loopback traffic; no read timeout: a first run behind
        # /_stcore/script-health-check or a large download may take long, and a hung worker
        # is the supervisor's to restart, which closes its connections.
        self.client = httpx.AsyncClient(
            trust_env=False,
            timeout=httpx.Timeout(None, connect=connect_timeout_s),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def suspect(self, upstream: Upstream) -> None:
        """A worker refused a connection: no new users until the supervisor finds it
        healthy again (its process died, or is restarting)."""
        log.warning("worker %s refused a connection: routing around it", upstream.name)
        upstream.ready = False

    async def _http(self, scope, receive, send) -> None:
        if scope["path"] == STATUS_PATH:
            status, text = self.routes.status()
            await _plain(send, status, text)
            return
        headers = [(k.lower(), v) for k, v in scope["headers"]]
        pinned = pinned_worker(headers)
        content = await _request_body(receive)
        target = scope.get("raw_path") or scope["path"].encode()
        if scope["query_string"]:
            target += b"?" + scope["query_string"]
        forwarded = [(k, v) for k, v in headers if k not in HOP_BY_HOP]
        # GET and the like, with their body in hand, may be sent twice.
        replayable = scope["method"] in ("GET", "HEAD", "OPTIONS") and isinstance(content, bytes)
        tried: list[Upstream] = []
        prefer, retried = pinned, False
        while True:
            upstream = self.routes.choose(prefer, avoid=tried)
            if upstream is None:
                text = "No Sales Atlas server is ready yet; try again in a few seconds."
                await _plain(send, 503, text, retry_after=True)
                return
            # The request as the browser sent it, Host included (Streamlit compares the
            # websocket's Origin with it, and the sign-in's redirect address is the public one).
            request = httpx.Request(
                scope["method"],
                f"http://127.0.0.1:{upstream.port}{target.decode('latin-1')}",
                headers=forwarded,
                content=content,
            )
            try:
                response = await self.client.send(request, stream=True)
                break
            except httpx.ConnectError:
                # Refused: the worker is gone, and its sessions with it. Nothing was sent
                # (a body is read only once connected): the next worker takes the request.
                self.suspect(upstream)
                tried.append(upstream)
            except httpx.TransportError as problem:
                # A kept-alive connection the worker had just closed, say: once more on a
                # new connection to the same worker, whose sessions may be alive and well.
                if replayable and not retried:
                    prefer, retried = upstream.name, True
                    continue
                log.warning("worker %s did not answer: %r", upstream.name, problem)
                await _plain(send, 502, "The server did not answer; reload the page.")
                return
        response_headers = [(k, v) for k, v in response.headers.raw if k.lower() not in HOP_BY_HOP]
        if upstream.name != pinned:
            response_headers.append(pin_header(upstream))
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": response_headers,
                }
            )
            # Raw bytes: a gzip-encoded answer stays encoded, with its own Content-Length.
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except httpx.HTTPError as problem:  # the worker went away mid-answer
            log.warning("worker %s broke off an answer: %s", upstream.name, problem)
        finally:
            await response.aclose()

    async def _websocket(self, scope, receive, send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        headers = [(k.lower(), v) for k, v in scope["headers"]]
        pinned = pinned_worker(headers)
        host = next((v.decode("latin-1") for k, v in headers if k == b"host"), "localhost")
        target = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        # Every header the browser sent but the handshake's own, Origin, cookies and a
        # sign-in gateway's identity header included, and Streamlit's session details in the
        # subprotocol list (the XSRF token and the session to resume), passed as they came.
        forwarded = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in headers
            if k not in HOP_BY_HOP and k not in WEBSOCKET_OWN
        ]
        tried: list[Upstream] = []
        while True:
            upstream = self.routes.choose(pinned, avoid=tried)
            if upstream is None:
                await send({"type": "websocket.close", "code": NO_WORKER_CLOSE})
                return
            try:
                server = await connect(
                    # The URI gives the Host header (the browser's); host and port the socket.
                    f"ws://{host}{target}",
                    host="127.0.0.1",
                    port=upstream.port,
                    subprotocols=scope.get("subprotocols") or None,
                    additional_headers=forwarded,
                    user_agent_header=None,
                    # Loopback: compressing costs both ends CPU and saves nothing. Streamlit
                    # pings its side itself; the browser's side has uvicorn's pings.
                    compression=None,
                    ping_interval=None,
                    max_size=None,
                    open_timeout=self.connect_timeout_s,
                    proxy=None,
                )
                break
            except OSError:
                self.suspect(upstream)
                tried.append(upstream)
            except (InvalidHandshake, InvalidURI, TimeoutError) as refusal:
                # The worker said no (a disallowed Origin, say): so does the proxy.
                log.warning("worker %s refused a websocket: %s", upstream.name, refusal)
                await send({"type": "websocket.close", "code": 1008})
                return
        accept = {"type": "websocket.accept", "subprotocol": server.subprotocol, "headers": []}
        if upstream.name != pinned:
            accept["headers"].append(pin_header(upstream))
        upstream.sockets += 1
        try:
            await send(accept)
            await _relay(server, receive, send)
        finally:
            upstream.sockets -= 1
            await server.close()


async def _relay(server: ClientConnection, receive, send) -> None:
    """Messages both ways until either side closes; then the other is closed too."""

    async def browser_to_worker() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            await server.send(data if data is not None else message.get("text", ""))

    async def worker_to_browser() -> None:
        with contextlib.suppress(ConnectionClosed):
            async for data in server:
                if isinstance(data, bytes):
                    await send({"type": "websocket.send", "bytes": data})
                else:
                    await send({"type": "websocket.send", "text": data})
        # The worker closed (or died): tell the browser, whose page reconnects.
        code = server.close_code if server.close_code in (1000, 1001) else WORKER_GONE_CLOSE
        with contextlib.suppress(Exception):  # the browser may be gone already
            await send({"type": "websocket.close", "code": code})

    tasks = [asyncio.create_task(browser_to_worker()), asyncio.create_task(worker_to_browser())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for outcome in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(outcome, Exception) and not isinstance(outcome, ConnectionClosed):
                log.warning("websocket relay ended on %r", outcome)


async def _request_body(receive) -> bytes | AsyncIterator[bytes]:
    """The request's body: bytes when it came in one piece, else a stream read as the
    worker takes it (an upload up to maxUploadSize is never held whole in the proxy)."""
    message = await receive()
    first = message.get("body", b"")
    if not message.get("more_body"):
        return first

    async def rest() -> AsyncIterator[bytes]:
        yield first
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ConnectionAbortedError("the client went away mid-upload")
            yield message.get("body", b"")
            if not message.get("more_body"):
                return

    return rest()


async def _plain(send, status: int, text: str, retry_after: bool = False) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-cache")]
    if retry_after:
        headers.append((b"retry-after", b"5"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text.encode()})
