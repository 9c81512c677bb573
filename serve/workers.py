"""The workers: N `streamlit run app.py` processes on private ports, primed, watched, restarted.

Each worker is started, waited for until /_stcore/health answers, then primed through
/_stcore/script-health-check (.streamlit/config.toml enables it): one run of app.py imports
the pages, opens the store and starts the warm-up before any user is routed to it
(data/README.md, "Serving"). Only then does the proxy send it users. Every few seconds its
health is asked again; a worker that exits, or stops answering, is taken out of the routes,
(stopped and) started again on a fresh port, and primed again; its users' pages reconnect to
another worker meanwhile (serve/proxy.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from .proxy import Upstream

log = logging.getLogger("serve.workers")

REPO_ROOT = Path(__file__).resolve().parents[1]
HEALTH = "/_stcore/health"
PRIME = "/_stcore/script-health-check"
CHECK_EVERY_S = 2.0
HEALTH_TIMEOUT_S = 5.0
# Three missed checks in a row (about 20 s) and the worker is taken as hung. Its health
# answer comes from its event loop, not from the script threads, so a busy worker still
# answers within a second here; a restart costs its users their sessions.
MISSED_CHECKS_TO_RESTART = 3
START_TIMEOUT_S = 180.0
# Streamlit's script check gives up after 60 s ("timeout"); on a loaded machine the first run
# of a large store can take longer, and the next check then finds it done.
PRIME_ATTEMPTS = 5
STOP_TIMEOUT_S = 15.0
RESTART_BACKOFF_MAX_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def streamlit_command(port: int) -> list[str]:
    """One worker: the app as `streamlit run` serves it, on loopback only (the proxy alone
    reaches it: with header identity, whoever reaches a worker can set the header), with the
    same .streamlit/config.toml and secrets.toml as every other worker (the app folder's)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
    ]


def _die_with_parent() -> None:
    # Linux: the worker gets SIGTERM if the launcher dies however it dies (kill -9
    # included), so no worker outlives it holding the store and a port.
    with contextlib.suppress(OSError, AttributeError):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Worker:
    """One slot: its Upstream (what the proxy routes by) and the process behind it now."""

    def __init__(self, upstream: Upstream, command: Callable[[int], list[str]], env: dict) -> None:
        self.upstream = upstream
        self.command = command
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    async def keep(self, client: httpx.AsyncClient, stopping: asyncio.Event) -> None:
        """Run the worker until `stopping` is set, starting it again whenever it ends."""
        backoff = 1.0
        while not stopping.is_set():
            started = time.monotonic()
            await self._start()
            try:
                if await self._prime(client, stopping):
                    self.upstream.ready = True
                    log.info("worker %s ready (pid %s)", self.upstream.name, self.pid)
                    await self._watch(client, stopping)
            finally:
                self.upstream.ready = False
                await self.stop()
            if stopping.is_set():
                return
            # A worker that fails at once (a broken config, say) is not restarted in a loop.
            backoff = 1.0 if time.monotonic() - started > 60 else min(2 * backoff, 30.0)
            log.warning("worker %s ended; starting it again in %.0f s", self.upstream.name, backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), backoff)

    async def _start(self) -> None:
        self.upstream.port = free_port()
        self.starts += 1
        self.process = await asyncio.create_subprocess_exec(
            *self.command(self.upstream.port),
            cwd=REPO_ROOT,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        self._log_copy = asyncio.create_task(self._copy_log(self.process))
        log.info(
            "worker %s started: pid %s, port %s", self.upstream.name, self.pid, self.upstream.port
        )

    async def _copy_log(self, process: asyncio.subprocess.Process) -> None:
        """The worker's output on the launcher's stderr, each line named by its worker."""
        assert process.stdout is not None
        prefix = f"[worker {self.upstream.name}] ".encode()
        async for line in process.stdout:
            sys.stderr.buffer.write(prefix + line)
            sys.stderr.flush()

    async def _ask(self, client: httpx.AsyncClient, route: str, timeout_s: float) -> str | None:
        try:
            response = await client.get(
                f"http://127.0.0.1:{self.upstream.port}{route}", timeout=timeout_s
            )
        except httpx.HTTPError:
            return None
        return response.text.strip() if response.status_code != 404 else "no such route"

    def _alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def _prime(self, client: httpx.AsyncClient, stopping: asyncio.Event) -> bool:
        """Wait for the worker's health, then run app.py once through the script check."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while await self._ask(client, HEALTH, HEALTH_TIMEOUT_S) != "ok":
            if not self._alive() or stopping.is_set():
                return False
            if time.monotonic() > deadline:
                log.error("worker %s not healthy after %.0f s", self.upstream.name, START_TIMEOUT_S)
                return False
            await asyncio.sleep(0.25)
        for _ in range(PRIME_ATTEMPTS):
            answer = await self._ask(client, PRIME, None)
            if answer == "ok":
                return True
            if answer == "no such route":  # scriptHealthCheckEnabled turned off: healthy is all
                log.warning("worker %s: no script health check to prime it", self.upstream.name)
                return True
            if not self._alive() or stopping.is_set():
                return False
            log.warning("worker %s: script health check answered %r", self.upstream.name, answer)
        log.error("worker %s could not run app.py; see its log above", self.upstream.name)
        return False

    async def _watch(self, client: httpx.AsyncClient, stopping: asyncio.Event) -> None:
        """Until the worker exits, stops answering, or the launcher stops."""
        missed = 0
        while not stopping.is_set() and self._alive():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), CHECK_EVERY_S)
            if stopping.is_set() or not self._alive():
                break
            if await self._ask(client, HEALTH, HEALTH_TIMEOUT_S) == "ok":
                missed = 0
                # The proxy takes a worker out when it refuses a connection; healthy again
                # (a refusal in a moment of overload) it takes users again.
                self.upstream.ready = True
            else:
                missed += 1
                if missed >= MISSED_CHECKS_TO_RESTART:
                    log.error("worker %s stopped answering: restarting it", self.upstream.name)
                    return
        if self.process is not None and self.process.returncode is not None:
            log.error("worker %s exited with %s", self.upstream.name, self.process.returncode)

    async def stop(self) -> None:
        if not self._alive():
            return
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


class Supervisor:
    """Keeps every worker running until stop()."""

    def __init__(
        self,
        upstreams: list[Upstream],
        command: Callable[[int], list[str]] = streamlit_command,
        env: dict[str, str] | None = None,
    ) -> None:
        self.workers = [Worker(u, command, env or dict(os.environ)) for u in upstreams]
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._client = httpx.AsyncClient(trust_env=False)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(worker.keep(self._client, self._stopping))
            for worker in self.workers
        ]

    async def stop(self) -> None:
        self._stopping.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.aclose()
