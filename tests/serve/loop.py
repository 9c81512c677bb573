"""Run a serve test's async scenario on an event loop of its own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable


def run_scenario(scenario: Callable[[], Awaitable[None]], timeout_s: float) -> None:
    """asyncio.run(scenario()) with a deadline, in a thread of its own: in the full suite the
    browser tests' Playwright (sync API) leaves an event loop running in the main thread, where
    asyncio.run refuses to start another. The scenario's exception is raised here."""
    failure: list[BaseException] = []

    def main() -> None:
        try:
            asyncio.run(asyncio.wait_for(scenario(), timeout_s))
        except BaseException as error:  # re-raised in the test's thread
            failure.append(error)

    thread = threading.Thread(target=main, name="serve-scenario")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
