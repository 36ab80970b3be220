"""Worker process settings: niceness and torch threads come from Settings (ENGRAM_CONSOLIDATION__*)."""

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from memory_service.settings import Settings


def test_worker_nice_out_of_range_names_the_field(monkeypatch):
    monkeypatch.setenv("ENGRAM_CONSOLIDATION__WORKER_NICE", "25")
    with pytest.raises(ValidationError, match="worker_nice"):
        Settings()


@pytest.mark.parametrize("nice", ["7", "0"])
def test_training_process_runs_at_the_configured_niceness(nice):
    # a child process: niceness cannot be lowered again, so the test process must not raise its own
    code = ("import os, workers.celery_app as c; c.lower_priority(); "
            "print(os.getpriority(os.PRIO_PROCESS, 0))")
    env = {**os.environ, "ENGRAM_CONSOLIDATION__WORKER_NICE": nice}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert int(out.stdout.strip()) == max(int(nice), os.getpriority(os.PRIO_PROCESS, 0))


def test_worker_threads_default_to_torch_threads(monkeypatch):
    monkeypatch.setenv("ENGRAM_TORCH_THREADS", "3")
    s = Settings()
    assert s.consolidation.worker_threads == 0
    monkeypatch.setenv("ENGRAM_CONSOLIDATION__WORKER_THREADS", "1")
    assert Settings().consolidation.worker_threads == 1
