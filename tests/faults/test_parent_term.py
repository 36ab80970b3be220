"""A process that started a Celery worker (an evaluation, the demo) is SIGTERMed: the worker, which runs in its own
session and so never sees that signal, is stopped with it instead of training on alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.faults.conftest import drop_keys, fault_settings
from workers.launch import ROOT

pytestmark = pytest.mark.integration

PARENT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from memory_service.settings import Settings
    from workers.launch import sigterm_as_exit, start_worker, stop_worker

    settings = Settings.model_validate_json(sys.argv[1])
    with sigterm_as_exit():
        worker = start_worker(settings, Path(sys.argv[2]), "term-test@%h")
        try:
            print(worker.pid, flush=True)
            time.sleep(600)
        finally:
            stop_worker(worker)
""")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie left for its reaper counts as gone
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_a_terminated_parent_stops_its_worker(tmp_path, redis_url):
    s = fault_settings(tmp_path / "data", redis_url)
    parent = subprocess.Popen([sys.executable, "-c", PARENT, s.model_dump_json(), str(tmp_path / "worker.log")],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    worker_pid = None
    try:
        worker_pid = int(parent.stdout.readline())
        assert alive(worker_pid)
        time.sleep(2)  # the worker is starting up: Celery's warm shutdown must still apply
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=60) == 128 + signal.SIGTERM
        deadline = time.time() + 30
        while alive(worker_pid) and time.time() < deadline:
            time.sleep(0.2)
        assert not alive(worker_pid)
    finally:
        parent.kill()
        if worker_pid is not None and alive(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)
        drop_keys(s)
