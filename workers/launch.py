"""Starting a consolidation worker as a subprocess: the demo, the evaluation runner, the benchmarks and the
tests all start it here, the same way an operator would (`celery -A workers.celery_app worker`, settings in
ENGRAM_* variables)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from memory_service.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def worker_argv(settings: Settings, name: str, *, events: bool = False) -> list[str]:
    """One prefork child (the training process) on the consolidation queue and its control queue."""
    q = settings.consolidation.queue
    argv = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", f"{q},{q}-control",
            "-c", "1", "-P", "prefork", "-l", "info", "-n", name, "--without-gossip", "--without-mingle"]
    if events:  # task events for `engram status` and Flower; the heartbeat is not needed by either
        argv += ["--without-heartbeat", "-E"]
    return argv


def child_env(settings: Settings, broker_url: str | None = None, **extra: str) -> dict[str, str]:
    """This process's environment without its ENGRAM_* variables, plus `settings` as ENGRAM_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGRAM_")}
    env.update(settings.to_env())
    if broker_url:  # the embedded Redis: its socket, which settings do not name
        env["ENGRAM_BROKER_URL"] = broker_url
    env.update({"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT), **extra})
    return env


def start_worker(settings: Settings, log_path: Path, name: str, broker_url: str | None = None,
                 **extra: str) -> subprocess.Popen:
    """A worker in its own session (stopping it stops its pool), logging to `log_path`."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(worker_argv(settings, name), cwd=ROOT, env=child_env(settings, broker_url, **extra),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_worker(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM (Celery's warm shutdown: the running task finishes or is redelivered), then SIGKILL."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Within it, SIGTERM (`kill`, a CI timeout) ends this process through its `finally` blocks, as Ctrl-C does.
    A worker started here runs in its own session, so a signal to this process alone never reaches it: without
    this, killing an evaluation left its worker training on. (Python installs handlers on the main thread only.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
