"""Qdrant Edge's durability: a write is in the write-ahead log when it returns; segments are fsynced later."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from memory_service.store import FactFilter
from memory_service.store.edge import EdgeStore

from .test_store_contract import point

DIM = 8


def test_a_killed_process_loses_no_acknowledged_write(tmp_path):
    """The writer never fsyncs (an hour's interval) and is SIGKILLed right after its writes return."""
    code = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {os.getcwd()!r})
        from memory_service.store.edge import EdgeStore
        from tests.memory_service.test_store_contract import point
        s = EdgeStore({str(tmp_path)!r}, {DIM}, flush_interval_s=3600)
        s.upsert([point(i) for i in range(50)])
        s.set_payload([point(0).id], {{"status": "deleted"}})
        s.delete([point(1).id])
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    store = EdgeStore(tmp_path, DIM)
    try:
        assert store.count(FactFilter()) == 49
        assert store.retrieve([point(0).id])[0].payload["status"] == "deleted"
        assert store.retrieve([point(1).id]) == []
    finally:
        store.close()


def test_the_background_flush_runs_and_close_stops_it(tmp_path):
    store = EdgeStore(tmp_path, DIM, flush_interval_s=0.05)
    store.upsert([point(i) for i in range(5)])
    deadline = time.monotonic() + 5
    while store._dirty.is_set() and time.monotonic() < deadline:  # the flusher clears it once it has fsynced
        time.sleep(0.01)
    assert not store._dirty.is_set()
    store.upsert([point(9)])
    store.close()
    assert not store._flusher.is_alive()
    reopened = EdgeStore(tmp_path, DIM)
    try:
        assert reopened.count(FactFilter()) == 6
    finally:
        reopened.close()
