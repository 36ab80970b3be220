"""What every result file records about where it came from: the command, the commit and the machine."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# settings given by environment that change what a run measures are part of its command; credentials are not
_PRIVATE = ("KEY", "PASSWORD", "SECRET", "TOKEN", "URL")


def command() -> str:
    """The command line as a user types it: `python -m bench.probe select --json`, after the ENGRAM_ settings the
    environment gave it (`ENGRAM_AGENT__QUESTION_MIN_SCORE=0.45 python -m bench.routing ...`)."""
    given = [f"{k}={v}" for k, v in sorted(os.environ.items())
             if k.startswith("ENGRAM_") and not any(p in k for p in _PRIVATE)]
    return " ".join([*given, _invocation()])


def _invocation() -> str:
    script = Path(sys.argv[0]).resolve()
    if script.name == "engram":  # the console script
        return " ".join(["engram", *sys.argv[1:]])
    try:
        module = ".".join(script.relative_to(ROOT).with_suffix("").parts)
        head = f"python -m {module}"
    except ValueError:
        head = f"python {sys.argv[0]}"
    return " ".join([head, *sys.argv[1:]])


def provenance() -> dict:
    """Where a result comes from, taken once per process: call it before measuring, so the commit is the one
    the run started from even if the tree changes while it runs."""
    return dict(_snapshot())


@cache
def _snapshot() -> dict:
    git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()  # noqa: E731
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    info = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
               platform.processor())
    # machines sold under one name differ in vector width, and CPU timings with it
    flags = next((line.split(":", 1)[1].split() for line in info if line.startswith("flags")), [])
    simd = ", AVX-512" if "avx512f" in flags else ", AVX2" if "avx2" in flags else ""
    return {"command": command(), "commit": git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty else ""),
            "machine": f"{cpu}{simd}, {len(os.sched_getaffinity(0))} cores, {platform.system()} "
                       f"{platform.machine()}",
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
