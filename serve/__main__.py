"""`python -m serve --port 8501 --workers 2`: N Streamlit workers behind one sticky proxy.

Run it from the app folder's environment as `streamlit run app.py` would be run: every
worker reads the same environment (SALES_ATLAS_DB, SALES_ATLAS_ACCESS, …) and the same
.streamlit/config.toml and secrets.toml, so a sign-in cookie signed with auth.cookie_secret
is good on every worker. The proxy answers /_serve/health itself (200 once any worker takes
users) and passes everything else to the browser's worker. Stop it with Ctrl-C or SIGTERM:
the workers are stopped with it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

import uvicorn

from .proxy import Proxy, Routes, Upstream, proxy_config
from .workers import Supervisor


async def serve(address: str, port: int, workers: int) -> None:
    upstreams = [Upstream(name=str(n)) for n in range(workers)]
    supervisor = Supervisor(upstreams)
    config = proxy_config(Proxy(Routes(upstreams)), address, port)
    server = uvicorn.Server(config)
    # uvicorn takes SIGTERM for a graceful stop and, once stopped, raises it again for the
    # handler it found: a no-op one lets the workers be stopped below instead of the
    # default's exit on the spot (leaving them to their parent-death signal).
    signal.signal(signal.SIGTERM, lambda *_: None)
    supervisor.start()
    try:
        await server.serve()
    finally:
        await supervisor.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8501, help="the public port (8501)")
    parser.add_argument(
        "--address",
        default="127.0.0.1",
        help="the public address (127.0.0.1; 0.0.0.0 for every interface: put a sign-in "
        "proxy in front when the access file trusts a header)",
    )
    parser.add_argument("--workers", type=int, default=2, help="Streamlit processes (2)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(
        f"Sales Atlas: {args.workers} workers behind http://{args.address}:{args.port} "
        f"(pid {os.getpid()}); ready when /_serve/health answers 200",
        file=sys.stderr,
    )
    try:
        asyncio.run(serve(args.address, args.port, args.workers))
    except KeyboardInterrupt:  # Ctrl-C: the workers are stopped already
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
