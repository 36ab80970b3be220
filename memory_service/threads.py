"""Heavy one-off torch work on a thread of its own.

torch's OpenMP runtime (libgomp) keeps a pool of worker threads for every thread that ran a parallel op. Once a
process holds more of them than it has cores, it stops spinning between ops, and each op waits for its workers
to wake: generating 16 tokens on the agent's torch thread took 814-850 ms after the base model was loaded (or
the embedder exported) on another thread that stayed alive, against 507 ms otherwise. A thread that exits takes
its pool with it, so loads and exports run here and the process keeps one pool: the adapter runtime's.
"""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

T = TypeVar("T")


def on_own_thread(fn: Callable[..., T], *args, **kwargs) -> T:
    """fn(*args, **kwargs) on a short-lived thread; its result, or its exception raised again here."""
    box: dict = {}

    def run() -> None:
        try:
            box["result"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - raised again on the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=run, name=f"engram-{getattr(fn, '__name__', 'work')}")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]
