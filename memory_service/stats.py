"""Consolidation counters, kept in one Redis hash (`<prefix>:stats`): workers write them, `/metrics` and
`engram status` read them. In Redis rather than in each process's memory so that every worker process, on any
host, adds to the same numbers and every API replica reports the same totals.

Fields:
  consolidations_started                  runs begun (a retry counts again)
  consolidations_<outcome>                runs ended: published | skipped | rejected | empty | error
  training_seconds_sum / _count           runs that trained (published or rejected)
  training_seconds_bucket:<le>            ... of those, how many took at most <le> s (not cumulative here)
"""

from __future__ import annotations

import math

import redis

from .events import Keys

OUTCOMES = ("published", "skipped", "rejected", "empty", "error")
SUCCEEDED = ("published", "skipped")
FAILED = ("rejected", "error")  # "empty" (nothing to train) is neither
# seconds: a 135M-model run is minutes on CPU, seconds on a GPU
BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3600.0, math.inf)


def stats_key(prefix: str) -> str:
    return Keys(prefix).stats


def bucket_field(le: float) -> str:
    return f"training_seconds_bucket:{'+Inf' if math.isinf(le) else f'{le:g}'}"


def record_started(r: redis.Redis, prefix: str) -> None:
    r.hincrby(stats_key(prefix), "consolidations_started", 1)


def record_finished(r: redis.Redis, prefix: str, outcome: str, seconds: float | None = None) -> None:
    """`seconds`: wall time of a run that trained; None for runs that did not (skipped, empty, error)."""
    pipe = r.pipeline(transaction=True)
    pipe.hincrby(stats_key(prefix), f"consolidations_{outcome}", 1)
    if seconds is not None:
        le = next(b for b in BUCKETS if seconds <= b)
        pipe.hincrbyfloat(stats_key(prefix), "training_seconds_sum", seconds)
        pipe.hincrby(stats_key(prefix), "training_seconds_count", 1)
        pipe.hincrby(stats_key(prefix), bucket_field(le), 1)
    pipe.execute()


def read(r: redis.Redis, prefix: str) -> dict:
    """{"started", "finished": {outcome: n}, "succeeded", "failed", "training": {"sum", "count", "buckets":
    [(le, cumulative count), ...]}}."""
    raw = {k.decode(): v.decode() for k, v in r.hgetall(stats_key(prefix)).items()}
    finished = {o: int(raw.get(f"consolidations_{o}", 0)) for o in OUTCOMES}
    cumulative, buckets = 0, []
    for le in BUCKETS:
        cumulative += int(raw.get(bucket_field(le), 0))
        buckets.append((le, cumulative))
    return {
        "started": int(raw.get("consolidations_started", 0)),
        "finished": finished,
        "succeeded": sum(finished[o] for o in SUCCEEDED),
        "failed": sum(finished[o] for o in FAILED),
        "training": {"sum": float(raw.get("training_seconds_sum", 0.0)),
                     "count": int(raw.get("training_seconds_count", 0)), "buckets": buckets},
    }
