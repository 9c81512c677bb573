"""The app served by `streamlit run` on 127.0.0.1 for a benchmark, on a given store."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120.0


def ensure_store(db: Path, rows: int) -> Path:
    """The store at `db`, built from the demo generator (seed 42) with `rows` lines if missing."""
    if not db.exists():
        print(f"building {db} ({rows:,} order lines)…", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "analytics", "build-demo", "--db", str(db), "--rows", str(rows)],
            cwd=REPO_ROOT,
            check=True,
        )
    return db


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _health(
    base_url: str, route: str = "health", timeout_s: float = 2, path: str | None = None
) -> str | None:
    # No proxy: a proxy set in the environment must not see loopback traffic.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        url = f"{base_url}{path or '/_stcore/' + route}"
        with opener.open(url, timeout=timeout_s) as response:
            return response.read().decode().strip()
    except (urllib.error.URLError, OSError):
        return None


class AppServer:
    """`with AppServer(db) as server:` serves app.py on a free port; server.pid is the
    streamlit process itself (no wrapper), so /proc/PID counts its CPU time."""

    def __init__(
        self,
        db: Path,
        log_path: Path,
        port: int | None = None,
        env: dict[str, str] | None = None,
        prime: bool = False,
    ) -> None:
        self.db = db
        # prime: once healthy, ask /_stcore/script-health-check as a deployment's readiness
        # probe does (one run of app.py before any user: imports, store, warm-up started).
        self.prime = prime
        self.prime_s: float | None = None
        self.extra_env = env or {}
        self.log_path = log_path
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def processes(self) -> dict[str, int]:
        return {"server": self.pid}

    def __enter__(self) -> AppServer:
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ]
        env = {**os.environ, "SALES_ATLAS_DB": str(self.db), "PYTHONUNBUFFERED": "1"}
        env.update(self.extra_env)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while _health(self.base_url) != "ok":
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited ({self.process.returncode}): {self.log_path}")
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"streamlit not healthy after {START_TIMEOUT_S:.0f} s")
            time.sleep(0.25)
        if self.prime:
            started = time.monotonic()
            answer = _health(self.base_url, "script-health-check", START_TIMEOUT_S)
            if answer != "ok":
                self.__exit__(None, None, None)
                raise RuntimeError(f"script health check answered {answer!r}: {self.log_path}")
            self.prime_s = time.monotonic() - started
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ServedCluster:
    """`with ServedCluster(db, workers=2) as cluster:` serves app.py as a deployment with
    more than one process does, `python -m serve --workers N` (serve/), on a free port.
    Ready once the proxy says every worker is (each primed through the script health
    check by the launcher itself); cluster.processes names the workers' and the proxy's
    pids, read off the launcher's log, and cluster.pid is the workers' (for procstat)."""

    def __init__(
        self, db: Path, log_path: Path, workers: int, env: dict[str, str] | None = None
    ) -> None:
        self.db = db
        self.workers = workers
        self.extra_env = env or {}
        self.log_path = log_path
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.prime_s: float | None = None

    @property
    def processes(self) -> dict[str, int]:
        assert self.process is not None
        found = re.findall(r"worker (\d+) started: pid (\d+)", self.log_path.read_text())
        workers = {f"worker {name}": int(pid) for name, pid in found}  # the latest of each
        return {**workers, "proxy": self.process.pid}

    @property
    def pid(self) -> list[int]:
        return [pid for name, pid in self.processes.items() if name != "proxy"]

    def __enter__(self) -> ServedCluster:
        command = [
            sys.executable,
            "-m",
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        env = {**os.environ, "SALES_ATLAS_DB": str(self.db), "PYTHONUNBUFFERED": "1"}
        env.update(self.extra_env)
        started = time.monotonic()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        ready = f"{self.workers} of {self.workers} workers ready"
        deadline = started + START_TIMEOUT_S * 2
        while _health(self.base_url, path="/_serve/health") != ready:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited ({self.process.returncode}): {self.log_path}")
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"serve not ready after {START_TIMEOUT_S * 2:.0f} s")
            time.sleep(0.25)
        # Start to every worker primed: the launcher primes them itself.
        self.prime_s = time.monotonic() - started
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is None:
            return
        self.process.terminate()  # the launcher stops its workers
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
