"""End to end: `python -m serve --workers 2` on the demo store; protocol sessions through
its proxy render the Overview with the figures AppTest computes in-process, on either
worker, and a session whose worker is killed reopens on the other one."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from capacity.protocol import Session  # noqa: E402

from tests.serve.loop import run_scenario  # noqa: E402

COOKIE = "sales_atlas_worker"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_pids(log: Path) -> dict[str, int]:
    """The pid each worker slot runs now, from the launcher's log."""
    found = re.findall(r"worker (\d+) started: pid (\d+)", log.read_text())
    return {name: int(pid) for name, pid in found}


@pytest.fixture
def launcher(demo_db_path, tmp_path):
    port, log = free_port(), tmp_path / "serve.log"
    env = {
        **os.environ,
        "SALES_ATLAS_DB": str(demo_db_path),
        "SALES_ATLAS_STATE": str(tmp_path / "state.sqlite"),
        # The warm-up fills caches in the background for a minute on a loaded machine; the
        # figures are the same without it, and this test is about the serving.
        "SALES_ATLAS_WARMUP": "off",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"127.0.0.1:{port}", process, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(address: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 150
    while True:
        assert process.poll() is None, log.read_text()
        try:
            answer = httpx.get(f"http://{address}/_serve/health", trust_env=False, timeout=5)
            if answer.text == "2 of 2 workers ready":
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.25)


def test_sessions_through_the_proxy_render_the_overview_on_either_worker(
    launcher, demo_db_path, monkeypatch
):
    address, process, log = launcher
    # The same Overview computed in this process, with no server at all.
    monkeypatch.setenv("SALES_ATLAS_DB", str(demo_db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    expected = {m.label: m.value for m in at.metric}
    assert "Net revenue (EUR)" in expected
    wait_ready(address, process, log)

    async def scenario() -> None:
        first, second = (
            Session(f"ws://{address}/_stcore/stream"),
            Session(f"ws://{address}/_stcore/stream"),
        )
        try:
            await first.open("", "")
            await second.open("", "")
            assert first.metrics == expected
            assert second.metrics == expected
            assert "f_currency" in first.widgets  # the sidebar too
            # Spread: the second session went to the worker with fewer open websockets.
            assert {first.cookies[COOKIE], second.cookies[COOKIE]} == {"0", "1"}
            gone = first.cookies[COOKIE]
            os.kill(worker_pids(log)[gone], signal.SIGKILL)
            with pytest.raises(Exception):  # noqa: B017 (the connection closes, however)
                await first.set_choice("f_currency", start=0)
            await first.close()
            # The page reconnects, with its cookie: the proxy sends it to the live worker.
            await first.open("", "")
            assert first.metrics == expected
            assert first.cookies[COOKIE] == second.cookies[COOKIE] != gone
            # And the session on the live worker never noticed.
            await second.set_choice("overview_map_measure")
        finally:
            await first.close()
            await second.close()

    run_scenario(scenario, 120)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=40) == 0
    for pid in worker_pids(log).values():  # no worker outlives the launcher
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
