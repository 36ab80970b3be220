"""Prometheus metrics for `/metrics`, computed on each scrape from the shared state (store, Redis, registry).

Nothing is counted in this process's memory: consolidation counters come from the Redis stats hash the workers
write (stats.py), so every API replica and every worker process agree. Each scrape costs three store counts,
a few Redis reads (plus a SCAN for the due/stale sets) and a walk of the registry's folders.
Only totals are exported, never namespace or topic names (cardinality, and /metrics may be public).
"""

from __future__ import annotations

import logging
import math
from typing import Callable, Iterator

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from . import stats
from .events import Keys
from .queue import queue_depth
from .status import evaluation_queues
from .registry import open_registry
from .schemas import FactStatus
from .store import FactFilter

log = logging.getLogger(__name__)


def count_sets(r, pattern: str) -> int:
    """Members of every Redis set whose key matches `pattern` (one per namespace)."""
    keys = list(r.scan_iter(match=pattern, count=1000))
    if not keys:
        return 0
    pipe = r.pipeline(transaction=False)
    for k in keys:
        pipe.scard(k)
    return int(sum(pipe.execute()))


class EngramCollector(Collector):
    """`service()` returns the running MemoryService (the API creates it in its lifespan, after this)."""

    def __init__(self, service: Callable[[], object]):
        self.service = service

    def describe(self) -> list[Metric]:
        return []  # registering must not scrape (the service may not exist yet)

    def collect(self) -> Iterator[Metric]:
        svc = self.service()
        s = svc.settings
        up = GaugeMetricFamily("engram_backend_up", "1 if the backend answered this scrape", labels=["backend"])
        parts = {
            "qdrant": lambda: self._facts(svc.store),
            "redis": lambda: self._redis(svc.heat.r, s.redis.key_prefix, s.consolidation.queue),
            "registry": lambda: self._adapters(open_registry(s)),
        }
        # Each backend on its own: Redis down must not hide the fact counts, and the reverse. A part's metrics are
        # gathered in full before any is yielded, so a failing part exports nothing rather than half.
        for name, part in parts.items():
            try:
                metrics = list(part())
            except Exception as exc:
                log.warning("metrics: %s: %s", name, exc)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from metrics
        yield up

    def _facts(self, store) -> Iterator[Metric]:
        g = GaugeMetricFamily("engram_facts", "Facts in the short-term store, by status", labels=["status"])
        for status in FactStatus:
            g.add_metric([status.value], store.count(FactFilter(status=(status.value,))))
        yield g

    def _redis(self, r, prefix: str, queue: str) -> Iterator[Metric]:
        yield GaugeMetricFamily("engram_topics_due", "Topics due for consolidation",
                                value=count_sets(r, Keys(prefix).pattern("due")))
        yield GaugeMetricFamily("engram_topics_stale", "Topics whose adapter holds a deleted or superseded fact",
                                value=count_sets(r, Keys(prefix).pattern("stale")))
        q = GaugeMetricFamily("engram_queue_depth", "Consolidation tasks waiting for a worker, on the service's queue "
                              "and on each running evaluation's", labels=["queue"])
        for name in sorted({queue} | evaluation_queues(r, prefix)):
            q.add_metric([name], queue_depth(r, name))
        yield q
        st = stats.read(r, prefix)
        yield CounterMetricFamily("engram_consolidations_started", "Consolidation runs begun (retries count again)",
                                  value=st["started"])
        yield CounterMetricFamily("engram_consolidations_succeeded",
                                  "Runs that published a version or found the current one up to date",
                                  value=st["succeeded"])
        yield CounterMetricFamily("engram_consolidations_failed", "Runs rejected by the gate or ended by an error",
                                  value=st["failed"])
        done = CounterMetricFamily("engram_consolidations_finished", "Runs ended, by outcome", labels=["outcome"])
        for outcome, n in st["finished"].items():
            done.add_metric([outcome], n)
        yield done
        from .llm import counts

        llm = counts(r, prefix)
        for kind, help_text in (("requests", "Requests to the configured LLM endpoint, by purpose"),
                                ("fallbacks", "LLM requests that failed twice: the deterministic path was used")):
            c = CounterMetricFamily(f"engram_llm_{kind}", help_text, labels=["purpose"])
            for purpose, n in llm[kind].items():
                c.add_metric([purpose], n)
            yield c
        t = st["training"]
        yield HistogramMetricFamily(
            "engram_training_seconds", "Wall time of runs that trained (train, gate, publish)",
            buckets=[("+Inf" if math.isinf(le) else str(le), n) for le, n in t["buckets"]], sum_value=t["sum"])

    def _adapters(self, registry) -> Iterator[Metric]:
        summary = registry.summary()
        yield GaugeMetricFamily("engram_adapter_versions", "Adapter versions kept in the registry",
                                value=sum(v["versions"] for v in summary.values()))
        yield GaugeMetricFamily("engram_adapter_topics", "Topics with a current adapter version",
                                value=sum(v["topics"] for v in summary.values()))


def metrics_registry(service: Callable[[], object]) -> CollectorRegistry:
    """One registry per app (not the global default), so several apps in one process (tests) don't clash."""
    reg = CollectorRegistry()
    reg.register(EngramCollector(service))
    ProcessCollector(registry=reg)  # this API process's CPU, memory, open files
    return reg
