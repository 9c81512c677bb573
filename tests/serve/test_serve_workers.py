"""The supervisor (serve/workers.py): a worker takes users only once primed through the
script health check, and one that dies or stops answering is started again, primed again."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from serve import workers
from serve.proxy import Upstream
from serve.workers import Supervisor
from tests.serve.loop import run_scenario

FAKE = Path(__file__).with_name("fake_streamlit.py")


async def until(condition, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def supervised(folder: Path, mode: str = "") -> tuple[Upstream, Supervisor]:
    upstream = Upstream("0")
    command = lambda port: [sys.executable, str(FAKE), str(port), str(folder), mode]  # noqa: E731
    return upstream, Supervisor([upstream], command=command)


@pytest.fixture
def quick_checks(monkeypatch):
    monkeypatch.setattr(workers, "CHECK_EVERY_S", 0.2)
    monkeypatch.setattr(workers, "HEALTH_TIMEOUT_S", 1.0)


def test_a_worker_is_routed_only_once_primed_and_a_dead_one_is_restarted(tmp_path, quick_checks):
    async def scenario():
        upstream, supervisor = supervised(tmp_path)
        supervisor.start()
        worker = supervisor.workers[0]
        try:
            await until(lambda: upstream.ready)
            first_pid = worker.pid
            assert (tmp_path / f"primed-{first_pid}").exists()  # primed before it was ready
            os.kill(first_pid, signal.SIGKILL)
            await until(lambda: not upstream.ready, timeout_s=5)
            await until(lambda: upstream.ready)
            assert worker.pid != first_pid and worker.starts == 2
            assert (tmp_path / f"primed-{worker.pid}").exists()
        finally:
            await supervisor.stop()
        assert worker.process.returncode is not None  # stopped with the supervisor
        assert not upstream.ready

    run_scenario(scenario, 60)


def test_a_worker_that_stops_answering_is_restarted(tmp_path, quick_checks):
    async def scenario():
        upstream, supervisor = supervised(tmp_path, mode="hang")
        supervisor.start()
        worker = supervisor.workers[0]
        try:
            await until(lambda: upstream.ready)
            first_pid = worker.pid
            # Three missed checks: taken out, stopped, started again.
            await until(lambda: worker.pid != first_pid, timeout_s=15)
            with pytest.raises(ProcessLookupError):
                os.kill(first_pid, 0)
        finally:
            await supervisor.stop()

    run_scenario(scenario, 60)
