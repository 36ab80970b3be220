"""Load benchmark: mixed writes and recalls over HTTP, idle and while a topic consolidates.

    python -m bench.load --clients 8 --seconds 60 --json

Starts the API (uvicorn subprocess on a free loopback port, temp data dir, the real Redis under its own key
prefix) and a Celery worker subprocess, seeds facts, then runs --clients threads (httpx), each a loop of
writes (--write-share) and recalls against its own namespace. Phase "idle": --seconds with nothing else
running. Phase "during": a consolidation of a --train-facts topic is requested, and the same load runs while
its task is not finished (at most --seconds); a small consolidation runs to completion before phase 1, so the
worker has its model loaded as a long-running one does. Recall latency is measured end to end by the client.

Progress goes to stderr; the JSON result to stdout: errors (must be 0), throughput per phase (req/s, writes/s,
recalls/s), recall p50/p95 per phase, and `ratio` = recall p95 during / idle (target <= 2).
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bench import runner
from bench.procs import ApiServer, Worker
from evals.fictional import fictional_facts
from memory_service.events import Keys
from memory_service.settings import Settings

TRAIN_NS, TRAIN_TOPIC, WARMUP_TOPIC = "load-train", "friends", "warmup"
WARMUP_FACTS = 4
FINISHED = {"SUCCESS", "FAILURE", "REVOKED", "COALESCED"}


def pct(xs: list[float], p: float) -> float | None:
    """Nearest-rank percentile, in milliseconds."""
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p * len(xs)))] * 1000, 2)


@dataclass
class Tally:
    """What the clients saw in one phase; appended to from many threads (list.append is atomic)."""

    recalls: list[float] = field(default_factory=list)  # seconds
    writes: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self, seconds: float) -> dict:
        n = len(self.recalls) + len(self.writes)
        return {
            "seconds": round(seconds, 1), "requests": n, "errors": len(self.errors),
            "req_per_s": round(n / seconds, 1), "writes_per_s": round(len(self.writes) / seconds, 1),
            "recalls_per_s": round(len(self.recalls) / seconds, 1),
            "recall_ms": {"p50": pct(self.recalls, 0.50), "p95": pct(self.recalls, 0.95),
                          "p99": pct(self.recalls, 0.99)},
            "write_ms": {"p50": pct(self.writes, 0.50), "p95": pct(self.writes, 0.95)},
            "error_samples": self.errors[:5],
        }


class Client(threading.Thread):
    """One client: its own namespace and connection; writes a new fact or recalls one it knows."""

    def __init__(self, url: str, ns: str, facts, write_share: float, seed: int):
        super().__init__(daemon=True)
        self.http = httpx.Client(base_url=url, timeout=60)
        self.ns, self.write_share = ns, write_share
        self.rng = random.Random(seed)
        self.questions = [f.questions[0] for f in facts]
        self.fresh = iter(fictional_facts(20_000, seed=seed + 1000))  # new statements to write
        self.tally: Tally | None = None  # set by the driver; None = idle
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            tally = self.tally
            if tally is None:
                time.sleep(0.01)
                continue
            write = self.rng.random() < self.write_share
            t0 = time.perf_counter()
            try:
                if write:
                    f = next(self.fresh)
                    r = self.http.post(f"/v1/namespaces/{self.ns}/facts", json={"facts": [
                        {"text": f.text, "subject": f.subject, "relation": f.relation, "object": f.object}]})
                else:
                    r = self.http.post(f"/v1/namespaces/{self.ns}/recall",
                                       json={"query": self.rng.choice(self.questions), "limit": 5})
                ok = r.status_code < 300
                detail = f"{r.status_code} {r.text[:200]}"
            except httpx.HTTPError as exc:
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - t0
            if self.tally is not tally:  # the phase ended while this request ran: it belongs to neither
                continue
            if not ok:
                tally.errors.append(detail)
            (tally.writes if write else tally.recalls).append(elapsed)


def seed(url: str, clients: int, per_client: int, train_facts: int) -> list[list]:
    facts = fictional_facts(clients * per_client + train_facts + WARMUP_FACTS, seed=3)
    with httpx.Client(base_url=url, timeout=120) as http:
        def write(ns: str, chunk, topic: str | None = None) -> None:
            for i in range(0, len(chunk), 50):
                body = [{"text": f.text, "subject": f.subject, "relation": f.relation, "object": f.object,
                         **({"topic": topic} if topic else {})} for f in chunk[i:i + 50]]
                r = http.post(f"/v1/namespaces/{ns}/facts", json={"facts": body})
                r.raise_for_status()

        own = [facts[i * per_client:(i + 1) * per_client] for i in range(clients)]
        for i, chunk in enumerate(own):
            write(f"load-{i}", chunk)
        write(TRAIN_NS, facts[clients * per_client:-WARMUP_FACTS], TRAIN_TOPIC)
        write(TRAIN_NS, facts[-WARMUP_FACTS:], WARMUP_TOPIC)
    return own


class TaskWatch(threading.Thread):
    """Polls the consolidation's state through the API once a second."""

    def __init__(self, url: str, task_id: str):
        super().__init__(daemon=True)
        self.http = httpx.Client(base_url=url, timeout=30)
        self.path = f"/v1/namespaces/{TRAIN_NS}/consolidations/{task_id}"
        self.state: dict = {"state": "PENDING"}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                self.state = self.http.get(self.path).json()
            except (httpx.HTTPError, ValueError):
                pass
            if self.state.get("state") in FINISHED:
                self.done.set()
            self.done.wait(1.0)


def consolidate(url: str, topic: str) -> TaskWatch:
    r = httpx.post(f"{url}/v1/namespaces/{TRAIN_NS}/consolidations", json={"topic": topic}, timeout=60)
    r.raise_for_status()
    watch = TaskWatch(url, r.json()["task_id"])
    watch.start()
    return watch


def run_phase(name: str, clients: list[Client], seconds: float, progress: Progress,
              until=lambda: False) -> tuple[Tally, float]:
    tally = Tally()
    task = progress.add_task(name, total=seconds, info="")
    t0 = time.perf_counter()
    for c in clients:
        c.tally = tally
    while (elapsed := time.perf_counter() - t0) < seconds and not until():
        n = len(tally.recalls) + len(tally.writes)
        progress.update(task, completed=elapsed,
                        info=f"{n} req, {n / max(elapsed, 1e-9):.0f} req/s, {len(tally.errors)} errors, "
                             f"recall p95 {pct(tally.recalls, 0.95)} ms")
        time.sleep(0.5)
    for c in clients:
        c.tally = None
    elapsed = time.perf_counter() - t0
    progress.update(task, completed=seconds)
    return tally, elapsed


def report(idle: dict, during: dict, task: dict) -> dict:
    info = task.get("info") or {}
    i95, d95 = idle["recall_ms"]["p95"], during["recall_ms"]["p95"]
    i50, d50 = idle["recall_ms"]["p50"], during["recall_ms"]["p50"]
    return {
        "errors": idle["errors"] + during["errors"],
        "ratio": round(d95 / i95, 2) if i95 and d95 else None,  # recall p95, during / idle
        "ratio_p50": round(d50 / i50, 2) if i50 and d50 else None,
        "idle": idle, "during": during,
        "consolidation": {"state": task.get("state"), "facts": task.get("facts"), "status": info.get("status"),
                          "finished_in_phase": task.get("state") in FINISHED,
                          **{k: info[k] for k in ("phase", "epoch", "step", "total_steps") if k in info}},
    }


def main() -> None:
    ap = runner.parser(__doc__)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60, help="length of each phase (the second ends earlier "
                                                              "if the consolidation finishes)")
    ap.add_argument("--write-share", type=float, default=0.2, help="share of requests that are writes")
    ap.add_argument("--facts-per-client", type=int, default=50, help="facts seeded in each client's namespace")
    ap.add_argument("--train-facts", type=int, default=30, help="facts of the topic consolidated in phase 2")
    ap.add_argument("--warmup-timeout", type=float, default=600, help="seconds for the warm-up consolidation")
    ap.add_argument("--api-threads", type=int, default=1, help="torch threads of the API process (embedding)")
    # One core is left to the API: the configuration for a worker that shares its host with the API
    # (measured on 2 cores: recall p95 ratio 1.22 with 1 training thread, 2.17 with 2, both niced).
    ap.add_argument("--worker-threads", type=int, default=1, help="torch threads of the training process")
    ap.add_argument("--worker-nice", type=int, default=None,
                    help="ENGRAM_CONSOLIDATION__WORKER_NICE for the worker (default: the worker's own default)")
    ap.add_argument("--redis-url", default=os.environ.get("ENGRAM_REDIS__URL", "redis://127.0.0.1:6379/0"))
    args = runner.parse(ap, json_help="only the JSON result on stdout")

    console = Console(stderr=True)
    tag = uuid.uuid4().hex[:8]
    tmp = Path(tempfile.mkdtemp(prefix="engram-load-"))
    # nothing becomes due by itself (a very high hot threshold): the only consolidation is the requested one
    s = Settings(data_dir=tmp / "data", torch_threads=args.api_threads, heat={"hot_threshold": 1e9},
                 redis={"url": args.redis_url, "embedded_fallback": False, "key_prefix": f"engram-load-{tag}"},
                 consolidation={"queue": f"consolidate-load-{tag}"})
    worker_env = {"ENGRAM_CONSOLIDATION__WORKER_THREADS": str(args.worker_threads)}
    if args.worker_nice is not None:
        worker_env["ENGRAM_CONSOLIDATION__WORKER_NICE"] = str(args.worker_nice)
    api = worker = None
    clients: list[Client] = []
    out: dict = {"clients": args.clients, "seconds": args.seconds, "write_share": args.write_share,
                 "cpus": len(os.sched_getaffinity(0)), "api_threads": args.api_threads,
                 "worker_threads": args.worker_threads,
                 "worker_nice": s.consolidation.worker_nice if args.worker_nice is None else args.worker_nice}
    try:
        with console.status("starting the API and a worker"):
            api = ApiServer(s, tmp / "api.log")
            worker = Worker(s, tmp / "worker.log", **worker_env)
        with console.status("seeding facts"):
            own = seed(api.url, args.clients, args.facts_per_client, args.train_facts)
        # A long-running worker has its base model loaded; a fresh one loads it within its first task. One
        # small consolidation first, so that "during" measures training, not a cold start.
        with console.status(f"warming the worker: consolidating {WARMUP_FACTS} facts"):
            warm = consolidate(api.url, WARMUP_TOPIC)
            if not warm.done.wait(args.warmup_timeout):
                raise SystemExit(f"the warm-up consolidation did not finish in {args.warmup_timeout} s")
            out["warmup"] = {"state": warm.state.get("state"),
                             "status": (warm.state.get("info") or {}).get("status")}
        clients = [Client(api.url, f"load-{i}", own[i], args.write_share, seed=i) for i in range(args.clients)]
        for c in clients:
            c.start()
        columns = [TextColumn("{task.description:>6}"), BarColumn(), TimeElapsedColumn(),
                   TextColumn("{task.fields[info]}")]
        with Progress(*columns, console=console, transient=False) as progress:
            idle, idle_s = run_phase("idle", clients, args.seconds, progress)
            watch = consolidate(api.url, TRAIN_TOPIC)
            during, during_s = run_phase("during", clients, args.seconds, progress, until=watch.done.is_set)
            watch.done.set()
        r = redis.Redis.from_url(args.redis_url)
        r.delete(*[f"celery-task-meta-{w.state.get('task_id')}" for w in (warm, watch)])
        out.update(report(idle.summary(idle_s), during.summary(during_s), watch.state))
    finally:
        for c in clients:
            c.stop.set()
        for c in clients:
            c.join(timeout=60)
        for p in (worker, api):
            if p is not None:
                p.stop()
        q = s.consolidation.queue
        r = redis.Redis.from_url(args.redis_url)
        for pattern in (Keys(s.redis.key_prefix).pattern(), f"{q}*", f"_kombu.binding.{q}*"):
            for key in r.scan_iter(match=pattern, count=1000):
                r.delete(key)
    if out.get("errors") == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        console.print(f"logs kept in {tmp}")
    runner.report(out, args)
    sys.exit(1 if out.get("errors") else 0)


if __name__ == "__main__":
    main()
